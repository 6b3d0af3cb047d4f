"""`export()`: a job document, chunks streamed through a writer, then archive and checksum."""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from pymongo.database import Database
from pymongo.errors import PyMongoError

from .. import __version__, records
from ..bulk import fewer_collections
from ..errors import Cancelled, ClaudeLensError, ErrorCode, ExportError
from ..filters import Filter, coerce_filter, get_db
from ..progress import CancelToken, ProgressCallback, Tee, Throttled, check, emit
from ..security import sha256_file
from . import archive, files, jobs
from .encoding import FORMAT_VERSION
from .formats import Setup, Writer
from .formats import get as get_format
from .options import EXTENSIONS, ExportOptions, check_format, coerce_options
from .preview import TOOL_TYPES, totals
from .read import CollectionScan, LateMessage, Prefetch, by_chunks, open_stream
from .sanitize import Sanitizer

GENERATOR = f"claudelens_nb {__version__}"
_ACTIVE: set[str] = set()
_ACTIVE_LOCK = threading.Lock()
_GUESS_BYTES_PER_MESSAGE = 1000  # of JSON, to guess early whether an export will be zipped


@dataclass
class ExportResult:
    job_id: str
    path: Path
    format: str
    size: int
    sha256: str
    conversations: int
    messages: int
    total_cost: float
    status: str = "completed"
    compressed: bool = False
    encrypted: bool = False


def active_jobs() -> set[str]:
    with _ACTIVE_LOCK:
        return set(_ACTIVE)


# ---------------------------------------------------------------- shaping records

def _shape(conv: dict[str, Any], opts: ExportOptions) -> None:
    """Apply the include_* options in place; metadata keys sorted so output is stable."""
    if not opts.include_messages:
        conv["messages"] = []
    elif not opts.include_tool_calls:
        conv["messages"] = [m for m in conv["messages"] if m.get("type") not in TOOL_TYPES]
    if opts.include_metadata:
        # Message metadata comes sorted from records.message_record.
        conv["metadata"] = dict(sorted(conv["metadata"].items()))
    else:
        conv["metadata"] = {"custom_fields": conv["metadata"].get("custom_fields") or {}}
        for m in conv["messages"]:
            m["metadata"] = {}


# ---------------------------------------------------------------- writers

# ---------------------------------------------------------------- paths

def _target(path: str | Path | None, created: datetime, job_id: str, ext: str) -> Path:
    if path is None:
        return files.export_dir() / files.generated_name(created, job_id, ext)
    p = Path(path).expanduser()
    if p.is_dir() and not files.is_export_folder(p):
        return p / files.generated_name(created, job_id, ext)
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"cannot create the folder {p.parent}: {exc.strerror}",
                          code=ErrorCode.INSUFFICIENT_PERMISSIONS) from None
    return p


def _with_suffix(p: Path, ext: str) -> Path:
    return p if p.name.lower().endswith("." + ext) else p.with_name(p.name + "." + ext)


# ---------------------------------------------------------------- export

def export(
    flt: Filter | dict | None,
    format: str,
    path: str | Path | None = None,
    *,
    options: ExportOptions | dict | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    db: Database | None = None,
    owner: str | None = None,
) -> ExportResult:
    """Export the conversations matching `flt` in `format`; see docs/formats.md for the layouts."""
    fmt = check_format(format)
    opts = coerce_options(options)
    flt = coerce_filter(flt)
    db = get_db(db)
    jobs.cleanup_once(db)
    job = jobs.new_job(db, fmt=fmt, filters=flt.to_dict(), options=opts.to_dict(), owner=owner)
    job_id = job["_id"]
    with _ACTIVE_LOCK:
        _ACTIVE.add(job_id)
    recorder = jobs.ProgressRecorder(db, job_id)
    throttled = Throttled(recorder, 0.5)
    report = Tee(progress, throttled)
    run = _Run(db, flt, fmt, opts, job, report, cancel, path, recorder)
    try:
        with fewer_collections():
            return run.go()
    except (Cancelled, KeyboardInterrupt):
        throttled.flush()  # the job records how far it got (the history shows "7 of 40")
        run.discard()
        _finish(db, job_id, status="cancelled", error="cancelled by the user", report=report)
        raise
    except ClaudeLensError as exc:
        run.discard()
        _finish(db, job_id, status="failed", error=f"[{exc.code}] {exc}", report=report)
        raise
    except PyMongoError as exc:
        run.discard()
        reason = f"the database was lost during the export ({type(exc).__name__})"
        _finish(db, job_id, status="failed", error=reason, report=report)
        raise ExportError(reason) from None
    except OSError as exc:
        run.discard()
        reason = f"writing the export failed: {exc.strerror or exc} ({exc.filename or run.final})"
        _finish(db, job_id, status="failed", error=reason, report=report)
        raise ExportError(reason, code=ErrorCode.INSUFFICIENT_PERMISSIONS if exc.errno == 13 else None) from None
    except Exception as exc:
        run.discard()
        reason = f"unexpected {type(exc).__name__}: {exc}"
        _finish(db, job_id, status="failed", error=reason, report=report)
        raise ExportError(reason) from exc
    finally:
        recorder.close()
        with _ACTIVE_LOCK:
            _ACTIVE.discard(job_id)


