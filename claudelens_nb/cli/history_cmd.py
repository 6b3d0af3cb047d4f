"""claudelens-nb history: list past exports, delete one, or run the retention cleanup."""

from __future__ import annotations

import argparse

from .common import database, human_size


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("history", help="list past exports (newest first), delete one, clean up")
    p.add_argument("--page", type=int, default=0, help="page number, from 0")
    p.add_argument("--page-size", type=int, default=20, help="exports per page (default 20)")
    p.add_argument("--delete", metavar="JOB", help="delete an export (its file and record) by job id")
    p.add_argument("--cleanup", action="store_true",
                   help="expire exports past the retention period now")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..exports import jobs

    db = database(args)
    if args.delete:
        job_id = jobs.resolve_job_id(args.delete, db=db)
        jobs.delete_export(job_id, db=db)
        print(f"deleted export {job_id}")
        return 0
    if args.cleanup:
        n = jobs.cleanup_exports(db=db)
        print(f"cleanup: {n} export(s) expired or removed")
        return 0
    rows = jobs.history(args.page, args.page_size, db=db)
    if not rows:
        print("no exports" if args.page == 0 else f"no exports on page {args.page}")
        return 0
    print(f"{'created (UTC)':<17} {'job':<8} {'format':<8} {'status':<9} {'convs':>6} "
          f"{'msgs':>8} {'size':>9}  file / error")
    for r in rows:
        created = r["created_at"].strftime("%Y-%m-%d %H:%M") if r.get("created_at") else "?"
        size = human_size(r["size"]) if r.get("size") else "-"
        tail = r.get("file_name") or ""
        if r.get("error"):
            tail = f"{tail}  {r['error']}".strip()
        print(f"{created:<17} {r['job_id'][:8]:<8} {r['format']:<8} {r['status']:<9} "
              f"{r.get('conversations') or 0:>6} {r.get('messages') or 0:>8} {size:>9}  {tail}")
    return 0
