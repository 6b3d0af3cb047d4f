"""claudelens-nb import / validate: the import engine from the command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import ClaudeLensError, ValidationFailed
from .common import database, human_size


def _pairs(values: list[str] | None, what: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for v in values or []:
        if "=" not in v:
            raise ValidationFailed(f"{what} {v!r}: expected NAME=VALUE")
        k, _, val = v.partition("=")
        out[k.strip()] = val.strip()
    return out


def _password(args: argparse.Namespace) -> str | None:
    if getattr(args, "password_file", None):
        try:
            return Path(args.password_file).read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as exc:
            raise ValidationFailed(f"cannot read the password file: {exc.strerror}") from None
    return getattr(args, "password", None)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("import", help="import conversations (our exports, Claude Code, claude.ai, ChatGPT)")
    p.add_argument("path", nargs="?", help="a .json, .jsonl, .csv or .zip file, or a folder of .jsonl")
    p.add_argument("--strategy", choices=["skip", "replace", "merge"], default=None,
                   help="what to do with conversations that exist already (default: merge for "
                        "Claude Code transcripts, which only grow; skip for everything else)")
    p.add_argument("--dry-run", action="store_true", help="validate and count; write nothing")
    p.add_argument("--map", action="append", metavar="SOURCE=TARGET",
                   help="map a source field to a target field (or 'skip'); repeatable")
    p.add_argument("--on-conflict", action="append", metavar="ID=STRATEGY",
                   help="a strategy for one conversation; repeatable")
    p.add_argument("--password", help="password of an encrypted archive")
    p.add_argument("--password-file", help="read the archive password from this file")
    p.add_argument("--undo", metavar="JOB_ID", help="undo an earlier import")
    p.add_argument("--claude-code", action="store_true",
                   help="import Claude Code's own transcripts (~/.claude/projects)")
    p.add_argument("--history", action="store_true", help="list earlier imports, newest first")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(handler=run_import)

    v = sub.add_parser("validate", help="check a file and show what importing it would do")
    v.add_argument("path")
    v.add_argument("--map", action="append", metavar="SOURCE=TARGET")
    v.add_argument("--password")
    v.add_argument("--password-file")
    v.set_defaults(handler=run_validate)


def print_report(report) -> None:  # noqa: ANN001 - a ValidationReport
    s = report.stats
    start, end = s.get("date_range") or (None, None)
    kind = report.kind + (" (zip, encrypted)" if report.encrypted else " (zip)" if report.archive else "")
    print(f"File: {report.file_name} — {kind}, {human_size(report.size)}")
    print(f"  {s.get('conversations', 0)} conversations, {s.get('messages', 0)} messages, "
          f"total cost ${s.get('total_cost', 0):.4f}")
    if start:
        print(f"  dates {start:%Y-%m-%d %H:%M} .. {end:%Y-%m-%d %H:%M} UTC")
    if report.mapping:
        print("Field mapping (source -> target: samples):")
        for m in report.mapping:
            samples = ", ".join(repr(x)[:40] for x in m.samples)
            print(f"  {m.source:<28} -> {m.target:<22} {samples}")
    if report.conflicts:
        print(f"Conflicts: {len(report.conflicts)} conversation(s) exist already:")
        for c in report.conflicts:
            when = f" updated {c.existing_updated:%Y-%m-%d}" if c.existing_updated else ""
            print(f"  {c.id}  {(c.title or '')[:40]!r}: existing {c.existing_messages} msgs "
                  f"${c.existing_cost:.4f}{when} vs incoming {c.incoming_messages} msgs "
                  f"${c.incoming_cost:.4f}")
    for label, items, count in (("Errors", report.errors, report.error_count),
                                ("Warnings", report.warnings, report.warning_count)):
        if count:
            print(f"{label} ({count}):")
            for p in items[:50]:
                print(f"  {p}")
            if count > 50:
                print(f"  ... and {count - 50} more")
    print("OK: ready to import" if report.ok else "NOT OK: fix the errors above")


def print_warnings(result) -> None:  # noqa: ANN001 - an ImportResult
    """The warning count and the first ones (skipped lines with file:line, unpriced models)."""
    from ..imports.import_warnings import summary

    for line in summary(result.warning_messages, result.warnings):
        print(line)


def run_validate(args: argparse.Namespace) -> int:
    from ..imports import validate_file

    report = validate_file(args.path, _pairs(args.map, "--map"), password=_password(args),
                           db=database(args))
    print_report(report)
    return 0 if report.ok else 1


def run_import(args: argparse.Namespace) -> int:
    from ..imports import import_file, import_history, undo_import
    from ..progress import TqdmProgress

    db = database(args)
    if args.history:
        for job in import_history(db=db):
            c = job.get("counts") or {}
            print(f"{job['job_id']}  {job['created_at']:%Y-%m-%d %H:%M}  {job['status']:<9} "
                  f"{job.get('source_name')}  +{c.get('inserted', 0)} ~{c.get('replaced', 0)} "
                  f"&{c.get('merged', 0)} ={c.get('skipped', 0)} !{c.get('failed', 0)}")
        return 0
    if args.undo:
        counts = undo_import(args.undo, db=db)
        print("undone: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in counts.items()))
        return 0
    if args.claude_code:
        from ..sources import claude_code

        path = claude_code.default_projects_dir()
    elif args.path:
        path = Path(args.path)
    else:
        print("error: give a PATH, --claude-code, --undo JOB_ID or --history", file=sys.stderr)
        return 2
    with TqdmProgress(disable=args.quiet, unit="conv") as bar:
        try:
            result = import_file(
                path, args.strategy, _pairs(args.on_conflict, "--on-conflict"),
                _pairs(args.map, "--map"), args.dry_run, bar, password=_password(args), db=db,
            )
        except ClaudeLensError:
            bar.close()
            raise
    verb = "would import" if result.status == "dry_run" else f"import {result.status}"
    print(f"{verb}: {result.inserted} inserted, {result.replaced} replaced, {result.merged} merged, "
          f"{result.skipped} skipped, {result.failed} failed; {result.messages_written} messages written")
    for e in result.errors[:20]:
        print(f"  error: {e}")
    print_warnings(result)
    if result.job_id:
        print(f"job {result.job_id} (undo: claudelens-nb import --undo {result.job_id})")
    return 0 if result.status in ("completed", "dry_run") and not result.failed else 1