def _finish(db: Database, job_id: str, *, status: str, error: str, report: Any) -> None:
    # The database may be the thing that failed: recording the outcome is best effort,
    # and a job left "running" is marked failed by the next cleanup.
    with contextlib.suppress(Exception):
        jobs.update(db, job_id, status=status, error=error, completed_at=jobs.now())


class _Run:
    def __init__(self, db: Database, flt: Filter, fmt: str, opts: ExportOptions,
                 job: dict[str, Any], report: Any, cancel: CancelToken | None,
                 path: str | Path | None, recorder: jobs.ProgressRecorder) -> None:
        self.db, self.flt, self.fmt, self.opts, self.job = db, flt, fmt, opts, job
        self.report, self.cancel, self.path, self.recorder = report, cancel, path, recorder
        self.job_id: str = job["_id"]
        self.format = get_format(fmt)
        self.per_conversation = self.format.per_conversation
        self.work: Path | None = None
        self.final: Path | None = None
        self.part: Path | None = None
        self.writer: Writer | None = None
        self.reader: Prefetch | CollectionScan | None = None
        self.zip_alongside = False  # JSON/JSONL: deflate while encoding (see `_write`)
        self.background: archive.BackgroundArchive | None = None

    def discard(self) -> None:
        """Remove every partial output (and stop recording progress)."""
        self.recorder.close()
        self._stop_streaming()
        files.remove_quietly(self.part)
        if self.work is not None:
            shutil.rmtree(self.work, ignore_errors=True)

    def _stop_streaming(self) -> None:
        """Close the reader and drop the writer and the zip written alongside."""
        if self.reader is not None:
            self.reader.close()
        if self.writer is not None:
            with contextlib.suppress(Exception):
                self.writer.abort()
            self.writer = None
        self._drop_background()

    def _reset(self) -> None:
        """Stop streaming and empty the work folder, to start again."""
        assert self.work is not None
        self._stop_streaming()
        shutil.rmtree(self.work, ignore_errors=True)
        self.work.mkdir(mode=0o700)

    def _drop_background(self) -> None:
        if self.background is not None:
            self.background.abort()
            self.background = None

    def _write(self, base: str, meta: dict[str, Any], total: int
               ) -> tuple[Sanitizer, list[tuple[Path, str]], int, int]:
        """Stream every conversation from the reader into the format's member files."""
        assert self.reader is not None and self.work is not None
        fmt, opts = self.fmt, self.opts
        sanitizer = Sanitizer(remove_secrets=opts.remove_secrets, redact_pii=opts.redact_pii,
                              anonymize=opts.anonymize)
        if self.zip_alongside:
            part = self.work / "archive.zip.part"
            files.create_private(part)
            self.background = archive.BackgroundArchive(part, f"{base}.{fmt}", opts.password)
        def section(number: int, title: str | None) -> None:
            emit(self.report, "Exporting", number, total, title)
            check(self.cancel)

        scan = self.reader if isinstance(self.reader, CollectionScan) else None
        position = scan.positions.__getitem__ if scan is not None else None
        writer, members = self.format.open_writer(
            Setup(self.work, base, meta, opts, sanitizer, self.background, on_section=section,
                  position=position))
        self.writer = writer
        n_convs = n_msgs = 0
        emit(self.report, "Exporting", 0, total)
        for batch in self.reader.iter(self.cancel):
            for conv in batch:
                _shape(conv, opts)
            if self.format.sanitize == "tables":
                sanitizer.table_fields(batch)
            elif self.format.sanitize == "records":
                sanitizer.conversations(batch)
            check(self.cancel)
            if self.per_conversation:  # slow writers: progress moves with each conversation
                for conv in batch:
                    writer.write([conv])
                    n_convs += 1
                    n_msgs += len(conv["messages"])
                    if not self.format.reports_sections:  # else: as the writer reaches it
                        emit(self.report, "Exporting", n_convs, total, conv.get("title"))
                    check(self.cancel)
                continue
            writer.write(batch)
            n_convs += len(batch)
            n_msgs += sum(len(c["messages"]) for c in batch)
            emit(self.report, "Exporting", n_convs, total,
                 batch[-1].get("title") if batch else None)
        return sanitizer, members, n_convs, n_msgs

    def _archive(self, members: list[tuple[Path, str]], manifest: dict[str, Any],
                 plain_size: int) -> Path:
        """The zip of `members` and `manifest`: the one written alongside, or one made now."""
        assert self.work is not None
        if self.background is not None:
            emit(self.report, "Compressing", 0, unit="bytes")
            self.part = self.background.dest
            self.background.finish(manifest)
            self.background = None
            return self.part
        self.part = self.work / "archive.zip.part"
        files.create_private(self.part)
        done = 0

        def tick() -> None:
            nonlocal done
            check(self.cancel)
            done += 1 << 20
            emit(self.report, "Compressing", min(done, plain_size), plain_size, unit="bytes")

        archive.write_archive(self.part, members, manifest, password=self.opts.password, tick=tick)
        return self.part

    def go(self) -> ExportResult:
        db, opts, fmt = self.db, self.opts, self.fmt
        created: datetime = self.job["created_at"]
        jobs.update(db, self.job_id, status="running", started_at=jobs.now())
        emit(self.report, "Counting", 0)
        t = totals(db, self.flt, include_tool_calls=opts.include_tool_calls,
                   include_messages=opts.include_messages)
        meta = {
            "total_conversations": t.conversations,
            "total_messages": t.messages,
            "total_cost_usd": float(t.total_cost),
            "date_range": t.date_range,
            "filters": self.flt.to_dict(),
            "generator": GENERATOR,
            "export_date": created,
            "title": f"ClaudeLens Export - {created.date().isoformat()}",
        }
        single_table = self.format.tables and opts.tables != "both"
        ext = fmt if single_table else EXTENSIONS[fmt]
        self.final = _target(self.path, created, self.job_id, ext)
        layout = files.layout(self.final, fmt, self.format.tables and not single_table,
                              compress=opts.compress, encrypt=opts.password is not None)
        base = self.final.name.rsplit(".", 1)[0] if "." in self.final.name else self.final.name
        self.work = self.final.parent / f".{self.final.name}.{self.job_id[:8]}.work"
        self.work.mkdir(mode=0o700)
        # A big JSON export will be zipped: deflating it while it is encoded uses the
        # core the encoder leaves idle. If it ends up small after all, the zip is dropped.
        self.zip_alongside = self.format.zips_alongside and (
            layout == "zip" or t.messages * _GUESS_BYTES_PER_MESSAGE >= opts.compress_threshold // 2)
        self.reader = open_stream(db, self.flt, order=self.format.order,
                                  matched=t.conversations, chunk_size=opts.chunk_size)
        try:
            sanitizer, members, n_convs, n_msgs = self._write(base, meta, t.conversations)
        except LateMessage:
            # A session's endedAt is behind its messages: start again, fetching by id.
            self._reset()
            self.reader = by_chunks(db, self.flt, opts.chunk_size, order=self.format.order)
            sanitizer, members, n_convs, n_msgs = self._write(base, meta, t.conversations)
        assert self.writer is not None
        self.writer.close()
        self.writer = None
        check(self.cancel)
        plain_size = sum(p.stat().st_size for p, _ in members)
        zipped = layout == "zip" or (layout == "file" and plain_size > opts.compress_threshold)
        manifest = {
            "format": fmt, "version": FORMAT_VERSION, "generator": GENERATOR,
            "created_at": records.iso(created), "job_id": self.job_id,
            "filters": self.flt.to_dict(), "options": opts.to_dict(),
            "counts": {"conversations": n_convs, "messages": n_msgs,
                       "total_cost_usd": float(t.total_cost)},
            "sanitizing": sanitizer.applied(), "encrypted": opts.password is not None,
        }
        if zipped:
            self.final = _with_suffix(self.final, "zip")
            source = self._archive(members, manifest, plain_size)
        elif layout == "folder":
            self._drop_background()
            archive.write_folder_manifest(self.work, members, manifest)
            source = self.work
        else:
            self._drop_background()
            source = members[0][0]
        emit(self.report, "Finalizing", n_convs, n_convs)
        check(self.cancel)
        os.chmod(source, 0o700 if source.is_dir() else 0o600)
        if source.is_dir():  # the folder's tables and manifest: owner-only, as single files
            for member in source.iterdir():
                os.chmod(member, 0o600)
        if files.is_export_folder(self.final) or (source.is_dir() and self.final.is_file()):
            files.remove_quietly(self.final)  # an earlier export to the same name
        os.replace(source, self.final)
        self.part = self.final  # removed again if recording the job fails
        if self.work.exists():
            shutil.rmtree(self.work, ignore_errors=True)
        self.work = None
        if self.final.is_dir():
            size = sum(p.stat().st_size for p in self.final.iterdir())
            digest = sha256_file(self.final / archive.MANIFEST)  # it holds every table's sha256
        else:
            size = self.final.stat().st_size
            digest = sha256_file(self.final)
        result = ExportResult(
            job_id=self.job_id, path=self.final, format=fmt, size=size, sha256=digest,
            conversations=n_convs, messages=n_msgs, total_cost=float(t.total_cost),
            compressed=zipped, encrypted=opts.password is not None,
        )
        emit(self.report, "Finalizing", n_convs, n_convs)
        self.recorder.close()
        jobs.update(
            db, self.job_id, status="completed", completed_at=jobs.now(), size=size,
            sha256=digest, file_name=self.final.name, path=str(self.final), compressed=zipped,
            conversations=n_convs, messages=n_msgs, total_cost=result.total_cost,
            sanitizing=sanitizer.applied(),
            progress={"stage": "Done", "done": n_convs, "total": n_convs, "item": None},
        )
        self.part = None
        return result
