"""The validation pass: read every conversation once, write nothing.

Gives stats, the proposed mapping with samples, errors and warnings (ids unique within the
file, values, limits), and a small summary per conversation for the conflict list.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from pymongo.database import Database

from .. import records
from ..errors import ErrorCode, ImportFileError
from ..progress import CancelToken, ProgressCallback, check, emit
from ..reading import Problem, ReadReport
from ..security import Limits
from ..store import collections as names
from .canonical import Context, normalize_conversation, record_cost
from .mapping import default_target
from .model import Conflict, FieldMapping, ValidationReport
from .readers import Source

SAMPLE_CONVERSATIONS = 20
SAMPLE_MESSAGES = 200
SAMPLES_PER_FIELD = 3


@dataclass
class Incoming:
    title: str | None
    messages: int
    updated: datetime | None
    cost: Decimal


@dataclass
class ScanResult:
    report: ValidationReport
    incoming: dict[str, Incoming] = field(default_factory=dict)


def _sample(value: Any) -> Any:
    if isinstance(value, list):
        return f"[{len(value)} items]"
    if isinstance(value, dict):
        return "{" + ", ".join(list(map(str, value))[:5]) + ("…}" if len(value) > 5 else "}")
    if isinstance(value, str) and len(value) > 60:
        return value[:59] + "…"
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):
        return records.iso(value)
    return value


class _Samples:
    def __init__(self) -> None:
        self.fields: dict[str, list[Any]] = {}
        self.convs = 0
        self.msgs = 0

    def add(self, raw: Any) -> None:
        if not isinstance(raw, Mapping) or self.convs >= SAMPLE_CONVERSATIONS:
            return
        self.convs += 1
        for k, v in raw.items():
            self._put(str(k), v)
            if isinstance(v, list) and v and isinstance(v[0], Mapping):
                for m in v:
                    if self.msgs >= SAMPLE_MESSAGES or not isinstance(m, Mapping):
                        break
                    self.msgs += 1
                    for mk, mv in m.items():
                        self._put(f"message.{mk}", mv)

    def _put(self, key: str, value: Any) -> None:
        bucket = self.fields.setdefault(key, [])
        if len(bucket) < SAMPLES_PER_FIELD and value is not None:
            s = _sample(value)
            if s not in bucket:
                bucket.append(s)


def proposed_mapping(samples: _Samples, user: Mapping[str, str], message_key: str | None) -> list[FieldMapping]:
    out = []
    for source, values in samples.fields.items():
        if source.startswith("message."):
            # A message field without a target of its own is kept in the message's metadata.
            target = user.get(source) or "message." + default_target(source[8:], "message")
        else:
            target = user.get(source) or default_target(source, "conversation")
        out.append(FieldMapping(source, target, values))
    return out


def scan(
    src: Source,
    ctx: Context,
    limits: Limits,
    *,
    user_mapping: Mapping[str, str],
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> ScanResult:
    max_convs, max_msgs = limits.counts_for(src.fmt)
    read = ReadReport(kind=src.kind)
    samples = _Samples()
    places: dict[str, str] = {}
    message_owner: dict[str, str] = {}
    incoming: dict[str, Incoming] = {}
    n_conv = n_msg = 0
    total_cost = Decimal(0)
    first = last = None
    for i, item in enumerate(src.items(read)):
        check(cancel)
        if i >= max_convs:
            raise ImportFileError(
                f"{src.name}: more than {max_convs:,} conversations (the {src.fmt.upper()} limit)",
                code="QUOTA_EXCEEDED",
            )
        samples.add(item.data)
        ctx.file, ctx.line = item.file or src.name, item.line
        rec = normalize_conversation(ctx, item.data, i, max_msgs)
        place = f"{ctx.file} line {item.line}" if item.line else f"{ctx.file} conversation #{i + 1}"
        emit(progress, "Validating", i + 1, None, ctx.record)
        if rec is None:
            continue
        cid = rec["id"]
        if cid in places:
            ctx.error(f"conversation id {cid!r} appears twice: {places[cid]} and {place}", "id",
                      code=ErrorCode.DUPLICATE_IDS)
            continue
        places[cid] = place
        dup = False
        for m in rec["messages"]:
            owner = message_owner.get(m["id"])
            if owner is not None:
                ctx.error(f"message id {m['id']!r} appears twice: in conversation {owner!r} and "
                          f"in conversation {cid!r}", "messages.id", code=ErrorCode.DUPLICATE_IDS)
                dup = True
                break
            message_owner[m["id"]] = cid
        if dup:
            continue
        cost = record_cost(rec)
        n_conv += 1
        n_msg += len(rec["messages"])
        total_cost += cost
        for ts in (rec["created_at"], rec["updated_at"], *(m["timestamp"] for m in rec["messages"][-1:])):
            if ts is not None:
                first = ts if first is None or ts < first else first
                last = ts if last is None or ts > last else last
        updated = rec["updated_at"] or (rec["messages"][-1]["timestamp"] if rec["messages"] else rec["created_at"])
        title = rec["title"] or records.derive_title(rec["summary"], rec["messages"])
        incoming[cid] = Incoming(title, len(rec["messages"]), updated, cost)
    problems: list[Problem] = list(ctx.problems) + list(read.problems)
    report = ValidationReport(
        kind=src.kind, file_name=src.name, size=src.size, sha256=src.sha256,
        archive=src.archive, encrypted=src.encrypted,
        stats={
            "conversations": n_conv,
            "messages": n_msg,
            "date_range": (first, last),
            "total_cost": float(total_cost),
        },
        mapping=proposed_mapping(samples, user_mapping, None) if not src.external else [],
        errors=[p for p in problems if p.severity == "error"],
        warnings=[p for p in problems if p.severity != "error"],
        error_count=ctx.error_count + len(read.errors),
        warning_count=ctx.warning_count + len(read.warnings),
    )
    emit(progress, "Validating", n_conv, n_conv)
    return ScanResult(report, incoming)


def find_conflicts(db: Database, incoming: Mapping[str, Incoming]) -> list[Conflict]:
    ids = list(incoming)
    out: list[Conflict] = []
    for i in range(0, len(ids), 1000):
        chunk = ids[i:i + 1000]
        for s in db[names.SESSIONS].find(
            {"sessionId": {"$in": chunk}},
            {"sessionId": 1, "messageCount": 1, "updatedAt": 1, "endedAt": 1, "totalCost": 1},
        ):
            inc = incoming[s["sessionId"]]
            out.append(Conflict(
                id=s["sessionId"],
                title=inc.title,
                existing_messages=int(s.get("messageCount") or 0),
                incoming_messages=inc.messages,
                existing_updated=s.get("endedAt") or s.get("updatedAt"),
                incoming_updated=inc.updated,
                existing_cost=records.money_float(s.get("totalCost")) or 0.0,
                incoming_cost=float(inc.cost),
            ))
    order = {cid: n for n, cid in enumerate(ids)}
    out.sort(key=lambda c: order[c.id])
    return out
