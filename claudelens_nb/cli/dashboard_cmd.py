"""claudelens-nb dashboard: serve the import/export dashboard with Voila."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    from ..dashboard import build_parser

    p = sub.add_parser("dashboard", help="serve the import/export dashboard (Voila) on 127.0.0.1")
    build_parser(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..dashboard import serve

    return serve(args.port, args.host, uri=args.uri, demo=not args.no_demo, open_browser=args.open,
                 max_kernels=args.max_kernels, idle_timeout=args.idle_timeout, preheat=args.preheat)
