"""Export job documents: history, deletion, download paths and retention cleanup."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pymongo.database import Database

from ..config import settings
from ..errors import ErrorCode, ExportError
from ..filters import get_db
from ..progress import Progress
from ..store import collections as names
from ..store.server import pid_alive
from . import files

STATUSES = ("queued", "running", "completed", "failed", "cancelled", "expired")
DROP_AFTER_RETENTIONS = 2  # records stay listed as expired until twice the retention
_HISTORY_FIELDS = (
    "job_id", "created_at", "completed_at", "expires_at", "format", "status", "conversations",
    "messages", "total_cost", "size", "sha256", "file_name", "error", "progress", "owner",
    "filters", "options", "compressed", "encrypted", "sanitizing",
)
_CLEANED: set[tuple[str, str]] = set()
_LOCK = threading.Lock()

# Upstream ClaudeLens's export records share the collection; ours always carry `job_id`
# (theirs do not), and theirs are left alone: never listed, expired or removed by us.
OURS: dict[str, Any] = {"job_id": {"$exists": True}}


def now() -> datetime:
    t = datetime.now(UTC)
    return t.replace(microsecond=(t.microsecond // 1000) * 1000)


def new_job(db: Database, *, fmt: str, filters: dict[str, Any], options: dict[str, Any],
            owner: str | None) -> dict[str, Any]:
    created = now()
    job_id = uuid.uuid4().hex
    doc = {
        "_id": job_id, "job_id": job_id, "owner": owner, "format": fmt, "status": "queued",
        "progress": {"stage": "Queued", "done": 0, "total": None, "item": None},
        "filters": filters, "options": options,
        "conversations": 0, "messages": 0, "total_cost": 0.0,
        "size": None, "sha256": None, "file_name": None, "path": None,
        "compressed": False, "encrypted": bool(options.get("encrypted")), "sanitizing": None,
        "created_at": created, "started_at": None, "completed_at": None,
        "expires_at": created + timedelta(days=settings().retention_days), "error": None,
        "pid": os.getpid(), "host": socket.gethostname(),
    }
    db[names.EXPORT_JOBS].insert_one(doc)
    return doc


def update(db: Database, job_id: str, **fields: Any) -> None:
    db[names.EXPORT_JOBS].update_one({"_id": job_id}, {"$set": fields})


class ProgressRecorder:
    """A progress callback that keeps the job document's last state (wrap in Throttled).

    The writes happen on a thread of their own: the server is busy serving the export's
    reads, and waiting for it on every progress note cost the writer ~20 ms a time.
    """

    def __init__(self, db: Database, job_id: str) -> None:
        self._db, self._job_id = db, job_id
        self._latest: Progress | None = None
        self._closed = False
        self._wake = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="export-progress", daemon=True)
        self._thread.start()

    def __call__(self, event: Progress) -> None:
        with self._wake:
            self._latest = event
            self._wake.notify()

    def _run(self) -> None:
        while True:
            with self._wake:
                while self._latest is None and not self._closed:
                    self._wake.wait()
                event, self._latest = self._latest, None
            if event is None:
                return
            # Best effort: a lost database must not turn a progress note into the failure reason.
            with contextlib.suppress(Exception):
                update(self._db, self._job_id, progress={
                    "stage": event.stage, "done": event.done, "total": event.total,
                    "item": event.item})

    def close(self) -> None:
        """Write what is pending and stop, so no late note follows the final state."""
        with self._wake:
            self._closed = True
            self._wake.notify()
        self._thread.join(timeout=5)


def _cutoff(at: datetime) -> datetime:
    return at - timedelta(days=settings().retention_days)


def is_expired(doc: dict[str, Any], at: datetime) -> bool:
    """Past its expiry date, or older than the retention period now configured."""
    if doc.get("status") == "expired":
        return True
    expires, created = doc.get("expires_at"), doc.get("created_at")
    return (expires is not None and expires <= at) or (created is not None and created <= _cutoff(at))


def _public(doc: dict[str, Any], at: datetime) -> dict[str, Any]:
    out = {k: doc.get(k) for k in _HISTORY_FIELDS}
    if is_expired(doc, at):
        out["status"] = "expired"
    return out


def _owner_ok(doc: dict[str, Any], owner: str | None) -> bool:
    return owner is None or doc.get("owner") in (None, owner)


def history(page: int = 0, page_size: int = 20, *, db: Database | None = None,
            owner: str | None = None) -> list[dict[str, Any]]:
    """Export job records, newest first, one page at a time."""
    db = get_db(db)
    cleanup_once(db)
    if page < 0 or page_size < 1:
        raise ExportError(f"page must be >= 0 and page_size >= 1, got {page}, {page_size}",
                          code=ErrorCode.INVALID_ARGUMENT)
    cur = (db[names.EXPORT_JOBS].find(_history_query(owner)).sort([("created_at", -1), ("_id", -1)])
           .skip(page * page_size).limit(page_size))
    at = now()
    return [_public(d, at) for d in cur]


def _history_query(owner: str | None) -> dict[str, Any]:
    return dict(OURS) if owner is None else {**OURS, "owner": {"$in": [None, owner]}}


def history_count(*, db: Database | None = None, owner: str | None = None) -> int:
    """How many export records `history` pages through (for "page 2 of 5")."""
    return get_db(db)[names.EXPORT_JOBS].count_documents(_history_query(owner))


def get_job(job_id: str, *, db: Database | None = None) -> dict[str, Any]:
    db = get_db(db)
    if not isinstance(job_id, str):
        raise ExportError(f"an export job id is text, got {type(job_id).__name__}",
                          code=ErrorCode.UNKNOWN_JOB)
    doc = db[names.EXPORT_JOBS].find_one({"_id": job_id})
    if doc is None:
        raise ExportError(f"no export job {job_id!r}", code=ErrorCode.UNKNOWN_JOB)
    return doc


def resolve_job_id(prefix: str, *, db: Database | None = None) -> str:
    """A full job id from its first characters (as the CLI shows them); refuses ambiguity."""
    db = get_db(db)
    if not re.fullmatch(r"[0-9a-f]{4,32}", prefix or ""):
        raise ExportError(f"not an export job id: {prefix!r}", code=ErrorCode.UNKNOWN_JOB)
    found = [d["_id"] for d in db[names.EXPORT_JOBS].find(
        {"_id": {"$gte": prefix, "$lt": prefix + "g"}, **OURS}, {"_id": 1}).limit(2)]
    if not found:
        raise ExportError(f"no export job {prefix!r}", code=ErrorCode.UNKNOWN_JOB)
    if len(found) > 1:
        raise ExportError(f"{prefix!r} matches more than one export job; give more characters",
                          code=ErrorCode.AMBIGUOUS_JOB_ID)
    return found[0]


def export_file_path(job_id: str, *, db: Database | None = None, owner: str | None = None) -> Path:
    """The finished file of an export, for download; refuses anything not safely servable."""
    doc = get_job(job_id, db=db)
    if not _owner_ok(doc, owner):
        raise ExportError(f"export {job_id} belongs to another user", code=ErrorCode.INSUFFICIENT_PERMISSIONS)
    status = _public(doc, now())["status"]
    if status == "expired":
        raise ExportError(f"export {job_id} has expired and its file was removed", code=ErrorCode.EXPORT_EXPIRED)
    if status != "completed" or not doc.get("path"):
        raise ExportError(f"export {job_id} has no file (status {status})",
                          code=ErrorCode.EXPORT_NOT_AVAILABLE)
    path = Path(doc["path"])
    if not files.inside(path, settings().export_dir):
        raise ExportError(f"export {job_id} lies outside the export folder and is not served",
                          code=ErrorCode.INSUFFICIENT_PERMISSIONS)
    if not path.is_file():
        raise ExportError(f"the file of export {job_id} is missing", code=ErrorCode.FILE_NOT_FOUND)
    return path.resolve()


def delete_export(job_id: str, *, db: Database | None = None, owner: str | None = None) -> bool:
    """Remove an export's file (when it is in the export folder) and its record."""
    db = get_db(db)
    doc = db[names.EXPORT_JOBS].find_one({"_id": job_id}) if isinstance(job_id, str) else None
    if doc is None:
        return False
    if not _owner_ok(doc, owner):
        raise ExportError(f"export {job_id} belongs to another user", code=ErrorCode.INSUFFICIENT_PERMISSIONS)
    if doc.get("status") in ("queued", "running"):
        raise ExportError(f"export {job_id} is still running; cancel it first",
                          code=ErrorCode.JOB_RUNNING)
    _remove_file(doc)
    return db[names.EXPORT_JOBS].delete_one({"_id": job_id}).deleted_count == 1


