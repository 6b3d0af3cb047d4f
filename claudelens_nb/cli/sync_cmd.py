"""`claudelens-nb import` on Claude Code transcripts: the checkpointed sync and --watch."""

from __future__ import annotations

import argparse
import signal
import sys
from datetime import datetime
from pathlib import Path

from pymongo.database import Database

from .common import human_size


def add_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--watch", action="store_true",
                   help="with Claude Code transcripts: keep following them and import new lines "
                        "within seconds of Claude Code writing them; Ctrl-C stops")
    p.add_argument("--interval", type=float, default=1.0, metavar="SECONDS",
                   help="how often --watch looks for changed transcripts (default 1)")


def wants_sync(args: argparse.Namespace, path: Path) -> bool:
    """Claude Code transcripts merged as by default: read only what changed (checkpoints)."""
    if args.watch:
        return True
    if (args.dry_run or args.strategy not in (None, "merge") or args.map or args.on_conflict
            or args.password or args.password_file or not path.is_dir()):
        return False
    if args.claude_code:
        return True
    from ..sources import detect

    return detect(path) == "claude_code"


def _files(result) -> str:  # noqa: ANN001 - a SyncResult
    states = ", ".join(f"{n} {state}" for state, n in sorted(result.files.items()))
    return f"files: {states}; {human_size(result.bytes_read)} read"


def run(args: argparse.Namespace, db: Database, path: Path) -> int:
    from ..imports import sync_claude_code
    from ..progress import TqdmProgress
    from .import_cmd import print_outcome

    if args.watch:
        return _watch(args, db, path)
    with TqdmProgress(disable=args.quiet, unit="conv") as bar:
        result = sync_claude_code(path, db=db, progress=bar, owner=getattr(args, "owner", None))
    if result.status == "unchanged":
        print(f"unchanged: nothing new since the last import ({_files(result)})")
        return 0
    print(f"import {result.status}: {result.inserted} inserted, {result.merged} merged, "
          f"{result.failed} failed; {result.messages_written} messages written ({_files(result)})")
    print_outcome(result)
    return 0 if result.status == "completed" and not result.failed else 1


def _watch(args: argparse.Namespace, db: Database, path: Path) -> int:
    from ..imports import watch_claude_code
    from ..imports.sync import projects_root
    from ..progress import CancelToken
    from ..sources import detect
    from .import_cmd import print_warnings

    if not path.is_dir() or (not args.claude_code and detect(path) != "claude_code"):
        print(f"error: --watch follows a Claude Code projects folder; {path} is not one",
              file=sys.stderr)
        return 2
    stop = CancelToken()
    previous = signal.signal(signal.SIGINT, lambda *_: stop.cancel())

    def told(result) -> None:  # noqa: ANN001 - a SyncResult
        print(f"{datetime.now():%H:%M:%S} {result.messages_written} message(s) written: "
              f"{result.inserted} inserted, {result.merged} merged ({_files(result)})", flush=True)
        print_warnings(result)

    print(f"watching {projects_root(path)} every {args.interval:g} s (Ctrl-C stops)", flush=True)
    try:
        syncs = watch_claude_code(path, db=db, interval=args.interval, stop=stop, on_sync=told,
                                  on_error=lambda e: print(f"error: {e} (still watching)",
                                                           file=sys.stderr, flush=True),
                                  owner=getattr(args, "owner", None))
    finally:
        signal.signal(signal.SIGINT, previous)
    print(f"stopped after {syncs} import(s)", flush=True)
    return 0
