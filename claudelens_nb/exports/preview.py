"""What an export would hold, from database-side counts and sums, without writing anything."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pymongo.database import Database

from .. import records
from ..filters import Filter, coerce_filter, get_db, session_query
from ..store import collections as names
from ..store import facts
from .options import FORMATS
from .read import iter_conversations

TOOL_TYPES = ("tool_use", "tool_result")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SERVER_IN_LIMIT = 100
_SAMPLE_CONVERSATIONS = 2
# Per-format size as fixed + per conversation + a share of the JSON of the same messages,
# fitted on exports of demo data of four shapes (10-120 conversations of 4-80 messages; within
# 7% on each): the PDF embeds its fonts once and starts each conversation on a new page; CSV
# (zipped) and Parquet (zstd) are compressed.
_FIT = {"markdown": (600, 60, 0.17), "pdf": (160_000, 1_700, 0.28),
        "csv": (3_000, 95, 0.046), "parquet": (14_000, 94, 0.042)}


@dataclass
class Totals:
    conversations: int = 0
    messages: int = 0
    total_cost: Decimal = Decimal(0)
    start: datetime | None = None
    end: datetime | None = None

    @property
    def date_range(self) -> dict[str, str | None]:
        return {"start": records.iso(self.start), "end": records.iso(self.end)}


@dataclass
class Preview:
    conversations: int
    messages: int
    total_cost: float
    estimated_bytes: dict[str, int]
    items: list[dict[str, Any]] = field(default_factory=list)
    date_range: dict[str, str | None] = field(default_factory=dict)


def allowed_types(flt: Filter, include_tool_calls: bool = True) -> list[str] | None:
    """The message types an export keeps, or None for all of them."""
    types = list(flt.message_types) or None
    if include_tool_calls:
        return types
    base = types or list(records.MESSAGE_TYPES)
    return [t for t in base if t not in TOOL_TYPES]


def _count_messages(db: Database, ids: set[str] | None, types: list[str]) -> int:
    """Messages of the given types in the conversations, from the per-collection facts."""
    return facts.message_counts(db, ids, types)


def totals(db: Database, flt: Filter, *, include_tool_calls: bool = True,
           include_messages: bool = True) -> Totals:
    """Conversations, messages, cost and date span of a filter, counted by the database."""
    sq = session_query(db, flt)
    rows = list(db[names.SESSIONS].aggregate([
        {"$match": sq},
        {"$group": {"_id": None, "n": {"$sum": 1}, "messages": {"$sum": "$messageCount"},
                    "cost": {"$sum": "$totalCost"}, "start": {"$min": "$startedAt"},
                    "end": {"$max": "$endedAt"}}},
    ]))
    if not rows:
        return Totals()
    row = rows[0]
    out = Totals(int(row["n"]), int(row.get("messages") or 0),
                 records.to_decimal(row.get("cost")) or Decimal(0), row.get("start"), row.get("end"))
    ids = None
    if sq and allowed_types(flt, include_tool_calls) is not None:
        ids = {d["sessionId"] for d in db[names.SESSIONS].find(sq, {"sessionId": 1, "_id": 0})}
    _typed_messages(db, flt, out, ids, include_tool_calls=include_tool_calls,
                    include_messages=include_messages)
    return out


def _typed_messages(db: Database, flt: Filter, out: Totals, ids: set[str] | None, *,
                    include_tool_calls: bool = True, include_messages: bool = True) -> None:
    """Replace the stored message count by the count of the types the export keeps."""
    types = allowed_types(flt, include_tool_calls)
    if not include_messages:
        out.messages = 0
    elif types is not None and out.conversations:
        out.messages = _count_messages(db, ids, types)


def _totals_from_rows(rows: list[dict[str, Any]]) -> Totals:
    if not rows:
        return Totals()
    starts = [r["startedAt"] for r in rows if r.get("startedAt")]
    ends = [r["endedAt"] for r in rows if r.get("endedAt")]
    return Totals(
        len(rows),
        sum(int(r.get("messageCount") or 0) for r in rows),
        sum((records.to_decimal(r.get("totalCost")) or Decimal(0) for r in rows), Decimal(0)),
        min(starts) if starts else None,
        max(ends) if ends else None,
    )


_ROW_FIELDS = {"sessionId": 1, "title": 1, "summary": 1, "projectId": 1, "startedAt": 1,
               "endedAt": 1, "messageCount": 1, "totalCost": 1, "_id": 0}


def _items(db: Database, sessions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One page of session rows as the preview's list items (titles derived where missing)."""
    pids = list({s.get("projectId") for s in sessions if s.get("projectId") is not None})
    projects = {p["_id"]: p.get("name") for p in db[names.PROJECTS].find({"_id": {"$in": pids}}, {"name": 1})}
    untitled = [s["sessionId"] for s in sessions if not s.get("title") and not s.get("summary")]
    first_user: dict[str, list[dict[str, Any]]] = {}
    if untitled:
        q = {"sessionId": {"$in": untitled}, "type": "user", "content": {"$nin": ["", None]}}
        for coll in names.message_collections(db):
            for d in coll.find(q, {"sessionId": 1, "content": 1, "timestamp": 1, "type": 1, "_id": 0}):
                first_user.setdefault(d["sessionId"], []).append(d)
    out = []
    for s in sessions:
        msgs = sorted(first_user.get(s["sessionId"], []), key=lambda d: d["timestamp"])
        out.append({
            "id": s["sessionId"],
            "title": s.get("title") or records.derive_title(s.get("summary"), msgs),
            "project_name": projects.get(s.get("projectId")),
            "created_at": s.get("startedAt"),
            "message_count": int(s.get("messageCount") or 0),
            "cost_usd": records.money_float(s.get("totalCost")) or 0.0,
        })
    return out


