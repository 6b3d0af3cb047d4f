"""Incremental sync of Claude Code transcripts: only what changed since the last sync is read.

`sync_claude_code(path)` plans from the files' stat and their checkpoints
(sources/checkpoints.py): an unchanged folder is answered "unchanged" without opening a file;
new, grown, truncated and rewritten files go through the usual import (validation, merge,
undo, job record) reading only their new bytes, and their checkpoints move on once it is done.

A session read only from where the last sync stopped is partial: it keeps its stored creation
time, and its stored title unless the new lines hold a title line (a custom-title, or an
ai-title where no custom-title was read before: the precedence of a full read); a response
whose streamed lines straddle the two syncs keeps its usage on one line only (the rule of
claude_code_messages: non-sidechain, largest total, earliest). A tool result in the new lines
whose tool call was read by an earlier sync points to the stored tool_use document, as in a
full read (found by the session's recent messages, the (sessionId, timestamp) index).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
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
    found = {s["sessionId"]: s for s in db[names.SESSIONS].find(
        {"sessionId": {"$in": sorted({f.session for f in todo})}},
        {"sessionId": 1, "createdAt": 1, "startedAt": 1})}
    existed = {sid: s.get("createdAt") for sid, s in found.items()}
    stored = {sid: created for sid, created in existed.items() if sid in partial}
    # Sessions stored already of which some file is read from where the last sync stopped.
    grown = {f.session for f in todo if f.start > 0} & existed.keys()
    ctx = _Window(db, {sid: found[sid].get("startedAt") for sid in grown},
                  {f.session for f in plan.files if f.custom_title})
    digest = hashlib.sha256()
    for f in todo:
        digest.update(f"{f.name}\0{f.start}\0{f.end}\0{f.mtime_ns}\n".encode())
    src = Source(claude_code.KIND, "json", root.name, plan.bytes_to_read, digest.hexdigest())
    first_new: dict[str, datetime] = {}
    src._items = lambda report: _items(root, plan.windows, stored, first_new, report, ctx)
    result = import_file(root, strategy="merge", progress=progress, cancel=cancel, db=db, owner=owner,
                         source=src)
    if result.status == "completed":  # sessions new to the database were read whole
        settle_responses(db, {sid: t for sid, t in first_new.items() if sid in existed})
        for sid, title in ctx.titles_only.items():  # no message to merge: the title alone
            db[names.SESSIONS].update_one({"sessionId": sid}, {"$set": {"title": title}})
        checkpoints.save(db, todo, ObjectId(result.job_id) if result.job_id else None,
                         ctx.custom_read)
    return SyncResult(**asdict(result), files=plan.counts(), bytes_read=plan.bytes_to_read)


@dataclass
class _Window:
    """What a sync knows of the stored sessions beyond the lines it reads."""

    db: Database
    started: dict[str, datetime | None]  # session partly read -> its stored startedAt
    custom_stored: set[str]  # sessions a custom-title line was read for by an earlier sync
    custom_read: set[str] = field(default_factory=set)  # ... and by this one
    # Sessions partly read whose new lines hold a title line but no message -> that title.
    titles_only: dict[str, str] = field(default_factory=dict)

    def title(self, sid: str, titles: Mapping[str, str]) -> str | None:
        """A partly read session's title: from its new title lines (as conversation() ranks
        them), else None (the stored one stays; one derived from the new lines alone is not
        the session's)."""
        if titles.get("custom-title"):
            return titles["custom-title"]
        if titles.get("ai-title") and sid not in self.custom_stored:
            return titles["ai-title"]
        return None

    def link_results(self, conv: dict[str, Any]) -> None:
        """Point the tool results whose tool call is not among the lines read to the stored
        tool_use document of that call, as a full read does (claude_code_messages._user)."""
        sid = conv["id"]
        seen: set[str] = set()
        missing: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for m in conv["messages"]:
            block = m["metadata"].get("messageData")
            if not isinstance(block, Mapping):
                continue
            if m["type"] == "tool_use" and isinstance(block.get("id"), str):
                seen.add(block["id"])
            elif m["type"] == "tool_result":
                tid = block.get("tool_use_id")
                if isinstance(tid, str) and tid not in seen:
                    missing[tid].append(m)
        if missing:
            for tid, (uuid, _) in self._stored_tool_docs(sid, missing).items():
                for m in missing[tid]:
                    m["parent_id"] = uuid

    def _stored_tool_docs(self, sid: str, missing: Mapping[str, list[dict[str, Any]]]
                          ) -> dict[str, tuple[str, datetime]]:
        """tool_use id -> (uuid, timestamp) of the latest stored tool_use document of it no
        later than its first result, looked for backwards from the results a time range at a
        time (an hour, then twice as far each round) down to the session's start."""
        first_result = {tid: _utc(min(m["timestamp"] for m in ms)) for tid, ms in missing.items()}
        top = max(m["timestamp"] for ms in missing.values() for m in ms)
        floor = self.started.get(sid)
        want = set(missing)
        out: dict[str, tuple[str, datetime]] = {}
        colls = names.message_collection_names(self.db)
        hi, span, first = top, STREAM_SLACK, True
        while want:
            lo = hi - span
            stamp: dict[str, Any] = {"$lte": hi} if first else {"$lt": hi}
            if floor is None or lo > floor:
                stamp["$gte"] = lo
            query = {"sessionId": sid, "timestamp": stamp, "type": "tool_use"}
            for coll in colls:
                for d in self.db[coll].find(query, {"uuid": 1, "timestamp": 1, "messageData.id": 1}):
                    tid = (d.get("messageData") or {}).get("id")
                    if tid not in want or not isinstance(d.get("uuid"), str):
                        continue
                    ts = _utc(d["timestamp"])
                    if ts > first_result[tid]:
                        continue
                    if tid not in out or ts >= out[tid][1]:
                        out[tid] = (d["uuid"], ts)
            want -= out.keys()
            if "$gte" not in stamp:
                break
            hi, span, first = lo, span * 2, False
        return out


def _utc(ts: datetime) -> datetime:
    """An aware UTC timestamp (a client may give naive UTC ones back)."""
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def _items(root: Path, windows: dict[str, tuple[int, int]], partial: dict[str, datetime | None],
           first_new: dict[str, datetime], report: ReadReport,
           ctx: _Window) -> Iterator[RawItem]:
    titles_read: dict[str, dict[str, str]] = {}
    yielded = set()
    for conv in claude_code.read(root, report, windows=windows, titles_read=titles_read):
        sid = conv["id"]
        yielded.add(sid)
        titles = titles_read.get(sid, {})
        stamps = [m["timestamp"] for m in conv["messages"] if m["timestamp"] is not None]
        if stamps:
            first_new[sid] = min(stamps)
        if sid in ctx.started:
            ctx.link_results(conv)
        if sid in partial:
            # Only the new lines were read: the stored creation time stays, and the stored
            # title unless they hold a title line.
            conv["title"] = ctx.title(sid, titles)
            created = partial[conv["id"]]
            if created is not None and (conv["created_at"] is None or created < conv["created_at"]):
                conv["created_at"] = created
        yield RawItem(conv, None, None)
    for sid, titles in titles_read.items():
        if titles.get("custom-title"):
            ctx.custom_read.add(sid)
        if sid not in yielded and sid in partial and (title := ctx.title(sid, titles)):
            ctx.titles_only[sid] = title


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
