"""One raw conversation -> a validated canonical record (records.py form), with problems.

Errors name the record and the field; a record with errors is not written. Rules from
docs/formats.md: timestamps ISO / Unix s / Unix ms / relative, unknown message types -> system
with a warning, costs numeric and >= 0, a missing cost computed from tokens (unknown
model flagged, never $0), field names that could act as MongoDB operators refused.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from .. import pricing, records
from ..errors import ErrorCode
from ..reading import Problem
from ..security import unsafe_key
from .mapping import Resolver

MESSAGE_TYPES = set(records.MESSAGE_TYPES)
TOKEN_NAMES = {
    "input": ("input", "input_tokens"),
    "output": ("output", "output_tokens"),
    "cache_creation": ("cache_creation", "cache_creation_input_tokens"),
    "cache_read": ("cache_read", "cache_read_input_tokens"),
}
_NUMERIC = re.compile(r"^[+-]?\d+(\.\d+)?$")
_MS_THRESHOLD = 100_000_000_000  # above: milliseconds (year 5138 in seconds)
_COST_EXPONENT = int(pricing.COST_QUANTUM.as_tuple().exponent)  # -8
MAX_PROBLEMS = 1000  # kept in a report; the counts go on


class Context:
    """What normalising needs to know: where we are, the fixed 'now', the resolvers."""

    def __init__(self, file: str, mapping: Mapping[str, str], relative_base: datetime) -> None:
        self.file = file
        self.conv = Resolver(mapping, "conversation")
        self.msg = Resolver(mapping, "message")
        self.relative_base = relative_base
        self.problems: list[Problem] = []
        self.record: str | None = None
        self.line: int | None = None
        self.error_count = 0
        self.warning_count = 0

    def _add(self, problem: Problem) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)

    def error(self, message: str, field: str | None = None, code: str | None = None) -> None:
        self.error_count += 1
        self._add(Problem(message, self.file, self.line, self.record, field, "error", code))

    def warning(self, message: str, field: str | None = None) -> None:
        self.warning_count += 1
        self._add(Problem(message, self.file, self.line, self.record, field, "warning"))


def parse_timestamp(value: Any, relative_base: datetime) -> datetime | None:
    """ISO-8601, Unix seconds or milliseconds, or relative text ("2 days ago"); None if not."""
    if isinstance(value, datetime):
        return records.utc(value)
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float, Decimal)):
        number = float(value)
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if _NUMERIC.match(text):
            number = float(text)
        else:
            try:
                return records.parse_iso(text)
            except ValueError:
                return _parse_text(text, relative_base)
    else:
        return None
    if not math.isfinite(number):
        return None
    if abs(number) >= _MS_THRESHOLD:
        number /= 1000.0
    try:
        return records.utc(datetime.fromtimestamp(number, UTC))
    except (OverflowError, OSError, ValueError):
        return None


def _parse_text(text: str, base: datetime) -> datetime | None:
    import dateparser

    found = dateparser.parse(
        text,
        settings={
            "RELATIVE_BASE": base.replace(tzinfo=None),
            "TIMEZONE": "UTC",
            "TO_TIMEZONE": "UTC",
            "RETURN_AS_TIMEZONE_AWARE": True,
        },
    )
    return records.utc(found) if found else None


def parse_money(value: Any) -> Decimal | None | str:
    """A cost as Decimal, None when absent, or the text of the problem."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "not a number"
    try:
        d = records.to_decimal(value)
    except (InvalidOperation, ValueError, TypeError):
        return "not a number"
    if d is None or not d.is_finite():
        return "not a number"
    if d < 0:
        return "negative"
    exponent = d.as_tuple().exponent  # an int, not "n"/"N"/"F": d is finite
    if isinstance(exponent, int) and exponent > _COST_EXPONENT:
        # Files carry floats (0.0258456); stored costs have 8 places (0.02584560).
        d = d.quantize(pricing.COST_QUANTUM)
    return d


def _int_or_problem(value: Any) -> int | None | str:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "not a whole number"
    if isinstance(value, int):
        return value if value >= 0 else "negative"
    if isinstance(value, float) and value.is_integer():
        return int(value) if value >= 0 else "negative"
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return "not a whole number"


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        parts = []
        for block in value:
            if isinstance(block, str):
                parts.append(block)
            elif isinstance(block, Mapping) and isinstance(block.get("text"), str):
                parts.append(block["text"])
        if parts:
            return "\n".join(parts)
    return json.dumps(value, ensure_ascii=False, default=str)


