"""Incremental sync of Claude Code transcripts: only what changed since the last sync is read.

`sync_claude_code(path)` plans from the files' stat and their checkpoints
(sources/checkpoints.py): an unchanged folder is answered "unchanged" without opening a file;
new, grown, truncated and rewritten files go through the usual import (validation, merge,
undo, job record) reading only their new bytes, and their checkpoints move on once it is done.

A session read only from where the last sync stopped is partial: it keeps its stored title
and creation time, and a response whose streamed lines straddle the two syncs keeps its usage
on one line only (the rule of claude_code_messages: non-sidechain, largest total, earliest).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bson import ObjectId
from pymongo import UpdateOne
from pymongo.database import Database

from .. import records
from ..progress import CancelToken, ProgressCallback
from ..reading import ReadReport
from ..sources import checkpoints, claude_code
from ..store import collections as names
from .model import ImportResult
from .readers import RawItem, Source

STREAM_SLACK = timedelta(hours=1)
USAGE_FIELDS = ("input_tokens", "output_tokens", "cache_creation_input_tokens",
                "cache_read_input_tokens")


@dataclass(kw_only=True)
class SyncResult(ImportResult):
    """An import result, with what the sync found: files per state and bytes read."""

    files: dict[str, int] = field(default_factory=dict)
    bytes_read: int = 0


def projects_root(path: str | Path | None) -> Path:
    """The projects folder to sync: `path` (or its `projects/`), else Claude Code's own."""
    root = Path(path).expanduser() if path is not None else claude_code.default_projects_dir()
    if (root / "projects").is_dir():
        root = root / "projects"
    return root.resolve()


def _db(db: Database | None) -> Database:
    if db is not None:
        return db
    from ..store import connect

    return connect()


def sync_claude_code(
    path: str | Path | None = None,
    *,
    db: Database | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    owner: str | None = None,
) -> SyncResult:
    """Import what changed in a Claude Code projects folder since its last sync (merge)."""
    from .engine import import_file

    db = _db(db)
    root = projects_root(path)
    plan = checkpoints.plan(db, root)
    todo = plan.to_read
    if not todo:
        return SyncResult(job_id=None, status="unchanged", kind=claude_code.KIND,
                          files=plan.counts())
    partial = plan.partial_sessions()
    existed = {s["sessionId"]: s.get("createdAt") for s in db[names.SESSIONS].find(
        {"sessionId": {"$in": sorted({f.session for f in todo})}}, {"sessionId": 1, "createdAt": 1})}
    stored = {sid: created for sid, created in existed.items() if sid in partial}
    digest = hashlib.sha256()
    for f in todo:
        digest.update(f"{f.name}\0{f.start}\0{f.end}\0{f.mtime_ns}\n".encode())
    src = Source(claude_code.KIND, "json", root.name, plan.bytes_to_read, digest.hexdigest())
    first_new: dict[str, datetime] = {}
    src._items = lambda report: _items(root, plan.windows, stored, first_new, report)
    result = import_file(root, strategy="merge", progress=progress, cancel=cancel, db=db, owner=owner,
                         source=src)
    if result.status == "completed":  # sessions new to the database were read whole
        settle_responses(db, {sid: t for sid, t in first_new.items() if sid in existed})
        checkpoints.save(db, todo, ObjectId(result.job_id) if result.job_id else None)
    return SyncResult(**asdict(result), files=plan.counts(), bytes_read=plan.bytes_to_read)


def _items(root: Path, windows: dict[str, tuple[int, int]], partial: dict[str, datetime | None],
           first_new: dict[str, datetime], report: ReadReport) -> Iterator[RawItem]:
    for conv in claude_code.read(root, report, windows=windows):
        stamps = [m["timestamp"] for m in conv["messages"] if m["timestamp"] is not None]
        if stamps:
            first_new[conv["id"]] = min(stamps)
        if conv["id"] in partial:
            # Only the new lines were read: what they imply about the whole session is not
            # known, so the stored title and creation time stay.
            conv["title"] = None
            created = partial[conv["id"]]
            if created is not None and (conv["created_at"] is None or created < conv["created_at"]):
                conv["created_at"] = created
        yield RawItem(conv, None, None)


def _rank(doc: dict[str, Any]) -> tuple[bool, int]:
    usage = doc.get("usage") or {}
    total = sum(int(v) for k in USAGE_FIELDS if isinstance(v := usage.get(k), (int, float)))
    return (not doc.get("isSidechain"), total)


def settle_responses(db: Database, since: Mapping[str, datetime]) -> int:
    """Where one API response's lines carry usage in more than one stored message (its lines
    were imported by two syncs), keep it on the best one; returns how many were cleared.

    `since`: session id -> the first timestamp the sync read. Lines of one streamed response
    are seconds apart, so only messages from STREAM_SLACK before it are looked at.
    """
    groups: dict[tuple[str, str, Any], list[tuple[str, dict[str, Any]]]] = defaultdict(list)
    fields = {"sessionId": 1, "requestId": 1, "messageData.id": 1, "isSidechain": 1, "usage": 1,
              "timestamp": 1, "type": 1}
    colls = names.message_collection_names(db)
    for sid, first in since.items():
        query = {"sessionId": sid, "timestamp": {"$gte": first - STREAM_SLACK}}
        for coll in colls:
            for d in db[coll].find(query, fields):
                if d.get("type") != "assistant" or "usage" not in d:
                    continue
                mid = (d.get("messageData") or {}).get("id")
                if isinstance(mid, str):
                    groups[(sid, mid, d.get("requestId"))].append((coll, d))
    cleared: dict[str, list[UpdateOne]] = defaultdict(list)
    touched: set[str] = set()
    for (sid, _, _), docs in groups.items():
        if len(docs) < 2:
            continue
        docs.sort(key=lambda cd: cd[1]["timestamp"])
        best = max(range(len(docs)), key=lambda i: (_rank(docs[i][1]), -i))
        for i, (coll, d) in enumerate(docs):
            if i != best:
                cleared[coll].append(UpdateOne({"_id": d["_id"]}, {"$unset": {
                    "usage": "", "costUsd": "", "metadata.usage": ""}}))
                touched.add(sid)
    for coll, ops in cleared.items():
        db[coll].bulk_write(ops, ordered=False)
    for sid in touched:
        msgs = [d for c in names.message_collection_names(db) for d in db[c].find(
            {"sessionId": sid}, {"costUsd": 1, "timestamp": 1, "usage": 1, "type": 1})]
        db[names.SESSIONS].update_one({"sessionId": sid}, {"$set": records.session_stats(msgs)})
    return sum(len(ops) for ops in cleared.values())
