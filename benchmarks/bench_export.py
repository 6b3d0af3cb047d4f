"""Export speed and memory against the raw drain and the naive analyst script.

    python benchmarks/bench_export.py                      # 100,000 messages, every format
    python benchmarks/bench_export.py --sizes 50000,200000 # peak memory per export size
    python benchmarks/bench_export.py --home /tmp/h        # reuse (or keep) the seeded server

Data: demo.seed_demo into an embedded SecantusDB server in a temporary CLAUDELENS_HOME
(sessions of 100 messages). Every measured step runs in a fresh subprocess, which reports
its wall time and its own peak RSS (ru_maxrss), so one step's memory never hides another's.

Client CPU includes the export's fetching process (a child: `exports/read/worker.py`), whose
own peak RSS is the `helper MB` column.

Every step runs --repeat times (default 3), round-robin, after one uncounted warm-up drain;
the table shows each step's median run by wall time and the worst peak memory of all runs.

Two times per step: `seconds` inside the child, from the first export call to its return
(imports and connecting done before), and `process s`, the child's whole life measured
from outside (interpreter start, imports, connecting, the work, exit): each beside the
same figure of `raw`.

Steps: `raw` drains the same query (all sessions, every message collection) with
find_raw_batches and does nothing with the bytes: the floor. `load` is
`load_messages()` (every message into a typed DataFrame). `naive_json` / `naive_csv`
are what an analyst would write: pd.DataFrame(list(collection.find(query))) per message
collection, concatenated, then to_json / to_csv. `export_<fmt>` is claudelens_nb.exports
with default options (secrets removed; auto-compression above 50 MB).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MESSAGES_PER_SESSION = 100
FORMATS = ["json", "jsonl", "csv", "parquet", "markdown"]
COMPARE = {"json": "naive_json", "jsonl": "naive_json", "csv": "naive_csv", "parquet": "naive_csv",
           "markdown": "naive_json", "pdf": "naive_json"}


# ---------------------------------------------------------------- steps (run in a child)

def _db():
    from claudelens_nb.store import connect

    return connect()


def step_raw(out: Path) -> int:
    from claudelens_nb.store import message_collections

    db = _db()
    n = 0
    for batch in db.sessions.find_raw_batches({}):
        n += len(batch)
    for coll in message_collections(db):
        for batch in coll.find_raw_batches({}):
            n += len(batch)
    return n


def _naive_frame():
    import pandas as pd

    from claudelens_nb.store import message_collections

    db = _db()
    frames = [pd.DataFrame(list(coll.find({}))) for coll in message_collections(db)]
    return pd.concat(frames, ignore_index=True)


def step_naive_json(out: Path) -> int:
    df = _naive_frame()
    path = out / "naive.json"
    df.to_json(path, orient="records", date_format="iso", default_handler=str)
    return path.stat().st_size


def step_naive_csv(out: Path) -> int:
    df = _naive_frame()
    path = out / "naive.csv"
    df.to_csv(path, index=False)
    return path.stat().st_size


def step_load(out: Path) -> int:
    from claudelens_nb import load_messages

    return int(load_messages(None, db=_db()).memory_usage(deep=False).sum())


def step_export(out: Path, fmt: str) -> int:
    from claudelens_nb.exports import export

    res = export(None, fmt, out / f"bench.{fmt}", db=_db())
    return res.size


def _server_cpu() -> float:
    """CPU seconds the embedded server process has used so far."""
    from claudelens_nb.store import server

    info = server.status()
    if info is None:
        return 0.0
    fields = Path(f"/proc/{info.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class HelperPeak:
    """The largest VmHWM seen among this process's children (ru_maxrss of children is no
    use: Linux carries the parent's high-water mark across fork and exec)."""

    def __init__(self) -> None:
        import threading

        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        me = os.getpid()
        while not self._stop.wait(0.05):
            for entry in Path("/proc").iterdir():
                if not entry.name.isdigit():
                    continue
                try:
                    status = (entry / "status").read_text()
                except OSError:
                    continue
                if f"\nPPid:\t{me}\n" not in status:
                    continue
                for line in status.splitlines():
                    if line.startswith("VmHWM:"):
                        self.peak_kb = max(self.peak_kb, int(line.split()[1]))

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak_kb / 1024


def run_step(name: str, out: Path) -> None:
    _db()  # connect (and import) before the clock starts
    if name.startswith("export_"):
        import claudelens_nb.exports  # noqa: F401 - module loading is not export work
    helper = HelperPeak()
    s0 = _server_cpu()
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    if name.startswith("export_"):
        size = step_export(out, name.removeprefix("export_"))
    else:
        size = globals()[f"step_{name}"](out)
    seconds = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)  # the export's fetching process
    print(json.dumps({
        "step": name, "seconds": seconds, "peak_mb": r1.ru_maxrss / 1024, "bytes": size,
        "client_cpu": r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime
        + kids.ru_utime + kids.ru_stime,
        "helper_peak_mb": helper.stop(),
        "server_cpu": _server_cpu() - s0,
    }))


# ---------------------------------------------------------------- driver

def _env(home: Path) -> dict[str, str]:
    env = os.environ.copy()
    env.pop("CLAUDELENS_MONGODB_URI", None)
    env["CLAUDELENS_HOME"] = str(home)
    env["CLAUDELENS_EXPORT_DIR"] = str(home / "exports")
    return env