def _check_keys(ctx: Context, obj: Mapping[str, Any], where: str) -> bool:
    if not [k for k in obj if not isinstance(k, str) or k[:1] == "$" or "." in k or not k or "\x00" in k]:
        return True
    ok = True
    for key in obj:
        problem = unsafe_key(key)
        if problem:
            ctx.error(problem, f"{where}{key}" if isinstance(key, str) else where)
            ok = False
    return ok


def _metadata(ctx: Context, value: Any, extra: Mapping[str, Any], where: str) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    if isinstance(value, Mapping):
        meta.update(value)
    elif value is not None:
        ctx.error("metadata must be an object", f"{where}metadata")
    for k, v in extra.items():
        meta.setdefault(k, v)
    _check_keys(ctx, meta, f"{where}metadata.")
    cf = meta.get("custom_fields")
    if isinstance(cf, Mapping):
        _check_keys(ctx, cf, f"{where}metadata.custom_fields.")
    return meta


def _tokens(ctx: Context, value: Any, where: str) -> dict[str, int | None]:
    out: dict[str, int | None] = {k: None for k in TOKEN_NAMES}
    if value is None:
        return out
    if not isinstance(value, Mapping):
        ctx.error("tokens must be an object", f"{where}tokens")
        return out
    for name, spellings in TOKEN_NAMES.items():
        for s in spellings:
            if s in value:
                n = _int_or_problem(value[s])
                if isinstance(n, str):
                    ctx.error(f"token count {value[s]!r} is {n}", f"{where}tokens.{name}")
                else:
                    out[name] = n
                break
    return out


def normalize_message(ctx: Context, raw: Any, index: int) -> dict[str, Any] | None:
    where = f"messages[{index}]."
    if not isinstance(raw, Mapping):
        ctx.error("a message must be an object", f"messages[{index}]")
        return None
    if not _check_keys(ctx, raw, where):
        return None
    known, extra = ctx.msg.apply(raw)
    mid = known.get("id")
    if isinstance(mid, int) and not isinstance(mid, bool):
        mid = str(mid)
    if not isinstance(mid, str) or not mid:
        ctx.error("message has no id", f"{where}id")
        return None
    where = f"message {mid}: "
    type_ = known.get("type")
    if type_ not in MESSAGE_TYPES:
        ctx.warning(f"message type {type_!r} is not one of {sorted(MESSAGE_TYPES)}; stored as system",
                    f"{where}type")
        extra = {**extra, "originalType": type_} if type_ is not None else extra
        type_ = "system"
    ts = parse_timestamp(known.get("timestamp"), ctx.relative_base)
    if ts is None:
        ctx.error(f"timestamp {known.get('timestamp')!r} does not parse", f"{where}timestamp")
    tokens = _tokens(ctx, known.get("tokens"), where)
    model = known.get("model")
    if model is not None and not isinstance(model, str):
        ctx.error("model must be text", f"{where}model")
        model = None
    cost = parse_money(known.get("cost_usd"))
    if isinstance(cost, str):
        ctx.error(f"cost {known.get('cost_usd')!r} is {cost}", f"{where}cost_usd")
        cost = None
    elif cost is None and any(tokens.values()):
        usage = {TOKEN_NAMES[k][1]: v for k, v in tokens.items() if v is not None}
        cost = pricing.cost_from_usage(model, usage)
        if cost is None:
            ctx.warning(
                f"no price for model {model!r}: cost left empty (not $0)", f"{where}cost_usd"
            )
    parent = known.get("parent_id")
    if parent is not None and not isinstance(parent, str):
        parent = str(parent)
    meta = _metadata(ctx, known.get("metadata"), extra, where)
    if not isinstance(meta.get("usage", {}), Mapping):
        ctx.error("usage must be an object", f"{where}metadata.usage")
    if ts is None:
        return None
    tool_name = known.get("tool_name")
    return {
        "id": mid,
        "parent_id": parent,
        "type": type_,
        "content": _text(known.get("content")) or "",
        "timestamp": ts,
        "tokens": tokens,
        "cost_usd": cost,
        "model": model,
        "tool_name": tool_name if isinstance(tool_name, str) and tool_name else None,
        "tool_input": known.get("tool_input"),
        "is_sidechain": bool(known.get("is_sidechain") or False),
        "metadata": meta,
    }


