"""claudelens-nb demo: write deterministic demo conversations."""

from __future__ import annotations

import argparse

from .common import database


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="seed realistic, deterministic demo data")
    p.add_argument("--sessions", type=int, default=40, help="conversations to create (default 40)")
    p.add_argument("--messages-per-session", type=int, default=30,
                   help="messages in each conversation (default 30)")
    p.add_argument("--seed", type=int, default=42,
                   help="random seed: the same seed gives the same data (default 42)")
    p.add_argument("--single-collection", action="store_true",
                   help="write to one `messages` collection, like old ClaudeLens deployments")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..demo import seed_demo

    summary = seed_demo(
        database(args), args.sessions, args.messages_per_session, args.seed,
        single_collection=args.single_collection,
    )
    print(f"database now holds {summary}")
    return 0
