"""claudelens-nb export: write matching conversations as JSON, JSONL, CSV, Markdown, PDF or Parquet."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from ..errors import ErrorCode, ExportError
from .common import database, human_size, password

DESCRIPTION = """\
Export the conversations matching the filters (all of them without filters) to a file,
recorded in the export history (claudelens-nb history).

Where it goes (-o): without it, a generated name in the export folder
($CLAUDELENS_EXPORT_DIR). A name ending in .zip is a zip with a manifest.json of checksums;
--compress or a password add .zip to any other name. CSV and Parquet write two tables:
under a name ending in .zip they are zipped, under any other name (out.csv, x.parquet, dir/)
they are a folder of that name holding conversations.csv|.parquet, messages.csv|.parquet and
manifest.json; with --tables conversations|messages the name is that one table's file.
Everything written here can be read back by 'claudelens-nb import'.
"""

EPILOG = """\
examples:
  claudelens-nb export -f json --since 2026-06-01 --until 2026-06-30 --project my-app
  claudelens-nb export -f parquet -o june.parquet        # june.parquet/messages.parquet ...
  claudelens-nb export -f csv -o messages.csv --tables messages
  claudelens-nb export -f pdf --conversation 4a0d2b73-... --password-file secret.txt
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="export conversations (json, jsonl, csv, markdown, pdf, parquet)",
                       description=DESCRIPTION, epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--format", "-f", required=True,
                   choices=["json", "jsonl", "csv", "markdown", "md", "pdf", "parquet"],
                   help="json: lossless, re-importable; jsonl: one conversation per line; csv: "
                        "conversations and messages tables; markdown (md) and pdf: for people; "
                        "parquet: typed tables for pandas, DuckDB, Spark")
    p.add_argument("-o", "--output", metavar="PATH",
                   help="file or folder to write (see above); an existing folder gets a generated "
                        "name inside (default: a generated name in the export folder)")
    f = p.add_argument_group("filters (combined with AND; repeatable ones with OR)")
    f.add_argument("--since", metavar="DATE", help="first day (YYYY-MM-DD) or ISO time")
    f.add_argument("--until", metavar="DATE", help="last day, inclusive (YYYY-MM-DD) or ISO time")
    f.add_argument("--project", action="append", default=[], metavar="NAME",
                   help="project name, path or id (repeatable)")
    f.add_argument("--model", action="append", default=[], metavar="MODEL",
                   help="model name, e.g. claude-sonnet-4-5 (repeatable)")
    f.add_argument("--tag", action="append", default=[], metavar="TAG", help="tag (repeatable)")
    f.add_argument("--min-cost", metavar="USD", help="minimum conversation cost in USD")
    f.add_argument("--max-cost", metavar="USD", help="maximum conversation cost in USD")
    f.add_argument("--message-type", action="append", default=[], metavar="TYPE",
                   help="keep only messages of this type: user, assistant, system, tool_use, "
                        "tool_result or summary (repeatable)")
    f.add_argument("--conversation", action="append", default=[], metavar="ID",
                   help="conversation id (repeatable)")
    f.add_argument("--conversations-file", metavar="FILE",
                   help="file with one conversation id per line (# starts a comment)")
    o = p.add_argument_group("options")
    o.add_argument("--no-messages", action="store_true", help="conversations only, without their messages")
    o.add_argument("--no-metadata", action="store_true",
                   help="leave out stored metadata (cwd, git branch, versions, raw message data)")
    o.add_argument("--no-tool-calls", action="store_true", help="leave out tool_use/tool_result messages")
    o.add_argument("--keep-secrets", action="store_true",
                   help="do not remove API keys and tokens (removed by default)")
    o.add_argument("--redact-pii", action="store_true", help="redact e-mail addresses and phone numbers")
    o.add_argument("--anonymize", action="store_true", help="replace user identities with pseudonyms")
    o.add_argument("--compress", action="store_true",
                   help="write a zip with a manifest.json of checksums (automatic above "
                        "$CLAUDELENS_AUTO_COMPRESS_MB, default 50 MB)")
    o.add_argument("--tables", "--csv-tables", dest="tables",
                   choices=["both", "conversations", "messages"], default="both",
                   help="CSV and Parquet: which tables to write (default both)")
    o.add_argument("--chunk-size", type=int, default=200, metavar="N",
                   help="conversations read per chunk (memory vs speed; default 200)")
    pw = o.add_mutually_exclusive_group()
    pw.add_argument("--password", help="encrypt the zip with AES-256 (visible in the process list; "
                                       "prefer --password-file)")
    pw.add_argument("--password-file", metavar="FILE", help="read the password from the first line of FILE")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.set_defaults(handler=run)


def _read_lines(path: str, what: str) -> list[str]:
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        code = ErrorCode.FILE_NOT_FOUND if isinstance(exc, FileNotFoundError) else ErrorCode.FILE_UNREADABLE
        raise ExportError(f"cannot read the {what} {path}: {getattr(exc, 'strerror', None) or exc}",
                          code=code) from None
    return [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]


def filter_from_args(args: argparse.Namespace) -> dict[str, Any]:
    ids = list(args.conversation)
    if args.conversations_file:
        ids += _read_lines(args.conversations_file, "conversations file")
    flt: dict[str, Any] = {
        "since": args.since, "until": args.until, "projects": args.project, "models": args.model,
        "tags": args.tag, "min_cost": args.min_cost, "max_cost": args.max_cost,
        "message_types": args.message_type, "conversation_ids": ids,
    }
    return {k: v for k, v in flt.items() if v not in (None, "", [])}


def options_from_args(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "include_messages": not args.no_messages, "include_metadata": not args.no_metadata,
        "include_tool_calls": not args.no_tool_calls, "remove_secrets": not args.keep_secrets,
        "redact_pii": args.redact_pii, "anonymize": args.anonymize, "compress": args.compress,
        "password": password(args), "chunk_size": args.chunk_size, "tables": args.tables,
    }


def run(args: argparse.Namespace) -> int:
    from ..exports import export
    from ..progress import TqdmProgress

    flt, options = filter_from_args(args), options_from_args(args)
    db = database(args)
    with TqdmProgress(disable=args.quiet, unit="conversations") as bar:
        result = export(flt, args.format, args.output, options=options, progress=bar, db=db)
    extra = ", encrypted" if result.encrypted else (", zipped" if result.compressed else "")
    where = str(result.path)
    if result.path.is_dir():
        where += f"{os.sep} (a folder: {', '.join(sorted(p.name for p in result.path.iterdir()))})"
    print(f"wrote {where} ({human_size(result.size)}{extra}): {result.conversations} "
          f"conversations, {result.messages} messages, ${result.total_cost:,.2f} "
          f"[job {result.job_id[:8]}, sha256 {result.sha256[:12]}]")
    return 0
