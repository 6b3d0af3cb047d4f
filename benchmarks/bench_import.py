"""Import throughput and memory.

1. N messages (default 100,000) of our JSON (written straight from demo.generate via
   records) imported with `import_file` into an empty database on an embedded SecantusDB
   server, beside a plain `insert_many` of the same documents in batches of 1,000 into
   another empty database on the same server. Prints messages/s for both and the ratio
   (target >= 0.7x).
2. A ~100 MB JSON file imported in a fresh subprocess: its peak RSS (ru_maxrss; target
   < 400 MB).

    python benchmarks/bench_import.py [--messages 100000] [--skip-memory]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bson import ObjectId

from claudelens_nb import demo, records
from claudelens_nb.security import MB, Limits
from claudelens_nb.store import connection, server
from claudelens_nb.store.schema import collection_for_write

PER_SESSION = 100


def write_json(path: Path, messages: int, seed: int = 5) -> int:
    """Our JSON envelope, streamed conversation by conversation."""
    projects = {p[1]: ObjectId() for p in demo.PROJECTS}
    with open(path, "w", encoding="utf-8") as fh:
        fh.write('{"version": "1.0.0", "export_date": "2026-11-29T00:00:00.000Z", '
                 '"metadata": {}, "conversations": [\n')
        for i, (session, docs) in enumerate(demo.generate(messages // PER_SESSION, PER_SESSION, seed)):
            name, ppath, _ = session.pop("_project")
            conv = records.conversation_record(session, {"_id": projects[ppath], "name": name,
                                                         "path": ppath}, docs)
            fh.write((",\n" if i else "") + json.dumps(records.record_to_json(conv), ensure_ascii=False))
        fh.write("\n]}\n")
    return path.stat().st_size


def plain_insert(db, path: Path) -> tuple[int, float]:
    """The same documents the import stores, built first, then only insert_many timed."""
    import ijson

    batches: dict[str, list[dict]] = {}
    sessions = []
    with open(path, "rb") as fh:
        for conv in ijson.items(fh, "conversations.item", use_float=True):
            for m in conv["messages"]:
                m["timestamp"] = records.parse_iso(m["timestamp"])
                doc = records.message_document(conv["id"], m)
                batches.setdefault(collection_for_write(db, doc["timestamp"]).name, []).append(doc)
            conv["created_at"] = records.parse_iso(conv["created_at"])
            sessions.append(records.session_document(conv, ObjectId()))
    n = sum(len(v) for v in batches.values())
    t = time.perf_counter()
    for coll, docs in batches.items():
        for i in range(0, len(docs), 1000):
            db[coll].insert_many(docs[i:i + 1000], ordered=False)
    for i in range(0, len(sessions), 1000):
        db["sessions"].insert_many(sessions[i:i + 1000], ordered=False)
    return n, time.perf_counter() - t


def our_import(db, path: Path, limits: Limits) -> tuple[int, float]:
    from claudelens_nb.imports import import_file

    t = time.perf_counter()
    result = import_file(path, db=db, limits=limits)
    took = time.perf_counter() - t
    assert result.status == "completed", result
    return result.messages_written, took


MEMORY_CHILD = """
import resource, sys, time
from claudelens_nb.store import connection
from claudelens_nb.imports import import_file
db = connection.connect(sys.argv[2], "bench_memory")
t = time.perf_counter()
r = import_file(sys.argv[1], db=db)
hwm = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM"))
print(r.messages_written, time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, hwm)
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=100_000)
    ap.add_argument("--memory-mb", type=int, default=100)
    ap.add_argument("--skip-memory", action="store_true")
    args = ap.parse_args()
    home = Path(tempfile.mkdtemp(prefix="claudelens-bench-import-"))
    work = home / "files"
    work.mkdir()
    info = server.ensure_server(home)
    try:
        if not args.skip_memory:
            # First, while this process is small: a forked child's ru_maxrss starts at its
            # parent's size on Linux, so the parent must not hold the 100k documents yet.
            big = work / "big.json"
            probe = work / "probe.json"
            probe_size = write_json(probe, 2000, seed=9)
            est = int(2000 * (args.memory_mb * MB - 2 * MB) / probe_size) // PER_SESSION * PER_SESSION
            size = write_json(big, est, seed=9)
            print(f"memory file: {est:,} messages, {size / MB:.1f} MB")
            out = subprocess.run([sys.executable, "-c", MEMORY_CHILD, str(big), info.uri],
                                 capture_output=True, text=True, check=True, env=dict(os.environ))
            n, took, rss_kb, hwm_kb = out.stdout.split()
            print(f"import of the {size / MB:.0f} MB file: {int(n):,} messages in {float(took):.1f} s, "
                  f"peak RSS {int(rss_kb) / 1024:.0f} MB (ru_maxrss; VmHWM {int(hwm_kb) / 1024:.0f} MB; "
                  "target < 400 MB)")
            big.unlink()
        path = work / "bench.json"
        size = write_json(path, args.messages)
        print(f"file: {args.messages:,} messages of our JSON, {size / MB:.1f} MB")
        # The demo's messages are large: 100k of them pass the 100 MB JSON limit, so this
        # run raises the byte limit (the limit itself is tested elsewhere).
        limits = Limits(json_bytes=max(size + 1, 100 * MB))
        plain_db = connection.connect(info.uri, "bench_plain")
        n_plain, t_plain = plain_insert(plain_db, path)
        ours_db = connection.connect(info.uri, "bench_import")
        n_ours, t_ours = our_import(ours_db, path, limits)
        rate_plain, rate_ours = n_plain / t_plain, n_ours / t_ours
        print(f"plain insert_many (batches of 1,000): {n_plain:,} messages in {t_plain:.1f} s "
              f"= {rate_plain:,.0f} messages/s")
        print(f"import_file (validate + write):       {n_ours:,} messages in {t_ours:.1f} s "
              f"= {rate_ours:,.0f} messages/s")
        print(f"ratio: {rate_ours / rate_plain:.2f}x (target >= 0.70x)")
    finally:
        connection.close_all()
        server.stop_server(home)


if __name__ == "__main__":
    main()