def _remove_file(doc: dict[str, Any]) -> None:
    path = doc.get("path")
    if path and files.inside(Path(path), settings().export_dir):
        files.remove_quietly(Path(path))


def cleanup_exports(*, db: Database | None = None) -> int:
    """Expire exports past retention (file removed, record kept as expired); drop very old records.

    Returns how many exports were expired or dropped.
    """
    db = get_db(db)
    coll = db[names.EXPORT_JOBS]
    at = now()
    n = 0
    due = {"$or": [{"expires_at": {"$lte": at}}, {"created_at": {"$lte": _cutoff(at)}}],
           "status": {"$ne": "expired"}, **OURS}
    for doc in coll.find(due):
        _remove_file(doc)
        coll.update_one({"_id": doc["_id"]}, {"$set": {"status": "expired", "expired_at": at}})
        n += 1
    n += _fail_orphans(coll)
    horizon = at - timedelta(days=settings().retention_days * DROP_AFTER_RETENTIONS)
    for doc in coll.find({"created_at": {"$lt": horizon}, **OURS}, {"path": 1}):
        _remove_file(doc)
        n += coll.delete_one({"_id": doc["_id"]}).deleted_count
    return n


def _fail_orphans(coll: Any) -> int:
    """Jobs left queued/running by a process on this host that is gone (or no longer runs them)."""
    from .engine import active_jobs

    host, me, active = socket.gethostname(), os.getpid(), active_jobs()
    n = 0
    for doc in coll.find({"status": {"$in": ["queued", "running"]}, "host": host, **OURS}):
        pid = doc.get("pid")
        alive = pid == me and doc["_id"] in active or pid != me and pid_alive(pid)
        if not alive:
            coll.update_one({"_id": doc["_id"], "status": doc["status"]}, {"$set": {
                "status": "failed", "completed_at": now(),
                "error": "the export stopped before finishing (database lost or process ended)",
            }})
            _remove_file(doc)
            _remove_work_dirs(doc["_id"])
            n += 1
    return n


def _remove_work_dirs(job_id: str) -> None:
    """The temporary folder an interrupted export left in the export folder."""
    folder = settings().export_dir
    if folder.is_dir():
        for work in folder.glob(f".*.{job_id[:8]}.work"):
            shutil.rmtree(work, ignore_errors=True)


def cleanup_once(db: Database) -> None:
    """Run the cleanup on the first export/history call of the process for this database."""
    key = (repr(db.client.address), db.name)
    with _LOCK:
        if key in _CLEANED:
            return
        _CLEANED.add(key)
    cleanup_exports(db=db)
