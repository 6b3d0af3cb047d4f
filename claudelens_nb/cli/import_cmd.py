"""claudelens-nb import / validate: the import engine from the command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import ClaudeLensError, ErrorCode, ValidationFailed
from . import sync_cmd
from .common import database, human_size, password


def _pairs(values: list[str] | None, what: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for v in values or []:
        if "=" not in v:
            raise ValidationFailed(f"{what} {v!r}: expected NAME=VALUE", code=ErrorCode.INVALID_ARGUMENT)
        k, _, val = v.partition("=")
        out[k.strip()] = val.strip()
    return out


IMPORT_DESCRIPTION = """\
Import conversations into the database: our exports (JSON, JSONL, CSV, Parquet, their
folders and zips, encrypted ones with the password), upstream ClaudeLens's own JSON export, Claude Code
transcripts (a projects folder, one project, one .jsonl, or a zip of them), and claude.ai or
ChatGPT data exports. The kind is told from the content. The file is validated first (see
'claudelens-nb validate'); a file with errors writes nothing. Every import can be undone.
"""

VALIDATE_DESCRIPTION = """\
Check a file the way 'import' would and print what importing it would do: its kind, counts,
dates and cost, the field mapping with sample values, conversations that exist already, and
every error and warning (record and field named). Writes nothing. Exit code 0 when the file
can be imported, 1 when it has errors.
"""


def _add_reading_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--map", action="append", metavar="SOURCE=TARGET",
                   help="read the source field SOURCE as TARGET (a canonical field such as title, "
                        "created_at or message.content), or 'skip' to leave it out; message "
                        "fields are spelt message.NAME; repeatable")
    p.add_argument("--password", help="password of an encrypted zip (visible in the process list; "
                                      "prefer --password-file)")
    p.add_argument("--password-file", metavar="FILE",
                   help="read the zip's password from FILE (its first line)")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("import", help="import conversations (our exports, Claude Code, claude.ai, ChatGPT)",
                       description=IMPORT_DESCRIPTION,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("path", nargs="?",
                   help="a .json, .jsonl, .csv, .parquet or .zip file, an export's folder, or a "
                        "folder of .jsonl transcripts")
    p.add_argument("--strategy", choices=["skip", "replace", "merge"], default=None,
                   help="what to do with conversations that exist already (default: merge for "
                        "Claude Code transcripts, which only grow; skip for everything else)")
    p.add_argument("--dry-run", action="store_true", help="validate and count; write nothing")
    p.add_argument("--on-conflict", action="append", metavar="ID=STRATEGY",
                   help="skip, replace or merge for one conversation id, over --strategy; repeatable")
    _add_reading_options(p)
    p.add_argument("--undo", metavar="JOB_ID", help="undo an earlier import (see --history for ids)")
    p.add_argument("--claude-code", action="store_true",
                   help="import Claude Code's own transcripts (~/.claude/projects)")
    sync_cmd.add_options(p)
    p.add_argument("--history", action="store_true",
                   help="list earlier imports, newest first, with what each did")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--owner", metavar="USER",
                   help="the ClaudeLens user who owns the imported projects: a user id, user name, "
                        "email or API key from upstream's users collection (default: the only "
                        "user, when the database has exactly one)")
    p.set_defaults(handler=run_import)

    v = sub.add_parser("validate", help="check a file and show what importing it would do",
                       description=VALIDATE_DESCRIPTION,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    v.add_argument("path", help="the file or folder to check (anything 'import' accepts)")
    _add_reading_options(v)
    v.set_defaults(handler=run_validate)


HISTORY_COLUMNS = ("inserted", "replaced", "merged", "skipped", "failed")


def print_history(jobs: list[dict]) -> None:
    """Earlier imports under a header that names every column (conversation counts)."""
    if not jobs:
        print("no imports yet")
        return
    print("conversations each import inserted (new), replaced, merged (messages added), "
          "skipped (kept as they were) and failed:")
    head = "".join(f"{c:>9}" for c in HISTORY_COLUMNS)
    print(f"{'job':<24}  {'started (UTC)':<16}  {'status':<9}  {'source':<28}{head}")
    for job in jobs:
        c = job.get("counts") or {}
        counts = "".join(f"{c.get(k, 0):>9,}" for k in HISTORY_COLUMNS)
        source = str(job.get("source_name") or "")
        source = source if len(source) <= 28 else source[:27] + "…"
        print(f"{job['job_id']:<24}  {job['created_at']:%Y-%m-%d %H:%M}  {job['status']:<9}  "
              f"{source:<28}{counts}")


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

    report = validate_file(args.path, mapping=_pairs(args.map, "--map"), password=password(args),
                           db=database(args))
    print_report(report)
    return 0 if report.ok else 1


def run_import(args: argparse.Namespace) -> int:
    from ..imports import import_file, import_history, undo_import
    from ..progress import TqdmProgress

    db = database(args)
    if args.history:
        print_history(import_history(db=db))
        return 0
    if args.undo:
        from ..imports.undo import undo_summary

        print(f"import {args.undo} undone: {undo_summary(undo_import(args.undo, db=db))}")
        return 0
    if args.claude_code:
        from ..sources import claude_code

        path = claude_code.default_projects_dir()
    elif args.path:
        path = Path(args.path)
    else:
        print("error: give a PATH, --claude-code, --undo JOB_ID or --history", file=sys.stderr)
        return 2
    if sync_cmd.wants_sync(args, path):  # only what changed since the last import is read
        return sync_cmd.run(args, db, path)
    with TqdmProgress(disable=args.quiet, unit="conv") as bar:
        try:
            result = import_file(
                path, strategy=args.strategy, per_conversation=_pairs(args.on_conflict, "--on-conflict"),
                mapping=_pairs(args.map, "--map"), dry_run=args.dry_run, progress=bar, password=password(args), db=db,
                owner=args.owner,
            )
        except ClaudeLensError:
            bar.close()
            raise
    verb = "would import" if result.status == "dry_run" else f"import {result.status}"
    print(f"{verb}: {result.inserted} inserted, {result.replaced} replaced, {result.merged} merged, "
          f"{result.skipped} skipped, {result.failed} failed; {result.messages_written} messages written")
    print_outcome(result)
    return 0 if result.status in ("completed", "dry_run") and not result.failed else 1


def print_outcome(result) -> None:  # noqa: ANN001 - an ImportResult or a SyncResult
    """An import's errors (the first 20), its warnings and how to undo it."""
    for e in result.errors[:20]:
        print(f"  error: {e}")
    print_warnings(result)
    if result.job_id:
        print(f"job {result.job_id} (undo: claudelens-nb import --undo {result.job_id})")