def _tags(ctx: Context, value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [t.strip() for t in value.split(";") if t.strip()]
    if isinstance(value, list) and all(isinstance(t, str) for t in value):
        return list(value)
    ctx.error("tags must be a list of text", "tags")
    return []


def _opt_text(ctx: Context, known: Mapping[str, Any], key: str) -> str | None:
    value = known.get(key)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    ctx.error(f"{key} must be text", key)
    return None


def normalize_conversation(
    ctx: Context, raw: Any, index: int, max_messages: int
) -> dict[str, Any] | None:
    """The canonical record of `raw`, or None when it has errors (recorded in ctx)."""
    ctx.record = f"#{index + 1}"
    if not isinstance(raw, Mapping):
        ctx.error("a conversation must be an object")
        return None
    before = ctx.error_count
    known, extra = ctx.conv.apply(raw)
    cid = known.get("id")
    if isinstance(cid, int) and not isinstance(cid, bool):
        cid = str(cid)
    if isinstance(cid, str) and cid.strip():
        ctx.record = cid
    if not _check_keys(ctx, raw, ""):
        return None
    if not isinstance(cid, str) or not cid.strip():
        ctx.error("conversation has no id (map a field to 'id')", "id")
        return None
    msgs_raw = known.get("messages")
    if msgs_raw is None:
        ctx.error("conversation has no messages field (map a field to 'messages')", "messages")
        return None
    if not isinstance(msgs_raw, list):
        ctx.error("messages must be a list", "messages")
        return None
    if len(msgs_raw) > max_messages:
        ctx.error(f"{len(msgs_raw)} messages is over the limit of {max_messages} per conversation",
                  "messages")
        return None
    messages = []
    seen: dict[str, int] = {}
    for i, m in enumerate(msgs_raw):
        msg = normalize_message(ctx, m, i)
        if msg is None:
            continue
        if msg["id"] in seen:
            ctx.error(f"message id {msg['id']!r} appears twice in this conversation "
                      f"(messages[{seen[msg['id']]}] and messages[{i}])", f"messages[{i}].id",
                      code=ErrorCode.DUPLICATE_IDS)
            continue
        seen[msg["id"]] = i
        messages.append(msg)
    created = known.get("created_at")
    created_at = parse_timestamp(created, ctx.relative_base) if created not in (None, "") else None
    if created not in (None, "") and created_at is None:
        ctx.error(f"timestamp {created!r} does not parse", "created_at")
    if created_at is None and messages:
        created_at = min(m["timestamp"] for m in messages)
    if created_at is None and created in (None, ""):
        ctx.error("conversation has no creation time and no messages", "created_at")
    updated = known.get("updated_at")
    updated_at = parse_timestamp(updated, ctx.relative_base) if updated not in (None, "") else None
    if updated not in (None, "") and updated_at is None:
        ctx.error(f"timestamp {updated!r} does not parse", "updated_at")
    cost = parse_money(known.get("cost_usd"))
    if isinstance(cost, str):
        ctx.error(f"cost {known.get('cost_usd')!r} is {cost}", "cost_usd")
        cost = None
    count = _int_or_problem(known.get("message_count"))
    if isinstance(count, str):
        ctx.error(f"message_count {known.get('message_count')!r} is {count}", "message_count")
    elif count is not None and count != len(msgs_raw):
        ctx.warning(f"message_count says {count} but the file holds {len(msgs_raw)} messages",
                    "message_count")
    # Our JSON export repeats four fields under upstream ClaudeLens's names: not metadata.
    for alias, name in records.UPSTREAM_ALIASES.items():
        if alias in extra and name in known:
            del extra[alias]
    meta = _metadata(ctx, known.get("metadata"), extra, "")
    branches = known.get("branches") or []
    if not isinstance(branches, list):
        ctx.error("branches must be a list", "branches")
        branches = []
    record = {
        "id": cid,
        "external_id": _opt_text(ctx, known, "external_id"),
        "title": _opt_text(ctx, known, "title"),
        "summary": _opt_text(ctx, known, "summary"),
        "project_id": _opt_text(ctx, known, "project_id"),
        "project_name": _opt_text(ctx, known, "project_name"),
        "project_path": _opt_text(ctx, known, "project_path"),
        "created_at": created_at,
        "updated_at": updated_at,
        "duration_seconds": known.get("duration_seconds"),
        "model": known.get("model") if isinstance(known.get("model"), str) else None,
        "cost_usd": cost,
        "message_count": len(messages),
        "tags": _tags(ctx, known.get("tags")),
        "metadata": meta,
        "messages": messages,
        "branches": branches,
        "parent_conversation_id": _opt_text(ctx, known, "parent_conversation_id"),
    }
    return record if ctx.error_count == before else None


def record_cost(record: Mapping[str, Any]) -> Decimal:
    total = Decimal(0)
    for m in record.get("messages") or []:
        if m.get("cost_usd") is not None:
            total += m["cost_usd"]
    return total
