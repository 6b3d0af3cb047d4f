"""claudelens-nb db start|stop|status: the embedded server by hand."""

from __future__ import annotations

import argparse

from ..config import settings
from ..store import server


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("db", help="start, stop or show the embedded SecantusDB server")
    p.add_argument("action", choices=["start", "stop", "status"],
                   help="start the embedded server (if not running), stop it, or show its state")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    home = settings().home
    if args.action == "start":
        started = server.ensure_server(home)
        print(f"running: pid {started.pid}, {started.uri}, data in {started.storage_path}")
        return 0
    if args.action == "stop":
        print("stopped" if server.stop_server(home) else "not running")
        return 0
    info = server.status(home)
    if info is None:
        print(f"not running (data folder {home})")
        return 3
    print(f"running: pid {info.pid}, {info.uri}, data in {info.storage_path}")
    return 0
