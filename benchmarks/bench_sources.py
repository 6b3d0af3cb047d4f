"""A generated Claude Code projects folder: the reader, the first import beside plain
insert_many of the same documents, and re-syncs (unchanged, after appending lines).

    python benchmarks/bench_sources.py [--size-mb 1024] [--sessions 200] [--append 1000]
                                       [--keep DIR] [--no-import]

Generates, in a temp folder, about `--size-mb` MB of transcripts over 10 project folders
(user prompts, assistant text with tool_use, responses split over two lines, tool results
with toolUseResult, bookkeeping lines, summary and ai-title lines, sub-agent files). Then,
each step in a fresh process, on an embedded server started as claudelens_nb starts it:
(a) parse it with `sources.claude_code.read` alone; (b) first import with
`sync_claude_code` (what `claudelens-nb import --claude-code` runs) into an empty database;
(c) plain `insert_many` (batches of 1,000, unordered, the same indexes made first) of exactly
the documents (b) stored, into another empty database: (b)'s rate over (c)'s is the import's
overhead (target >= 0.9x); (d) re-sync of the unchanged folder (target < 1 s); (e) re-sync
after appending `--append` lines to ten transcripts (target < 2 s).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _harness as h  # noqa: E402

from claudelens_nb.sources.sample import write_projects  # noqa: E402

BYTES_PER_LINE = 1570  # what write_projects writes on average


def _steps(params: dict) -> dict:
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

    def sync() -> dict:
        import claudelens_nb
        from claudelens_nb.store.connection import connect

        db = connect(params["uri"], h.DB_NAME)
        r = claudelens_nb.sync_claude_code(Path(params["dir"]), db=db)
        return {"status": r.status, "inserted": r.inserted, "merged": r.merged,
                "messages_written": r.messages_written, "failed": r.failed,
                "bytes_read": r.bytes_read, "files": r.files}

    def insert_many() -> dict:
        from bson.raw_bson import RawBSONDocument
        from pymongo import MongoClient

        client = MongoClient(params["uri"], document_class=RawBSONDocument)
        src, dst = client[h.DB_NAME], client[h.DB_NAME + "_plain"]
        skip = ("import_jobs", "import_undo", "sync_checkpoints", "claudelens_nb_facts")
        batches, n, size = [], 0, 0
        for name in src.list_collection_names():
            if name in skip or name.startswith("system."):
                continue
            info = MongoClient(params["uri"])[h.DB_NAME][name].index_information()
            for iname, spec in info.items():
                if iname != "_id_":
                    opts = {k: v for k, v in spec.items() if k in ("unique", "sparse")}
                    dst[name].create_index(list(spec["key"]), name=iname, **opts)
            docs = list(src[name].find())
            n += len(docs)
            size += sum(len(d.raw) for d in docs)
            batches += [(name, docs[i:i + 1000]) for i in range(0, len(docs), 1000)]
        t = time.perf_counter()
        for name, batch in batches:
            dst[name].insert_many(batch, ordered=False)
        return {"documents": n, "bson_mb": size / 1e6, "insert_seconds": time.perf_counter() - t}

    return {"parse": parse, "sync": sync, "insert_many": insert_many}


def _append(root: Path, lines: int) -> int:
    """`lines` new user/assistant lines at the end of the ten largest transcripts."""
    files = sorted((p for p in root.rglob("*.jsonl") if p.parent.name != "subagents"),
                   key=lambda p: -p.stat().st_size)[:10]
    written = 0
    for k, f in enumerate(files):
        sid, parent = f.stem, None
        with f.open("a", encoding="utf-8") as fh:
            for i in range(lines // len(files) + (k < lines % len(files))):
                uid = str(uuid.uuid4())
                ts = f"2026-06-01T10:{i // 60 % 60:02d}:{i % 60:02d}.000Z"
                line = {"parentUuid": parent, "isSidechain": False, "userType": "external",
                        "cwd": "/home/dev/src/appended", "sessionId": sid, "version": "2.0.50",
                        "type": "user" if i % 2 == 0 else "assistant", "uuid": uid, "timestamp": ts}
                if i % 2 == 0:
                    line["message"] = {"role": "user", "content": f"appended prompt {i}"}
                else:
                    line["requestId"] = f"req_app_{k}_{i}"
                    line["message"] = {
                        "id": f"msg_app_{k}_{i}", "role": "assistant", "type": "message",
                        "model": "claude-sonnet-4-5-20250929",
                        "content": [{"type": "text", "text": f"appended answer {i}"}],
                        "usage": {"input_tokens": 10, "output_tokens": 20,
                                  "cache_creation_input_tokens": 0, "cache_read_input_tokens": 900}}
                fh.write(json.dumps(line, separators=(",", ":")) + "\n")
                parent = uid
                written += 1
    return written


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size-mb", type=float, default=1024, help="size of the generated folder")
    ap.add_argument("--sessions", type=int, default=200)
    ap.add_argument("--lines", type=int, help="lines to generate (default: from --size-mb)")
    ap.add_argument("--append", type=int, default=1000, help="lines appended before (e)")
    ap.add_argument("--keep", type=Path, help="write the generated folder here and keep it")
    ap.add_argument("--no-import", action="store_true", help="only (a): the reader alone")
    ap.add_argument("--skip-baseline", action="store_true", help="leave out (c), the insert_many run")
    ap.add_argument("--step")
    ap.add_argument("--params")
    args = ap.parse_args()
    if args.step:
        h.run_step(_steps(json.loads(args.params))[args.step])
        return
    tmp = Path(tempfile.mkdtemp(prefix="claudelens-bench-sources-"))
    root = args.keep or tmp / "projects"
    lines = args.lines or int(args.size_mb * 1e6 / BYTES_PER_LINE)
    try:
        t = time.perf_counter()
        written = write_projects(root, args.sessions, lines)
        size = sum(p.stat().st_size for p in root.rglob("*.jsonl"))
        files = sum(1 for _ in root.rglob("*.jsonl"))
        print(f"generated {written:,} lines in {args.sessions} sessions ({files} files), "
              f"{size / 1e6:,.1f} MB ({size / 2**30:.2f} GiB) in {time.perf_counter() - t:.0f} s: {root}",
              flush=True)
        base = h.baseline_rss_mb("import claudelens_nb.sources")
        parsed = h.measure(__file__, "parse", dir=str(root))
        res = parsed["result"]
        print(f"(a) reader alone: {res['lines'] / parsed['seconds']:,.0f} lines/s, "
              f"{size / 1e6 / parsed['seconds']:.1f} MB/s ({parsed['seconds']:.2f} s wall, "
              f"{res['lines'] / res['cpu_seconds']:,.0f} lines per CPU second; {res['conversations']} "
              f"conversations, {res['messages']:,} messages, {res['skipped']:,} bookkeeping lines "
              f"skipped, {res['errors']} errors); peak RSS {parsed['peak_mb']:.0f} MB (interpreter "
              f"with imports alone: {base:.0f} MB)", flush=True)
        if args.no_import:
            return
        with h.embedded_server() as (uri, _home):
            first = h.measure(__file__, "sync", dir=str(root), uri=uri)
            r1 = first["result"]
            print(f"(b) first import (sync_claude_code, empty database): {first['seconds']:.1f} s, "
                  f"{size / 1e6 / first['seconds']:.2f} MB/s, {r1['messages_written'] / first['seconds']:,.0f} "
                  f"documents/s ({r1}); peak RSS {first['peak_mb']:.0f} MB", flush=True)
            if not args.skip_baseline:
                plain = h.measure(__file__, "insert_many", uri=uri)["result"]
                ratio = plain["insert_seconds"] / first["seconds"]
                print(f"(c) plain insert_many of the same {plain['documents']:,} documents "
                      f"({plain['bson_mb']:,.0f} MB BSON, same indexes): {plain['insert_seconds']:.1f} s, "
                      f"{plain['documents'] / plain['insert_seconds']:,.0f} documents/s; "
                      f"import rate / insert_many rate = {ratio:.2f}x (target >= 0.9x)", flush=True)
            again = h.measure(__file__, "sync", dir=str(root), uri=uri)
            print(f"(d) re-sync, folder unchanged: {again['seconds']:.3f} s (target < 1 s; "
                  f"{again['result']['status']}, {again['result']['files']})", flush=True)
            added = _append(root, args.append)
            grown = h.measure(__file__, "sync", dir=str(root), uri=uri)
            r3 = grown["result"]
            print(f"(e) re-sync after appending {added:,} lines to 10 transcripts: "
                  f"{grown['seconds']:.3f} s (target < 2 s; {r3['messages_written']} messages "
                  f"written, {r3['bytes_read']:,} bytes read, {r3['files']})", flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