def seed(home: Path, messages: int) -> None:
    """Seed `messages` demo messages into the server under `home` (kept when already there)."""
    code = f"""
import time
from claudelens_nb.store import connect
from claudelens_nb.demo import seed_demo, summarize
db = connect()
want = {messages // MESSAGES_PER_SESSION}
have = db.sessions.estimated_document_count()
if have != want:
    if have:
        db.client.drop_database(db.name)
        from claudelens_nb import state
        state.forget(db)
        db = connect()
    t = time.perf_counter()
    s = seed_demo(db, sessions=want, messages_per_session={MESSAGES_PER_SESSION}, seed=1)
    print(f"seeded {{s}} in {{time.perf_counter() - t:.0f}} s", flush=True)
else:
    print(f"reusing {{summarize(db)}}", flush=True)
"""
    subprocess.run([sys.executable, "-c", code], env=_env(home), check=True)


def measure(home: Path, step: str) -> dict:
    out = home / "bench-out"
    out.mkdir(exist_ok=True)
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, __file__, "--step", step, "--out", str(out)],
                          env=_env(home), capture_output=True, text=True)
    process_s = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"step {step} failed:\n{proc.stderr[-3000:]}")
    for f in out.iterdir():
        shutil.rmtree(f) if f.is_dir() else f.unlink()
    row = json.loads(proc.stdout.strip().splitlines()[-1])
    row["process_s"] = process_s
    return row


def median_run(runs: list[dict]) -> dict:
    """The run with the median wall time (its own CPU and memory figures kept together);
    peak memory is the worst of all runs."""
    ordered = sorted(runs, key=lambda r: r["seconds"])
    row = dict(ordered[(len(ordered) - 1) // 2])
    row["peak_mb"] = max(r["peak_mb"] for r in runs)
    row["helper_peak_mb"] = max(r.get("helper_peak_mb", 0) for r in runs)
    return row


def table(rows: list[dict]) -> str:
    by = {r["step"]: r for r in rows}
    raw = by.get("raw", {}).get("seconds")
    raw_p = by.get("raw", {}).get("process_s")
    lines = [f"{'step':<16}{'seconds':>9}{'x raw':>8}{'process s':>11}{'x raw':>7}{'x naive':>9}"
             f"{'client CPU':>12}{'server CPU':>12}{'peak MB':>9}{'helper MB':>11}{'output MB':>11}"]
    for r in rows:
        naive_step = COMPARE.get(r["step"].removeprefix("export_"))
        naive = by.get(naive_step, {}).get("seconds") if r["step"].startswith("export_") else None
        x_raw = f"{r['seconds'] / raw:.2f}" if raw else "-"
        x_naive = f"{r['seconds'] / naive:.2f}" if naive else "-"
        x_raw_p = f"{r['process_s'] / raw_p:.2f}" if raw_p else "-"
        lines.append(f"{r['step']:<16}{r['seconds']:>9.2f}{x_raw:>8}{r['process_s']:>11.2f}"
                     f"{x_raw_p:>7}{x_naive:>9}"
                     f"{r['client_cpu']:>12.1f}{r['server_cpu']:>12.1f}"
                     f"{r['peak_mb']:>9.0f}{r.get('helper_peak_mb', 0):>11.0f}"
                     f"{r['bytes'] / 1e6:>11.1f}")
    return "\n".join(lines)


def stop(home: Path) -> None:
    code = "from claudelens_nb.store import server; server.stop_server()"
    subprocess.run([sys.executable, "-c", code], env=_env(home), check=False)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--messages", type=int, default=100_000)
    ap.add_argument("--sizes", help="comma-separated message counts: peak memory per export size")
    ap.add_argument("--formats", default=",".join(FORMATS))
    ap.add_argument("--home", help="CLAUDELENS_HOME to use and keep (default: a temporary one)")
    ap.add_argument("--no-naive", action="store_true", help="skip the naive analyst script")
    ap.add_argument("--repeat", type=int, default=3,
                    help="rounds of every step; the table shows each step's median run (default 3)")
    ap.add_argument("--step", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.step:
        run_step(args.step, Path(args.out))
        return
    formats = [f for f in args.formats.split(",") if f]
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else [args.messages]
    base = Path(args.home) if args.home else Path(tempfile.mkdtemp(prefix="bench-export-"))
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; data under {base}")
    for n in sizes:
        home = base if len(sizes) == 1 else base / f"n{n}"
        home.mkdir(parents=True, exist_ok=True)
        seed(home, n)
        steps = ["raw"]
        if not args.sizes and not args.no_naive:
            steps += ["naive_json", "naive_csv"]
        steps += ["load"] + [f"export_{f}" for f in formats]
        measure(home, "raw")  # warm-up, not counted: the server's first reads are cold
        runs: dict[str, list[dict]] = {step: [] for step in steps}
        for round_no in range(1, args.repeat + 1):  # round-robin: host drift hits every step alike
            for step in steps:
                r = measure(home, step)
                runs[step].append(r)
                print(f"  [{round_no}/{args.repeat}] {step}: {r['seconds']:.1f} s, client CPU "
                      f"{r['client_cpu']:.1f} s, server CPU {r['server_cpu']:.1f} s, "
                      f"peak {r['peak_mb']:.0f} MB", flush=True)
        rows = [median_run(runs[step]) for step in steps]
        print(f"\n{n:,} messages ({n // MESSAGES_PER_SESSION:,} conversations):")
        print(table(rows), flush=True)
        if not args.home:
            stop(home)
    print(f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
