"""The embedded SecantusDB server's write path: the same documents inserted under each option.

    python benchmarks/bench_server_writes.py [--lines 20000] [--repeat 3] [--only TEXT]

Imports a generated Claude Code folder once (default server) to get the exact documents an
import writes (messages in monthly collections, sessions, projects) and their indexes, then
for each server setting starts a fresh `secantusd-py` in a temporary folder, creates the same
indexes and times insert_many of every document (batches of 1,000, unordered), with one
writer and with parallel writers (one thread per collection group). Prints documents per
second and the ratio to the default. `--sync-on-commit` (fsync per commit) is measured as the
more durable reference; it is not what claudelens_nb runs.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bson.raw_bson import RawBSONDocument
from pymongo import MongoClient

from claudelens_nb.sources.sample import write_projects
from claudelens_nb.store import connection, server

SETTINGS: list[tuple[str, list[str]]] = [
    ("default (as claudelens_nb starts it)", []),
    ("--standalone", ["--standalone"]),
    ("--oplog-max-entries 1000", ["--oplog-max-entries", "1000"]),
    ("--oplog-max-entries 10000000", ["--oplog-max-entries", "10000000"]),
    ("--cache-size 256M", ["--cache-size", "256M"]),
    ("--cache-size 4G", ["--cache-size", "4G"]),
    ("--standalone --cache-size 4G", ["--standalone", "--cache-size", "4G"]),
    ("--sync-on-commit (more durable)", ["--sync-on-commit"]),
]


def _start(storage: Path, flags: list[str]) -> tuple[subprocess.Popen, str]:
    port = server._free_port()
    cmd = [*server._executable(), "--host", "127.0.0.1", "--port", str(port),
           "--storage-path", str(storage), "--log-level", "WARNING", *flags]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    uri = f"mongodb://127.0.0.1:{port}/?directConnection=true"
    deadline = time.monotonic() + 60
    while not server.ping(uri, timeout_ms=500):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"secantusd-py {' '.join(flags)} did not start")
        time.sleep(0.2)
    return proc, uri


def _documents(lines: int, tmp: Path) -> tuple[dict[str, list[RawBSONDocument]], dict[str, list], int]:
    """Every document an import of a generated folder writes, raw, with each collection's indexes."""
    import claudelens_nb

    root = tmp / "projects"
    write_projects(root, sessions=max(1, lines // 1000), lines=lines)
    with_home = tmp / "source-server"
    info = server.ensure_server(with_home)
    try:
        db = connection.connect(info.uri, "source")
        claudelens_nb.import_file(root, db=db)
        raw = MongoClient(info.uri, document_class=RawBSONDocument)["source"]
        docs, indexes = {}, {}
        for name in db.list_collection_names():
            if name in ("import_jobs", "import_undo") or name.startswith("system."):
                continue
            docs[name] = list(raw[name].find())
            indexes[name] = [(v["key"], {k: x for k, x in v.items() if k in ("unique", "sparse")}, n)
                             for n, v in db[name].index_information().items() if n != "_id_"]
        size = sum(len(d.raw) for ds in docs.values() for d in ds)
    finally:
        connection.close_all()
        server.stop_server(with_home)
    return docs, indexes, size


def _insert(uri: str, docs: dict[str, list[RawBSONDocument]], indexes: dict[str, list],
            writers: int) -> float:
    client = MongoClient(uri, maxPoolSize=writers + 2)
    db = client["bench"]
    for name, specs in indexes.items():
        for key, opts, iname in specs:
            db[name].create_index(list(key), name=iname, **opts)

    batches = [(name, ds[i:i + 1000]) for name, ds in docs.items() for i in range(0, len(ds), 1000)]

    def write(part: list[tuple[str, list[RawBSONDocument]]]) -> None:
        for name, batch in part:
            db[name].insert_many(batch, ordered=False)

    t = time.perf_counter()
    with ThreadPoolExecutor(writers) as pool:  # batches dealt round-robin to the writers
        list(pool.map(write, [batches[k::writers] for k in range(writers)]))
    seconds = time.perf_counter() - t
    client.close()
    return seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=3,
                    help="rounds over every setting, after a warm-up run (medians shown)")
    ap.add_argument("--only", action="append", metavar="TEXT",
                    help="only the settings whose label holds TEXT (the default is always run)")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="claudelens-bench-writes-"))
    try:
        docs, indexes, size = _documents(args.lines, tmp)
        n = sum(len(v) for v in docs.values())
        print(f"{n:,} documents ({size / 1e6:.1f} MB BSON) in {len(docs)} collections, "
              f"{sum(len(v) for v in indexes.values())} secondary indexes")
        runs = [(label, flags, 1) for label, flags in SETTINGS]
        runs[1:1] = [("default, 2 parallel writers", [], 2), ("default, 4 parallel writers", [], 4)]
        if args.only:
            runs = runs[:1] + [r for r in runs[1:] if any(t in r[0] for t in args.only)]
        times: dict[str, list[float]] = {label: [] for label, _, _ in runs}

        def once(flags: list[str], writers: int) -> float:
            storage = Path(tempfile.mkdtemp(dir=tmp))
            proc, uri = _start(storage, flags)
            try:
                return _insert(uri, docs, indexes, writers)
            finally:
                proc.terminate()
                proc.wait(30)
                shutil.rmtree(storage, ignore_errors=True)

        once([], 1)  # warm-up: page cache, imports
        for _ in range(args.repeat):  # round-robin, so a slow minute hits every setting alike
            for label, flags, writers in runs:
                times[label].append(once(flags, writers))
        base = statistics.median(times[runs[0][0]])
        fastest = min(times[runs[0][0]])
        print("  (median and fastest run; on a shared machine the fastest is the steadier figure)")
        for label, _, _ in runs:
            med, best = statistics.median(times[label]), min(times[label])
            print(f"  {label:<40} {n / med:>7,.0f} docs/s median x{base / med:.2f}, fastest "
                  f"{best:5.2f} s ({n / best:,.0f} docs/s, {size / 1e6 / best:.1f} MB/s) "
                  f"x{fastest / best:.2f}  (runs: {', '.join(f'{x:.2f}' for x in times[label])})",
                  flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
