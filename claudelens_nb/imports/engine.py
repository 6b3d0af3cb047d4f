"""validate_file and import_file: the two passes over an input.

Pass 1 ("Validating") reads everything and writes nothing; errors stop the import there.
Pass 2 ("Importing") reads again and writes a batch at a time; "Processing messages"
recomputes derived session fields from the stored messages where a write found messages
already present; "Finalizing" refreshes project stats and closes the job.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from contextlib import nullcontext
from datetime import UTC, datetime
from pathlib import Path

from pymongo.database import Database

from ..bulk import fewer_collections
from ..errors import Cancelled, ClaudeLensError, ErrorCode, ValidationFailed
from ..progress import CancelToken, Progress, ProgressCallback, Tee, Throttled, check, emit
from ..reading import ReadReport
from ..security import DEFAULT_LIMITS, Limits
from ..store import facts
from ..store.owners import resolve_owner
from . import import_warnings, jobs
from .canonical import Context, normalize_conversation
from .mapping import check_mapping
from .model import ImportResult, ValidationReport
from .readers import Source, open_source
from .scan import find_conflicts, scan
from .writer import Pipeline, Writer, refresh_project_stats

STRATEGIES = ("skip", "replace", "merge")


def _db(db: Database | None) -> Database:
    if db is not None:
        return db
    from ..store import connect

    return connect()


# Transcripts only ever grow: re-importing one should add the new messages, not skip it.
SOURCE_DEFAULT_STRATEGY = {"claude_code": "merge"}


def default_strategy(kind: str) -> str:
    """The strategy used when the caller leaves it to the source (strategy=None)."""
    return SOURCE_DEFAULT_STRATEGY.get(kind, "skip")


def _check_strategies(strategy: str | None, per_conversation: Mapping[str, str] | None) -> dict[str, str]:
    if strategy is not None and strategy not in STRATEGIES:
        raise ValidationFailed(f"strategy {strategy!r}: choose skip, replace or merge",
                               code=ErrorCode.INVALID_ARGUMENT)
    out = {}
    for cid, s in (per_conversation or {}).items():
        if s not in STRATEGIES:
            raise ValidationFailed(f"conversation {cid!r}: strategy {s!r}: choose skip, replace or merge",
                                   code=ErrorCode.INVALID_ARGUMENT)
        out[str(cid)] = s
    return out


def validate_file(
    path: str | Path,
    *,
    mapping: Mapping[str, str] | None = None,
    password: str | None = None,
    db: Database | None = None,
    limits: Limits | None = None,
    source_name: str | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> ValidationReport:
    """Check an input and report what importing it would do. Writes nothing."""
    user = check_mapping(mapping)
    limits = limits or DEFAULT_LIMITS
    with open_source(path, password=password, limits=limits, name=source_name) as src:
        ctx = Context(src.name, user, datetime.now(UTC))
        result = scan(src, ctx, limits, user_mapping=user, progress=progress, cancel=cancel)
    result.report.conflicts = find_conflicts(_db(db), result.incoming)
    return result.report


def _summary(report: ValidationReport, limit: int = 10) -> str:
    lines = [str(p) for p in report.errors[:limit]]
    more = report.error_count - len(lines)
    if more > 0:
        lines.append(f"... and {more} more")
    return f"{report.file_name}: {report.error_count} validation error(s):\n  " + "\n  ".join(lines)


def import_file(
    path: str | Path,
    *,
    strategy: str | None = None,
    per_conversation: Mapping[str, str] | None = None,
    mapping: Mapping[str, str] | None = None,
    dry_run: bool = False,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    password: str | None = None,
    db: Database | None = None,
    source_name: str | None = None,
    limits: Limits | None = None,
    owner: str | None = None,
    source: Source | None = None,
) -> ImportResult:
    """Validate, then write an input's conversations; see docs/formats.md (Import).

    `source`, an already opened input, is read instead of opening `path` (what an incremental
    sync passes: only the transcript lines not imported yet).

    `owner` (a user's id, name, email or API key in upstream's `users`) owns the projects
    written; by default the database's only user, if it has exactly one.

    `strategy` (skip, replace, merge) is for conversations that exist already; left out, the
    source's default (`default_strategy`, the one place it is said, for the CLI and the
    dashboard too): merge for Claude Code transcripts (so a re-import after sessions grew
    adds just the new messages), skip for everything else.
    """
    per = _check_strategies(strategy, per_conversation)
    user = check_mapping(mapping)
    limits = limits or DEFAULT_LIMITS
    db = _db(db)
    owner_id = resolve_owner(db, owner)
    base = datetime.now(UTC)
    opened = (nullcontext(source) if source is not None
              else open_source(path, password=password, limits=limits, name=source_name))
    with fewer_collections(), opened as src:
        strategy = strategy or default_strategy(src.kind)
        ctx = Context(src.name, user, base)
        scanned = scan(src, ctx, limits, user_mapping=user, progress=progress, cancel=cancel)
        report = scanned.report
        if not report.ok:
            duplicates = any(p.code == ErrorCode.DUPLICATE_IDS for p in report.errors)
            code = ErrorCode.DUPLICATE_IDS if duplicates else ErrorCode.VALIDATION_FAILED
            raise ValidationFailed(_summary(report), code=code)
        total = report.stats["conversations"]
        if dry_run:
            conflicts = {c.id for c in find_conflicts(db, scanned.incoming)}
            res = ImportResult(job_id=None, status="dry_run", kind=src.kind, conversations=total,
                               warnings=report.warning_count,
                               warning_messages=[str(p) for p in report.warnings])
            for cid in scanned.incoming:
                action = per.get(cid, strategy) if cid in conflicts else "insert"
                field = {"insert": "inserted", "replace": "replaced", "merge": "merged",
                         "skip": "skipped"}[action]
                setattr(res, field, getattr(res, field) + 1)
            return res
        job_id = jobs.new_job(
            db, source_name=src.name, sha256=src.sha256, size=src.size, kind=src.kind,
            mapping=user, strategy=strategy, per_conversation=per, relative_base=base,
            totals={"conversations": total, "messages": report.stats["messages"]},
        )
        import_warnings.keep(db, job_id, report.warnings, report.warning_count)
        writer = Writer(db, job_id, strategy, per, cancel, owner=owner_id, kind=src.kind)
        throttled = Throttled(
            lambda e: jobs.update_progress(db, job_id, e, writer.counts.as_dict()), interval=1.0)
        tell = Tee(progress, throttled)
        status = "completed"
        done = 0
        pipe = Pipeline(writer)
        try:
            emit(tell, "Importing", 0, total)
            ctx2 = Context(src.name, user, base)
            for i, item in enumerate(src.items(ReadReport(kind=src.kind))):
                check(cancel)
                ctx2.file, ctx2.line = item.file or src.name, item.line
                rec = normalize_conversation(ctx2, item.data, i, 1 << 62)
                if rec is None:
                    continue
                if writer.add(rec):
                    check(cancel)
                    done += pipe.submit(writer.prepare())
                    emit(tell, "Importing", done, total, rec.get("title") or rec["id"])
            check(cancel)
            if writer.pending:
                done += pipe.submit(writer.prepare())
            done += pipe.wait()
            emit(tell, "Importing", done, total)
            n = len(writer.uncertain)
            emit(tell, "Processing messages", 0, n)
            for k in range(0, n, 200):
                check(cancel)
                writer.recompute(writer.uncertain[k:k + 200])
                emit(tell, "Processing messages", min(n, k + 200), n)
            emit(tell, "Processing messages", n, n)
        except Cancelled:
            pipe.close()
            writer.drop_pending()
            status = "cancelled"
        except BaseException as exc:
            pipe.close()
            with contextlib.suppress(Exception):
                writer.finish_indexes()
            writer.counts.errors.append(
                str(exc) if isinstance(exc, ClaudeLensError) else f"{type(exc).__name__}: {exc}")
            jobs.finish(db, job_id, "failed", writer.counts.as_dict(), writer.counts.errors)
            facts.invalidate(db)
            raise
        pipe.close()
        emit(tell, "Finalizing", 0, 1)
        writer.finish_indexes()
        facts.invalidate(db)
        refresh_project_stats(db, writer.touched_projects)
        jobs.finish(db, job_id, status, writer.counts.as_dict(), writer.counts.errors)
        emit(progress, "Finalizing", 1, 1)
        return ImportResult(
            job_id=str(job_id), status=status, **writer.counts.as_dict(),
            errors=list(writer.counts.errors), warnings=report.warning_count, kind=src.kind,
            warning_messages=[str(p) for p in report.warnings],
            conversations=total,
        )


def job_progress(job_id: str, *, db: Database | None = None) -> Progress | None:
    """The last progress an import job recorded (for a UI polling another process)."""
    job = jobs.get_job(_db(db), job_id)
    p = job.get("progress") or {}
    return Progress(p.get("stage", ""), p.get("done", 0), p.get("total")) if p else None
