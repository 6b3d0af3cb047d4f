"""`import_jobs` documents: one per import, and the history list."""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from bson import ObjectId
from bson.errors import InvalidId
from pymongo import DESCENDING
from pymongo.database import Database

from ..errors import ErrorCode, ImportFileError
from ..progress import Progress
from ..store import collections as names

MAX_JOB_ERRORS = 200


# Upstream ClaudeLens keeps its own import records here too; ours always name their source's
# checksum, and theirs are left alone.
OURS: dict[str, Any] = {"source_sha256": {"$exists": True}}


def new_job(db: Database, *, source_name: str, sha256: str, size: int, kind: str,
            mapping: Mapping[str, str], strategy: str, per_conversation: Mapping[str, str],
            relative_base: datetime, totals: Mapping[str, int]) -> ObjectId:
    # Ids and field names are data: stored as lists of pairs, never as document keys.
    doc = {
        "source_name": source_name,
        "source_sha256": sha256,
        "source_size": size,
        "kind": kind,
        "mapping": [{"source": s, "target": t} for s, t in mapping.items()],
        "strategy": strategy,
        "per_conversation": [{"id": i, "strategy": s} for i, s in per_conversation.items()],
        "status": "running",
        "progress": {"stage": "Importing", "done": 0, "total": totals.get("conversations")},
        "counts": {"inserted": 0, "replaced": 0, "merged": 0, "skipped": 0, "failed": 0,
                   "messages_written": 0},
        "totals": dict(totals),
        "errors": [],
        # What undo needs lives in `import_undo`, one document per batch / snapshot part.
        "undo": {"collection": "import_undo", "key": "job_id"},
        "relative_base": relative_base,
        "created_at": datetime.now(UTC),
        "completed_at": None,
        "pid": os.getpid(),
        "host": socket.gethostname(),
    }
    return db[names.IMPORT_JOBS].insert_one(doc).inserted_id


def update_progress(db: Database, job_id: ObjectId, event: Progress,
                    counts: Mapping[str, int] | None = None) -> None:
    update: dict[str, Any] = {"progress": {"stage": event.stage, "done": event.done,
                                           "total": event.total}}
    if counts is not None:
        update["counts"] = dict(counts)
    db[names.IMPORT_JOBS].update_one({"_id": job_id}, {"$set": update})


def finish(db: Database, job_id: ObjectId, status: str, counts: Mapping[str, int],
           errors: list[str]) -> None:
    db[names.IMPORT_JOBS].update_one({"_id": job_id}, {"$set": {
        "status": status, "counts": dict(counts), "errors": errors[:MAX_JOB_ERRORS],
        "error_count": len(errors), "completed_at": datetime.now(UTC),
    }})


def job_object_id(job_id: str | ObjectId) -> ObjectId:
    try:
        return job_id if isinstance(job_id, ObjectId) else ObjectId(str(job_id))
    except (InvalidId, TypeError):
        raise ImportFileError(f"no import job {job_id!r}", code=ErrorCode.UNKNOWN_JOB) from None


def get_job(db: Database, job_id: str | ObjectId) -> dict[str, Any]:
    job = db[names.IMPORT_JOBS].find_one({"_id": job_object_id(job_id), **OURS})
    if job is None:
        raise ImportFileError(f"no import job {job_id!r}", code=ErrorCode.UNKNOWN_JOB)
    return job


def process_alive(job: Mapping[str, Any]) -> bool:
    """Whether the process running `job` is still alive (same host only)."""
    if job.get("host") != socket.gethostname() or not job.get("pid"):
        return False
    try:
        os.kill(int(job["pid"]), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def public(job: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in job.items() if k not in ("_id", "pid", "host")}
    out["job_id"] = str(job["_id"])
    return out


def import_history_count(*, db: Database) -> int:
    """How many import records `import_history` pages through."""
    return db[names.IMPORT_JOBS].count_documents(OURS)


def import_history(page: int = 0, page_size: int = 20, *, db: Database | None = None) -> list[dict[str, Any]]:
    """Import jobs, newest first, a page at a time."""
    if db is None:
        from ..store import connect

        db = connect()
    cursor = (db[names.IMPORT_JOBS].find(OURS).sort([("created_at", DESCENDING), ("_id", DESCENDING)])
              .skip(max(0, page) * page_size).limit(page_size))
    return [public(j) for j in cursor]
