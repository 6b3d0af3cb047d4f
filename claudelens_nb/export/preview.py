"""What an export would hold, from database-side counts and sums, without writing anything."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from pymongo.database import Database

from .. import records
from ..query import Filter, _get_db, coerce_filter, iter_conversations, session_query
from ..store import collections as names
from ..store import facts
from .options import FORMATS

TOOL_TYPES = ("tool_use", "tool_result")
_ORDER = [("startedAt", 1), ("sessionId", 1)]
_SAMPLE_CONVERSATIONS = 2
# Per-format size relative to the JSON of the same messages, measured on demo data.
_RATIO_TO_JSON = {"markdown": 0.35, "pdf": 0.9, "parquet": 0.12}


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
    types = allowed_types(flt, include_tool_calls)
    if not include_messages:
        out.messages = 0
    elif types is not None and out.conversations:
        ids = None
        if sq:
            ids = {d["sessionId"] for d in db[names.SESSIONS].find(sq, {"sessionId": 1, "_id": 0})}
        out.messages = _count_messages(db, ids, types)
    return out


def _items(db: Database, flt: Filter, page: int, page_size: int) -> list[dict[str, Any]]:
    fields = {"sessionId": 1, "title": 1, "summary": 1, "projectId": 1, "startedAt": 1,
              "messageCount": 1, "totalCost": 1}
    sessions = list(db[names.SESSIONS].find(session_query(db, flt), fields).sort(_ORDER)
                    .skip(page * page_size).limit(page_size))
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


def _estimate(db: Database, flt: Filter, t: Totals) -> dict[str, int]:
    """Bytes per format from a small sample of the matching conversations, exported in memory."""
    from .tabular import csv_conversation_rows, csv_message_rows

    if not t.conversations:
        return {f: 0 for f in FORMATS}
    ids = [d["sessionId"] for d in db[names.SESSIONS].find(session_query(db, flt), {"sessionId": 1})
           .sort(_ORDER).limit(_SAMPLE_CONVERSATIONS)]
    sample = next(iter_conversations(flt, len(ids) or 1, db=db, ids=ids), [])
    n_msgs = sum(len(c["messages"]) for c in sample) or 1
    n_convs = len(sample) or 1
    head = 600
    conv_json = sum(len(json.dumps(records.record_to_json({**c, "messages": []}),
                                   ensure_ascii=False).encode()) for c in sample)
    msg_json = sum(len(json.dumps(records.record_to_json(m), ensure_ascii=False).encode())
                   for c in sample for m in c["messages"])
    buf = io.StringIO()
    import csv

    w = csv.writer(buf)
    w.writerows(csv_message_rows(sample))
    msg_csv = len(buf.getvalue().encode())
    buf = io.StringIO()
    csv.writer(buf).writerows(csv_conversation_rows(sample))
    conv_csv = len(buf.getvalue().encode())
    per_conv_json, per_msg_json = conv_json / n_convs, msg_json / n_msgs
    json_size = int(head + t.conversations * per_conv_json + t.messages * per_msg_json)
    csv_size = int(t.conversations * conv_csv / n_convs + t.messages * msg_csv / n_msgs) // 3 + 1000
    est = {"json": json_size, "jsonl": json_size, "csv": csv_size}
    for fmt, ratio in _RATIO_TO_JSON.items():
        est[fmt] = int(json_size * ratio) + (20_000 if fmt == "pdf" else 0)
    return {f: est[f] for f in FORMATS}


def preview(flt: Filter | dict | None = None, *, db: Database | None = None, page: int = 0,
            page_size: int = 20) -> Preview:
    """Counts, cost, estimated size per format, and one page of the matching conversations."""
    db, flt = _get_db(db), coerce_filter(flt)
    t = totals(db, flt)
    return Preview(
        conversations=t.conversations,
        messages=t.messages,
        total_cost=float(t.total_cost),
        estimated_bytes=_estimate(db, flt, t),
        items=_items(db, flt, max(0, page), max(1, page_size)),
        date_range=t.date_range,
    )
