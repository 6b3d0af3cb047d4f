"""Undo an import: remove what it inserted, restore what it replaced or merged, exactly."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pymongo import DESCENDING
from pymongo.database import Database

from ..errors import ErrorCode, ImportFileError
from ..store import collections as names
from ..store import facts
from ..store.schema import ensure_message_indexes
from .jobs import get_job, process_alive
from .writer import IMPORT_UNDO, refresh_project_stats


def undo_import(job_id: str, *, db: Database | None = None) -> dict[str, int]:
    """Restore the database to what it was before import `job_id`. Counts of what was done."""
    if db is None:
        from ..store import connect

        db = connect()
    job = get_job(db, job_id)
    status = job.get("status")
    if status == "undone":
        raise ImportFileError(f"import {job_id} was already undone", code=ErrorCode.ALREADY_UNDONE)
    if status == "running" and process_alive(job):
        raise ImportFileError(f"import {job_id} is still running; cancel it first",
                              code=ErrorCode.JOB_RUNNING)
    if status == "dry_run":
        raise ImportFileError(f"import {job_id} was a dry run: nothing to undo",
                              code=ErrorCode.NOTHING_TO_UNDO)
    jid = job["_id"]
    counts = {"removed_sessions": 0, "removed_messages": 0, "restored_sessions": 0,
              "restored_messages": 0, "removed_projects": 0}
    touched: set[Any] = set()
    snapshots: dict[str, dict[str, Any]] = {}
    snapshot_msgs: dict[str, list[dict[str, Any]]] = {}
    kept: set[str] = set()  # merged sessions: their stored messages were never changed
    undo_docs = list(db[IMPORT_UNDO].find({"job_id": jid}).sort([("seq", DESCENDING), ("_id", DESCENDING)]))
    for u in undo_docs:
        if u["type"] == "session":
            snapshots[u["sessionId"]] = u["doc"]
            if u.get("messages_kept"):
                kept.add(u["sessionId"])
        elif u["type"] == "messages":
            snapshot_msgs.setdefault(u["sessionId"], []).extend(u["docs"])
    colls = names.message_collection_names(db)
    for u in undo_docs:
        if u["type"] != "batch":
            continue
        for entry in u.get("inserted", []):
            sid = entry["sessionId"]
            if sid in snapshots and sid not in kept:
                continue  # restored below from its snapshot
            for part in entry.get("messages", []):
                res = db[part["coll"]].delete_many({"sessionId": sid, "uuid": {"$in": part["uuids"]}})
                counts["removed_messages"] += res.deleted_count
            if entry.get("session"):
                gone = db[names.SESSIONS].find_one_and_delete({"sessionId": sid})
                if gone is not None:
                    counts["removed_sessions"] += 1
                    touched.add(gone.get("projectId"))
    for sid, session in snapshots.items():
        current = db[names.SESSIONS].find_one({"sessionId": sid})
        if current:
            touched.add(current.get("projectId"))
        # Only what the import changed is put back, and counted: a merge that added nothing
        # restores nothing.
        removed, restored = (0, 0) if sid in kept else _restore_messages(
            db, colls, sid, snapshot_msgs.get(sid, []))
        counts["removed_messages"] += removed
        counts["restored_messages"] += restored
        if current != session:
            db[names.SESSIONS].delete_many({"sessionId": sid, "_id": {"$ne": session["_id"]}})
            db[names.SESSIONS].replace_one({"_id": session["_id"]}, session, upsert=True)
        if current != session or removed or restored:
            counts["restored_sessions"] += 1
        touched.add(session.get("projectId"))
    for u in undo_docs:
        for pid in u.get("created_projects", []) if u["type"] == "batch" else []:
            if db[names.SESSIONS].find_one({"projectId": pid}, {"_id": 1}) is None:
                if db[names.PROJECTS].delete_one({"_id": pid}).deleted_count:
                    counts["removed_projects"] += 1
                touched.discard(pid)
    refresh_project_stats(db, touched)
    db[names.IMPORT_JOBS].update_one(
        {"_id": jid}, {"$set": {"status": "undone", "undone_at": datetime.now(UTC), "undo_counts": counts}})
    db[IMPORT_UNDO].delete_many({"job_id": jid})
    facts.invalidate(db)
    return counts


def _without_id(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k != "_id"}


def _restore_messages(db: Database, colls: list[str], sid: str,
                      snapshot: list[dict[str, Any]]) -> tuple[int, int]:
    """Make the session's messages what `snapshot` holds ({coll, doc} items), writing only the
    ones that differ. Returns (messages the import added, now removed; messages put back)."""
    wanted = {(item["coll"], item["doc"].get("uuid")): item["doc"] for item in snapshot}
    removed = 0
    for c in colls:
        stale = []
        for d in db[c].find({"sessionId": sid}):
            want = wanted.get((c, d.get("uuid")))
            if want is not None and _without_id(d) == _without_id(want):
                del wanted[(c, d.get("uuid"))]  # as it was before the import
                continue
            stale.append(d["_id"])
            removed += want is None
        if stale:
            db[c].delete_many({"_id": {"$in": stale}})
    by_coll: dict[str, list[dict[str, Any]]] = {}
    for (c, _), doc in wanted.items():
        by_coll.setdefault(c, []).append(doc)
    for c, docs in by_coll.items():
        ensure_message_indexes(db[c])
        for i in range(0, len(docs), 1000):
            db[c].insert_many(docs[i:i + 1000], ordered=False)
    return removed, len(wanted)


def _n(count: int, word: str) -> str:
    return f"{count:,} {word}" + ("" if count == 1 else "s")


def undo_summary(counts: dict[str, int]) -> str:
    """What `undo_import` did, in words: 'removed 20 conversations and 600 messages it added; ...'."""
    parts = []
    if counts.get("removed_sessions") or counts.get("removed_messages"):
        parts.append(f"removed {_n(counts.get('removed_sessions', 0), 'conversation')} and "
                     f"{_n(counts.get('removed_messages', 0), 'message')} it had added")
    if counts.get("restored_sessions") or counts.get("restored_messages"):
        parts.append(f"put back {_n(counts.get('restored_sessions', 0), 'conversation')} and "
                     f"{_n(counts.get('restored_messages', 0), 'message')} as they were")
    if counts.get("removed_projects"):
        parts.append(f"removed {_n(counts['removed_projects'], 'project')} it had created")
    return "; ".join(parts) if parts else "nothing to change: the import had changed nothing"
