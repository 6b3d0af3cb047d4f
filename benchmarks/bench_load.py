"""Loading messages into pandas vs draining the same query with find_raw_batches.

    python benchmarks/bench_load.py [--messages 100000]

Seeds demo data into a throwaway embedded server, then times, each in a fresh process:
load_messages() for everything and for one month's conversations, beside a raw drain of
the same query (find_raw_batches over every message collection). Target: within 1.25x.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _harness as h  # noqa: E402

MONTH = {"since": "2026-07-01", "until": "2026-07-31"}


def _steps(params: dict) -> object:
    from claudelens_nb import Filter, load_messages
    from claudelens_nb.filters import matching_session_ids, message_query
    from claudelens_nb.store import collections as names
    from claudelens_nb.store.connection import connect

    db = connect(params["uri"], h.DB_NAME)
    flt = Filter(**params["filter"]) if params["filter"] else Filter()

    def load() -> int:
        return len(load_messages(flt, db=db))

    def drain() -> int:
        ids = matching_session_ids(db, flt) if params["filter"] else None
        q = message_query(flt, ids)
        n = 0
        for coll in names.message_collections(db):
            for batch in coll.find_raw_batches(q):
                n += len(batch)
        return n

    return {"load": load, "drain": drain}[params["what"]]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=100_000)
    ap.add_argument("--step")
    ap.add_argument("--params")
    args = ap.parse_args()
    if args.step:
        h.run_step(_steps(json.loads(args.params)))
        return
    with h.embedded_server() as (uri, _home):
        secs = h.seed(uri, args.messages)
        print(f"seeded {args.messages:,} messages in {secs:.1f}s ({args.messages / secs:,.0f}/s)")
        base = h.baseline_rss_mb("import claudelens_nb.query, pandas, pyarrow, pymongoarrow.api")
        print(f"interpreter with pandas/pyarrow/pymongoarrow imported: {base:.0f} MB\n")
        print(f"{'query':<12}{'load s':>9}{'drain s':>9}{'ratio':>8}{'rows':>9}{'load peak MB':>14}")
        for label, flt in (("all", {}), ("one month", MONTH)):
            # Warm the server's cache once so both sides see the same state.
            h.measure(__file__, "x", uri=uri, filter=flt, what="drain")
            drains = [h.measure(__file__, "x", uri=uri, filter=flt, what="drain") for _ in range(2)]
            loads = [h.measure(__file__, "x", uri=uri, filter=flt, what="load") for _ in range(2)]
            d = min(x["seconds"] for x in drains)
            best = min(loads, key=lambda x: x["seconds"])
            print(f"{label:<12}{best['seconds']:>9.2f}{d:>9.2f}{best['seconds'] / d:>7.2f}x"
                  f"{best['result']:>9,}{best['peak_mb']:>14.0f}")
        print("\ntarget: load within 1.25x of the raw drain")


if __name__ == "__main__":
    main()
