"""The canonical conversation record, and its translation to and from ClaudeLens documents.

A *conversation* is the dict that docs/formats.md defines for the JSON export, held in memory
with `datetime` (UTC) timestamps and `Decimal` costs. Every reader (our files, Claude Code,
claude.ai, ChatGPT) produces conversations; every writer consumes them. `to_json_value`
turns one into what goes on disk.

Lossless rule: every stored field that has no named place in the record goes into the
record's `metadata`, and comes back out of it on import.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from bson import Decimal128, ObjectId

MESSAGE_TYPES = ("user", "assistant", "system", "tool_use", "tool_result", "summary")
TITLE_MAX = 80

# Message fields with a named place in the record; everything else is metadata.
_MESSAGE_NAMED = frozenset({
    "_id", "uuid", "sessionId", "type", "timestamp", "parentUuid", "content", "model",
    "costUsd", "usage", "isSidechain",
})
_SESSION_NAMED = {
    "_id", "sessionId", "projectId", "startedAt", "endedAt", "messageCount", "totalCost",
    "summary", "title", "tags", "externalId", "branches", "parentConversationId", "custom_fields",
}
# Stored as datetimes; restored from ISO strings on import.
DATETIME_KEYS = {"createdAt", "updatedAt", "startedAt", "endedAt", "timestamp", "importedAt"}
_ZERO = timedelta(0)
_TOKEN_KEYS = {
    "input": "input_tokens",
    "output": "output_tokens",
    "cache_creation": "cache_creation_input_tokens",
    "cache_read": "cache_read_input_tokens",
}
_TOKEN_SOURCES = frozenset(_TOKEN_KEYS.values())
_TOKEN_ITEMS = tuple(_TOKEN_KEYS.items())


# ---------------------------------------------------------------- values

def utc(dt: datetime) -> datetime:
    """`dt` as an aware UTC datetime truncated to milliseconds (what BSON stores)."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    dt = dt.astimezone(UTC)
    return dt.replace(microsecond=(dt.microsecond // 1000) * 1000)


def iso(dt: datetime | None) -> str | None:
    """ISO-8601 UTC with milliseconds and a Z, the one timestamp spelling we write."""
    if dt is None:
        return None
    if dt.year >= 1000:  # the same text as below, 3x (naive: 6x) faster
        if dt.tzinfo is None:  # naive means UTC, as BSON decodes without tz_aware
            return dt.isoformat(timespec="milliseconds") + "Z"
        if dt.utcoffset() == _ZERO:
            return dt.isoformat(timespec="milliseconds")[:-6] + "Z"
    dt = utc(dt)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def parse_iso(value: str, *, ms: bool = True) -> datetime:
    """ISO-8601 text as an aware UTC datetime (no offset means UTC), truncated to
    milliseconds (what BSON stores) unless `ms=False`; raises ValueError. The one ISO
    parser: `datetime.fromisoformat` reads a trailing Z itself, and a Z elsewhere
    ("2026-01-02Z") is read as +00:00 too."""
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        if "Z" not in value:
            raise
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if dt.tzinfo is not UTC:
        dt = dt.astimezone(UTC) if dt.tzinfo else dt.replace(tzinfo=UTC)
    if ms and (extra := dt.microsecond % 1000):
        dt = dt.replace(microsecond=dt.microsecond - extra)
    return dt


def decimal128_value(value: Decimal128) -> Decimal:
    """`value.to_decimal()`, about five times faster for finite numbers (all money is).

    IEEE 754-2008 BID layout: sign bit, then (unless the next two bits are both set, as
    for NaN, infinity and huge coefficients) a 14-bit exponent biased by 6176 and a
    113-bit coefficient. Built from a string, so no context rounds it.
    """
    bits = int.from_bytes(value.bid, "little")
    high = bits >> 64
    if (high >> 61) & 0b11 == 0b11:
        return value.to_decimal()
    coefficient = bits & ((1 << 113) - 1)
    exponent = ((high >> 49) & 0x3FFF) - 6176
    sign = "-" if high >> 63 else ""
    return Decimal(f"{sign}{coefficient}E{exponent}")


def to_decimal(value: Any) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, Decimal128):
        return decimal128_value(value)
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(str(value))


def money_float(value: Any) -> float | None:
    d = to_decimal(value)
    return None if d is None else float(d)


def to_json_value(value: Any) -> Any:
    """A BSON / record value as plain JSON data (datetimes ISO, money float, ids str)."""
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, (Decimal128, Decimal)):
        return money_float(value)
    if isinstance(value, ObjectId):
        return str(value)
    if isinstance(value, Mapping):
        return {k: to_json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json_value(v) for v in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


SPLIT_TYPES = frozenset({"tool_use", "tool_result"})
# Upstream ClaudeLens's importer (import_service.py) reads a conversation's fields under these
# camelCase names: our JSON envelope repeats them, after the messages, so its /import accepts it.
UPSTREAM_ALIASES = {"projectId": "project_id", "createdAt": "created_at",
                    "updatedAt": "updated_at", "costUsd": "cost_usd"}


def content_hash(uuid: str, type_: str, timestamp: datetime, content: Any) -> str:
    """ClaudeLens's de-duplication hash, exactly as its ingest computes it.

    SHA-256 of `json.dumps({"uuid", "type", "timestamp", "content"}, sort_keys=True,
    default=str)` with Python's default separators and ASCII escapes; the timestamp is
    `isoformat()` of the ingested value, `content` the line's raw `message`.
    """
    payload = {"uuid": uuid, "type": type_, "timestamp": utc(timestamp).isoformat(), "content": content}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


# ---------------------------------------------------------------- DB -> record

def _tool_fields(type_: str, data: Any) -> tuple[str | None, Any]:
    if not isinstance(data, Mapping):
        return None, None
    if data.get("type") == "tool_use":
        return data.get("name"), data.get("input")
    if type_ == "tool_use":
        for block in data.get("content") or []:
            if isinstance(block, Mapping) and block.get("type") == "tool_use":
                return block.get("name"), block.get("input")
    return None, None


def message_record(doc: Mapping[str, Any]) -> dict[str, Any]:
    """One stored message as a canonical message record (its metadata keys sorted)."""
    get = doc.get  # called for 100,000s of messages an export: kept lean
    usage = get("usage")
    kept = sorted([k for k in doc if k not in _MESSAGE_NAMED])
    if usage and isinstance(usage, Mapping):
        tokens = {k: usage.get(src) for k, src in _TOKEN_ITEMS}
        if usage.keys() - _TOKEN_SOURCES:
            kept.append("usage")  # usage with fields beyond the four token counts
            kept.sort()
    else:
        tokens = dict.fromkeys(_TOKEN_KEYS)
    cost = get("costUsd")
    if cost is not None:
        cost = decimal128_value(cost) if type(cost) is Decimal128 else to_decimal(cost)
    type_ = get("type")
    tool_name, tool_input = _tool_fields(type_ or "", get("messageData"))
    return {
        "id": get("uuid"),
        "parent_id": get("parentUuid"),
        "type": type_,
        "content": get("content"),
        "timestamp": get("timestamp"),
        "tokens": tokens,
        "cost_usd": cost,
        "model": get("model"),
        "tool_name": tool_name,
        "tool_input": tool_input,
        "is_sidechain": bool(get("isSidechain", False)),
        "metadata": {k: doc[k] for k in kept},
    }


def derive_title(summary: str | None, messages: Iterable[Mapping[str, Any]]) -> str | None:
    """Summary, else the first user message, cut to 80 characters."""
    text = summary
    if not text:
        for m in messages:
            if m.get("type") == "user" and (m.get("content") or "").strip():
                text = m["content"]
                break
    if not text:
        return None
    text = " ".join(str(text).split())
    return text if len(text) <= TITLE_MAX else text[: TITLE_MAX - 1] + "…"


def most_used_model(messages: Iterable[Mapping[str, Any]]) -> str | None:
    counts = Counter(model for m in messages if (model := m.get("model")))
    if not counts:
        return None
    best = max(counts.values())
    return min(name for name, n in counts.items() if n == best)


def conversation_record(
    session: Mapping[str, Any],
    project: Mapping[str, Any] | None,
    message_docs: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    """One stored session (with its project and messages) as a canonical conversation."""
    messages = [message_record(d) for d in message_docs]
    started, ended = session.get("startedAt"), session.get("endedAt")
    duration = None
    if started and ended:
        duration = round((ended - started).total_seconds(), 3)
        duration = int(duration) if duration == int(duration) else duration
    metadata = {k: v for k, v in session.items() if k not in _SESSION_NAMED}
    metadata["custom_fields"] = dict(session.get("custom_fields") or {})
    return {
        "id": session.get("sessionId"),
        "external_id": session.get("externalId"),
        "title": session.get("title") or derive_title(session.get("summary"), message_docs),
        "summary": session.get("summary"),
        "project_id": str(project["_id"]) if project and project.get("_id") else None,
        "project_name": project.get("name") if project else None,
        "project_path": project.get("path") if project else None,
        "created_at": started,
        "updated_at": ended,
        "duration_seconds": duration,
        "model": most_used_model(message_docs),
        "cost_usd": to_decimal(session.get("totalCost")),
        "message_count": session.get("messageCount", len(messages)),
        "tags": list(session.get("tags") or []),
        "metadata": metadata,
        "messages": messages,
        "branches": list(session.get("branches") or []),
        "parent_conversation_id": session.get("parentConversationId"),
    }


def record_to_json(conv: Mapping[str, Any]) -> dict[str, Any]:
    """A canonical conversation as the JSON object docs/formats.md specifies (key order kept)."""
    return to_json_value(conv)


# ---------------------------------------------------------------- record -> DB

def _restore_datetimes(meta: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(meta)
    for key in DATETIME_KEYS & set(out):
        if isinstance(out[key], str):
            with contextlib.suppress(ValueError):
                out[key] = parse_iso(out[key])
    return out


def to_decimal128(value: Any) -> Decimal128 | None:
    d = to_decimal(value)
    return None if d is None else Decimal128(d)


def message_document(conversation_id: str, msg: Mapping[str, Any]) -> dict[str, Any]:
    """A canonical message as the document ClaudeLens stores (without `_id`)."""
    meta = _restore_datetimes(msg.get("metadata") or {})
    ts = utc(msg["timestamp"])
    doc: dict[str, Any] = {
        "uuid": msg["id"],
        "sessionId": conversation_id,
        "type": msg["type"],
        "timestamp": ts,
        "parentUuid": msg.get("parent_id"),
        "content": msg.get("content") or "",
    }
    usage = meta.pop("usage", None)
    tokens = msg.get("tokens") or {}
    if usage is None and any(tokens.get(k) is not None for k in _TOKEN_KEYS):
        usage = {src: int(tokens[k]) for k, src in _TOKEN_KEYS.items() if tokens.get(k) is not None}
    if msg.get("model"):
        doc["model"] = msg["model"]
    cost = to_decimal128(msg.get("cost_usd"))
    if cost is not None:
        doc["costUsd"] = cost
    if usage is not None:
        doc["usage"] = usage
    doc["isSidechain"] = bool(msg.get("is_sidechain", False))
    if "messageData" not in meta and msg.get("tool_name"):
        meta["messageData"] = {
            "type": "tool_use", "name": msg["tool_name"], "input": msg.get("tool_input") or {},
        }
    meta.pop("contentHash", None)  # always our own: a copied message keeps no stale hash
    doc.update(meta)
    # Upstream hashes the documents of a line, not the tool calls and results split from it.
    if doc["type"] not in SPLIT_TYPES:
        doc["contentHash"] = content_hash(doc["uuid"], doc["type"], ts, doc.get("messageData"))
    doc.setdefault("createdAt", ts)
    return doc


def session_document(conv: Mapping[str, Any], project_id: ObjectId) -> dict[str, Any]:
    """A canonical conversation's session document. Derived totals are set by `session_stats`."""
    meta = _restore_datetimes(conv.get("metadata") or {})
    custom = meta.pop("custom_fields", None)
    doc: dict[str, Any] = {"sessionId": conv["id"], "projectId": project_id}
    if conv.get("summary") is not None:  # upstream's validator wants text or no field
        doc["summary"] = conv["summary"]
    title = conv.get("title")
    if title and title != derive_title(conv.get("summary"), conv.get("messages") or []):
        doc["title"] = title
    if conv.get("tags"):
        doc["tags"] = list(conv["tags"])
    if conv.get("external_id"):
        doc["externalId"] = conv["external_id"]
    if conv.get("branches"):
        doc["branches"] = list(conv["branches"])
    if conv.get("parent_conversation_id"):
        doc["parentConversationId"] = conv["parent_conversation_id"]
    if custom:
        doc["custom_fields"] = custom
    for k in ("createdAt", "updatedAt"):
        meta.setdefault(k, utc(conv.get("created_at") or datetime.now(UTC)))
    for k in ("messageCount", "totalCost", "startedAt", "endedAt"):
        meta.pop(k, None)
    doc.update(meta)
    return doc


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return 0
    return int(value) if math.isfinite(value) else 0


def session_stats(messages: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The derived session fields, from its stored message documents."""
    n = 0
    cost = Decimal(0)
    first = last = None
    tin = tout = tools = 0
    for m in messages:
        n += 1
        c = to_decimal(m.get("costUsd"))
        if c is not None:
            cost += c
        ts = m.get("timestamp")
        if ts is not None:
            first = ts if first is None or ts < first else first
            last = ts if last is None or ts > last else last
        usage = m.get("usage") or {}
        # As upstream's ingest counts them: input includes cache writes and reads.
        tin += sum(_count(usage.get(k)) for k in (
            "input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"))
        tout += _count(usage.get("output_tokens"))
        if m.get("type") == "tool_use":
            tools += 1
    return {
        "messageCount": n,
        "totalCost": Decimal128(cost),
        "startedAt": first,
        "endedAt": last,
        "inputTokens": tin,
        "outputTokens": tout,
        "totalTokens": tin + tout,
        "toolsUsed": tools,
    }


_STAT_COUNTS = ("messageCount", "inputTokens", "outputTokens", "totalTokens", "toolsUsed")


def _earlier(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else min(a, b)


def _later(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else max(a, b)


def added_session_stats(session: Mapping[str, Any],
                        messages: Iterable[Mapping[str, Any]]) -> dict[str, Any] | None:
    """`session_stats` of a session's stored messages plus `messages`, from the figures its
    document holds (those of its stored messages) instead of the stored messages themselves.

    None when the document's figures are not what `session_stats` writes (missing, another
    type, tokens that do not add up): those are recomputed from the messages.
    """
    if any(type(v := session.get(k)) is not int or v < 0 for k in _STAT_COUNTS):
        return None
    n, tin, tout, total, tools = (int(session[k]) for k in _STAT_COUNTS)
    cost, first, last = session.get("totalCost"), session.get("startedAt"), session.get("endedAt")
    if (total != tin + tout or not isinstance(cost, Decimal128)
            or not all(v is None or isinstance(v, datetime) for v in (first, last))
            or (first is None) != (n == 0) or (last is None) != (n == 0)):
        return None
    new = session_stats(messages)
    return {
        "messageCount": n + new["messageCount"],
        "totalCost": Decimal128(decimal128_value(cost) + decimal128_value(new["totalCost"])),
        "startedAt": _earlier(first, new["startedAt"]),
        "endedAt": _later(last, new["endedAt"]),
        "inputTokens": tin + new["inputTokens"],
        "outputTokens": tout + new["outputTokens"],
        "totalTokens": total + new["totalTokens"],
        "toolsUsed": tools + new["toolsUsed"],
    }