# Bytes per conversation and per message hardly move between calls: sample them once per
# database and message-type choice, and reuse them for a few minutes.
_SIZES: dict[tuple[str, str, tuple[str, ...]], tuple[float, tuple[float, float]]] = {}
_SIZES_SECONDS = 300.0


def _sizes(db: Database, flt: Filter) -> tuple[float, float]:
    """(JSON bytes per conversation, per message), from a sample of the database."""
    key = (repr(db.client.address), db.name, tuple(flt.message_types))
    hit = _SIZES.get(key)
    if hit and time.monotonic() - hit[0] < _SIZES_SECONDS:
        return hit[1]
    ids = [d["sessionId"] for d in db[names.SESSIONS].find({}, {"sessionId": 1})
           .limit(_SAMPLE_CONVERSATIONS)]
    sample_filter = Filter(message_types=flt.message_types)
    sample = next(iter_conversations(sample_filter, len(ids) or 1, db=db, ids=ids), [])
    n_msgs = sum(len(c["messages"]) for c in sample) or 1
    n_convs = len(sample) or 1
    conv_json = sum(len(json.dumps(records.record_to_json({**c, "messages": []}),
                                   ensure_ascii=False).encode()) for c in sample)
    msg_json = sum(len(json.dumps(records.record_to_json(m), ensure_ascii=False).encode())
                   for c in sample for m in c["messages"])
    sizes = (conv_json / n_convs, msg_json / n_msgs)
    _SIZES[key] = (time.monotonic(), sizes)
    return sizes


def _estimate(db: Database, flt: Filter, t: Totals) -> dict[str, int]:
    """Bytes per format: the totals times sizes sampled from the database."""
    if not t.conversations:
        return {f: 0 for f in FORMATS}
    per_conv_json, per_msg_json = _sizes(db, flt)
    head = 600
    json_size = int(head + t.conversations * per_conv_json + t.messages * per_msg_json)
    est = {"json": json_size, "jsonl": json_size}
    for fmt, (fixed, per_conv, share) in _FIT.items():
        est[fmt] = int(fixed + per_conv * t.conversations + share * json_size)
    return {f: est[f] for f in FORMATS}


def preview(flt: Filter | dict | None = None, *, db: Database | None = None, page: int = 0,
            page_size: int = 20) -> Preview:
    """Counts, cost, estimated size per format, and one page of the matching conversations.

    The matching sessions' few small fields are read once (on SecantusDB one plain read
    costs less than an aggregate plus a sorted page query); message counts by type come
    from the facts cache.
    """
    db, flt = get_db(db), coerce_filter(flt)
    sq = session_query(db, flt)
    wanted = None
    ids = sq.get("sessionId", {}).get("$in")
    if ids is not None and len(ids) > _SERVER_IN_LIMIT:
        # A long `$in` costs SecantusDB more than reading every session: match the ids here.
        wanted = set(sq.pop("sessionId")["$in"])
    rows = [r for r in db[names.SESSIONS].find(sq, _ROW_FIELDS)
            if wanted is None or r["sessionId"] in wanted]
    t = _totals_from_rows(rows)
    _typed_messages(db, flt, t, {r["sessionId"] for r in rows})
    rows.sort(key=lambda r: (r.get("startedAt") or _EPOCH, r["sessionId"]))
    page, page_size = max(0, page), max(1, page_size)
    return Preview(
        conversations=t.conversations,
        messages=t.messages,
        total_cost=float(t.total_cost),
        estimated_bytes=_estimate(db, flt, t),
        items=_items(db, rows[page * page_size:(page + 1) * page_size]),
        date_range=t.date_range,
    )
