"""How fast the dashboard's filter pickers and preview counts are on 100,000 messages.

    python benchmarks/bench_preview.py [--messages 100000] [--keep]

Seeds demo data (30 messages per conversation) into a throw-away database on the embedded
server (or CLAUDELENS_MONGODB_URI), then times `query.filter_options()` and
`export.preview()` for the filters the Export tab sends. Target: under one second each.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from typing import Any


def timed(fn: Callable[[], Any], runs: int = 3) -> tuple[float, float, Any]:
    times, result = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), max(times), result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=100_000)
    ap.add_argument("--per-conversation", type=int, default=30)
    ap.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = ap.parse_args(argv)

    own_home = "CLAUDELENS_HOME" not in os.environ and "CLAUDELENS_MONGODB_URI" not in os.environ
    if own_home:
        os.environ["CLAUDELENS_HOME"] = tempfile.mkdtemp(prefix="bench-preview-")
    from claudelens_nb.demo import seed_demo
    from claudelens_nb.exports import preview
    from claudelens_nb.query import Filter, filter_options
    from claudelens_nb.store import connect

    db = connect(db_name=f"bench_preview_{uuid.uuid4().hex[:8]}")
    sessions = max(1, args.messages // args.per_conversation)
    t0 = time.perf_counter()
    summary = seed_demo(db, sessions=sessions, messages_per_session=args.per_conversation, seed=11)
    print(f"seeded {summary} in {time.perf_counter() - t0:.1f}s")

    opts = filter_options(db=db)
    first, last = opts["first_date"], opts["last_date"]
    mid = first + (last - first) / 2
    cases: list[tuple[str, Callable[[], Any]]] = [
        ("filter_options()", lambda: filter_options(db=db)),
        ("preview(all)", lambda: preview(Filter(), db=db)),
        ("preview(date range + project)",
         lambda: preview(Filter(since=first.date(), until=mid.date(), projects=["my-app"]), db=db)),
        ("preview(tags + cost range)",
         lambda: preview(Filter(tags=["bug"], min_cost=0.1, max_cost=5), db=db)),
        ("preview(model)", lambda: preview(Filter(models=[opts["models"][0]]), db=db)),
        ("preview(message types)", lambda: preview(Filter(message_types=["user", "assistant"]), db=db)),
        ("preview(all, page 50)", lambda: preview(Filter(), db=db, page=50, page_size=8)),
    ]
    worst = 0.0
    print(f"{'call':40s} {'median':>8s} {'max':>8s}  result")
    for name, fn in cases:
        med, mx, res = timed(fn)
        worst = max(worst, med)
        shown = (f"{res.conversations} conversations, {res.messages} messages"
                 if hasattr(res, "conversations") else f"{len(res['models'])} models, {len(res['tags'])} tags")
        print(f"{name:40s} {med * 1000:7.0f}ms {mx * 1000:7.0f}ms  {shown}")
    if not args.keep:
        db.client.drop_database(db.name)
        if own_home:
            from claudelens_nb.store.server import stop_server

            stop_server()
    print(f"slowest median: {worst * 1000:.0f} ms ({'OK' if worst < 1 else 'OVER'} the 1 s target)")
    return 0 if worst < 1 else 1


if __name__ == "__main__":
    sys.exit(main())
