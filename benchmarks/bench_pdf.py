"""PDF export: time and peak memory as the number of conversations grows.

    python benchmarks/bench_pdf.py                          # 200 and 1,000 conversations
    python benchmarks/bench_pdf.py --conversations 200,1000,3000 --messages-per-conversation 30

Data: demo.seed_demo into a fresh database on a throw-away embedded SecantusDB server
(`_harness.embedded_server`). Each export runs in a fresh subprocess, which reports its
wall time and its own peak RSS (ru_maxrss), so one size's memory never hides another's.
Bounded memory means the peak stays flat while conversations (and pages) grow.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import DB_NAME, embedded_server, measure, run_step, seed  # noqa: E402


def step_export(uri: str, db_name: str, out: str) -> dict[str, int]:
    from pypdf import PdfReader

    from claudelens_nb.exports import export
    from claudelens_nb.store import connection

    db = connection.connect(uri, db_name)
    res = export(None, "pdf", Path(out), db=db)
    pages = len(PdfReader(res.path).pages)
    return {"bytes": res.size, "pages": pages, "conversations": res.conversations}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--conversations", default="200,1000",
                    help="comma-separated conversation counts (default 200,1000)")
    ap.add_argument("--messages-per-conversation", type=int, default=30)
    ap.add_argument("--step", help=argparse.SUPPRESS)
    ap.add_argument("--params", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.step:
        params = json.loads(args.params)
        run_step(lambda: step_export(**params))
        return 0

    per = args.messages_per_conversation
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    print(f"{'conversations':>13}{'messages':>10}{'pages':>8}{'seconds':>9}{'peak MB':>9}"
          f"{'output MB':>11}")
    for n in (int(s) for s in args.conversations.split(",") if s):
        with embedded_server() as (uri, home):
            db_name = f"{DB_NAME}_{n}"
            seed(uri, n * per, per_session=per, seed=1, db_name=db_name)
            out = Path(tempfile.mkdtemp(prefix="bench-pdf-")) / "bench.pdf"
            r = measure(__file__, "export", uri=uri, db_name=db_name, out=str(out))
            res = r["result"]
            print(f"{res['conversations']:>13,}{n * per:>10,}{res['pages']:>8,}"
                  f"{r['seconds']:>9.1f}{r['peak_mb']:>9.0f}{res['bytes'] / 1e6:>11.1f}",
                  flush=True)
            out.unlink(missing_ok=True)
            out.parent.rmdir()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
