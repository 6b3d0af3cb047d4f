"""Reading a generated Claude Code projects folder: the reader alone, then a full import.

    python benchmarks/bench_sources.py [--sessions 200] [--lines 100000] [--keep DIR] [--no-import]

Generates, in a temp folder, `--sessions` sessions over 10 project folders totalling
`--lines` JSONL lines (user prompts, assistant text with tool_use, responses split over two
lines, tool results with toolUseResult, progress / file-history-snapshot / attachment
bookkeeping, summary and ai-title lines, sub-agent files). Then, each in a fresh process:
(a) parse it with `sources.claude_code.read` alone, (b) import it into an empty embedded
database with `claudelens_nb.import_file` (skipped when the import engine is missing).
Prints lines per second and peak RSS for each.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _harness as h  # noqa: E402

from claudelens_nb.sources.sample import write_projects  # noqa: E402


def _steps(params: dict) -> object:
    def parse() -> dict:
        from claudelens_nb.reading import ReadReport
        from claudelens_nb.sources import claude_code

        report = ReadReport()
        convs = msgs = 0
        cpu = time.process_time()
        for conv in claude_code.read(Path(params["dir"]), report):
            convs += 1
            msgs += len(conv["messages"])
        return {"conversations": convs, "messages": msgs, "lines": report.lines,
                "errors": len(report.errors), "skipped": sum(report.skipped.values()),
                "cpu_seconds": time.process_time() - cpu}

    def do_import() -> dict:
        import claudelens_nb
        from claudelens_nb.store.connection import connect

        db = connect(params["uri"], h.DB_NAME)
        result = claudelens_nb.import_file(Path(params["dir"]), db=db)
        return {k: getattr(result, k) for k in ("inserted", "messages_written", "failed", "status")}

    return {"parse": parse, "import": do_import}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=200)
    ap.add_argument("--lines", type=int, default=100_000)
    ap.add_argument("--keep", type=Path, help="write the generated folder here and keep it")
    ap.add_argument("--no-import", action="store_true", help="only (a): the reader alone")
    ap.add_argument("--step")
    ap.add_argument("--params")
    args = ap.parse_args()
    if args.step:
        h.run_step(_steps(json.loads(args.params))[args.step])
        return
    tmp = Path(tempfile.mkdtemp(prefix="claudelens-bench-sources-"))
    root = args.keep or tmp / "projects"
    try:
        written = write_projects(root, args.sessions, args.lines)
        size = sum(p.stat().st_size for p in root.rglob("*.jsonl"))
        print(f"generated {written:,} lines in {args.sessions} sessions, {size / 1e6:.1f} MB: {root}")
        base = h.baseline_rss_mb("import claudelens_nb.sources")
        parsed = h.measure(__file__, "parse", dir=str(root))
        res = parsed["result"]
        print(f"(a) reader alone: {res['lines'] / parsed['seconds']:,.0f} lines/s "
              f"({parsed['seconds']:.2f} s wall, {res['lines'] / res['cpu_seconds']:,.0f} lines per CPU "
              f"second; {res['conversations']} conversations, {res['messages']:,} "
              f"messages, {res['skipped']:,} bookkeeping lines skipped, {res['errors']} errors); "
              f"peak RSS {parsed['peak_mb']:.0f} MB (interpreter with imports alone: {base:.0f} MB)")
        if args.no_import:
            return
        try:
            import claudelens_nb.imports  # noqa: F401
        except ImportError:
            print("(b) import: skipped, claudelens_nb.imports is not available")
            return
        with h.embedded_server() as (uri, _home):
            imported = h.measure(__file__, "import", dir=str(root), uri=uri)
        res_i = imported["result"]
        print(f"(b) import_file into an empty embedded database: {written / imported['seconds']:,.0f} lines/s "
              f"({imported['seconds']:.2f} s; {res_i}); peak RSS {imported['peak_mb']:.0f} MB "
              f"(client process; the SecantusDB server runs in its own process)")
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
