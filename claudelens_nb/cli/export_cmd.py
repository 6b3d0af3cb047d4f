"""claudelens-nb export: write matching conversations as JSON, JSONL, CSV, Markdown, PDF or Parquet."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..errors import ExportError
from .common import database, human_size


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="export conversations (json, jsonl, csv, markdown, pdf, parquet)")
    p.add_argument("--format", "-f", required=True,
                   choices=["json", "jsonl", "csv", "markdown", "md", "pdf", "parquet"])
    p.add_argument("-o", "--output", metavar="PATH",
                   help="file or folder to write (default: a generated name in the export folder)")
    f = p.add_argument_group("filters")
    f.add_argument("--since", help="first day (YYYY-MM-DD) or ISO time")
    f.add_argument("--until", help="last day, inclusive (YYYY-MM-DD) or ISO time")
    f.add_argument("--project", action="append", default=[], help="project name, path or id (repeatable)")
    f.add_argument("--model", action="append", default=[], help="model name (repeatable)")
    f.add_argument("--tag", action="append", default=[], help="tag (repeatable)")
    f.add_argument("--min-cost", help="minimum conversation cost in USD")
    f.add_argument("--max-cost", help="maximum conversation cost in USD")
    f.add_argument("--message-type", action="append", default=[],
                   help="user, assistant, system, tool_use, tool_result or summary (repeatable)")
    f.add_argument("--conversation", action="append", default=[], help="conversation id (repeatable)")
    f.add_argument("--conversations-file", metavar="FILE", help="file with one conversation id per line")
    o = p.add_argument_group("options")
    o.add_argument("--no-messages", action="store_true", help="conversations only")
    o.add_argument("--no-metadata", action="store_true", help="leave out stored metadata")
    o.add_argument("--no-tool-calls", action="store_true", help="leave out tool_use/tool_result messages")
    o.add_argument("--keep-secrets", action="store_true", help="do not remove API keys and tokens")
    o.add_argument("--redact-pii", action="store_true", help="redact e-mail addresses and phone numbers")
    o.add_argument("--anonymize", action="store_true", help="replace user identities with pseudonyms")
    o.add_argument("--compress", action="store_true", help="write a zip with a manifest")
    o.add_argument("--csv-tables", choices=["both", "conversations", "messages"], default="both")
    o.add_argument("--chunk-size", type=int, default=200, help="conversations per chunk")
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
        raise ExportError(f"cannot read the {what} {path}: {getattr(exc, 'strerror', None) or exc}") from None
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
    password = args.password
    if args.password_file:
        lines = _read_lines(args.password_file, "password file")
        if not lines:
            raise ExportError(f"the password file {args.password_file} is empty")
        password = lines[0]
    return {
        "include_messages": not args.no_messages, "include_metadata": not args.no_metadata,
        "include_tool_calls": not args.no_tool_calls, "remove_secrets": not args.keep_secrets,
        "redact_pii": args.redact_pii, "anonymize": args.anonymize, "compress": args.compress,
        "password": password, "chunk_size": args.chunk_size, "csv_tables": args.csv_tables,
    }


def run(args: argparse.Namespace) -> int:
    from ..export import export
    from ..progress import TqdmProgress

    flt, options = filter_from_args(args), options_from_args(args)
    db = database(args)
    with TqdmProgress(disable=args.quiet, unit="conv") as bar:
        result = export(flt, args.format, args.output, options, progress=bar, db=db)
    extra = ", encrypted" if result.encrypted else (", zipped" if result.compressed else "")
    print(f"wrote {result.path} ({human_size(result.size)}{extra}): {result.conversations} "
          f"conversations, {result.messages} messages, ${result.total_cost:,.2f} "
          f"[job {result.job_id[:8]}, sha256 {result.sha256[:12]}]")
    return 0
