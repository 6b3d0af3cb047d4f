"""Our CSV tables (conversations.csv + messages.csv, or messages.csv alone) -> raw conversations.

Tables are told apart by their header row, not their names. Every cell gets the export's
formula neutralising undone exactly (`export.csv_safety.unneutralise`). A CSV is at most
50 MB, so its rows are grouped by conversation in memory.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from ..errors import ErrorCode, ImportFileError
from ..reading import ReadReport
from ..security import Limits, TextInfo, open_text
from .items import Items, RawItem

CONVERSATION_COLUMNS = [
    "conversation_id", "title", "project_name", "model", "message_count", "cost_usd",
    "created_at", "updated_at", "tags", "summary",
]
MESSAGE_COLUMNS = [
    "conversation_id", "message_id", "parent_id", "type", "role", "content", "timestamp",
    "tokens_input", "tokens_output", "tokens_cache_creation", "tokens_cache_read", "cost_usd",
    "model", "tool_name",
]
_TOKENS = {"tokens_input": "input", "tokens_output": "output",
           "tokens_cache_creation": "cache_creation", "tokens_cache_read": "cache_read"}


def _unneutralise(value: str) -> str:
    from ..exports.csv_safety import unneutralise

    return unneutralise(value)


def table_of(path: Path, info: TextInfo) -> str | None:
    """'conversations' or 'messages' from the header row, else None."""
    try:
        with open_text(path, info) as fh:
            header = next(csv.reader(fh), None)
    except (csv.Error, UnicodeDecodeError, StopIteration):
        return None
    if not header:
        return None
    cols = {h.strip() for h in header}
    if {"conversation_id", "message_id"} <= cols:
        return "messages"
    if "conversation_id" in cols:
        return "conversations"
    return None


def _rows(path: Path, info: TextInfo, name: str, limits: Limits) -> Iterator[tuple[int, dict[str, str]]]:
    csv.field_size_limit(max(limits.max_string_bytes, 1024))
    with open_text(path, info) as fh:
        reader = csv.reader(fh, strict=True)
        try:
            header = [h.strip() for h in next(reader)]
            for row in reader:
                if not row:
                    continue
                if len(row) != len(header):
                    raise ImportFileError(
                        f"{name} line {reader.line_num}: ragged row: {len(row)} fields where "
                        f"the header has {len(header)}"
                    )
                yield reader.line_num, {h: _unneutralise(v) for h, v in zip(header, row, strict=True)}
        except csv.Error as exc:
            raise ImportFileError(f"{name} line {reader.line_num}: malformed CSV: {exc}") from None


def _none(v: str | None) -> str | None:
    return None if v is None or v == "" else v


def _number(v: str | None) -> Any:
    v = _none(v)
    if v is None:
        return None
    try:
        d = Decimal(v)
    except InvalidOperation:
        return v  # validation names it
    return int(d) if d == d.to_integral_value() and "." not in v and "e" not in v.lower() else d


def _message(row: dict[str, str]) -> dict[str, Any]:
    tokens = {t: _number(row.get(col)) for col, t in _TOKENS.items()}
    msg: dict[str, Any] = {
        "id": _none(row.get("message_id")),
        "parent_id": _none(row.get("parent_id")),
        "type": _none(row.get("type")),
        "content": row.get("content") or "",
        "timestamp": _none(row.get("timestamp")),
        "tokens": tokens,
        "cost_usd": _none(row.get("cost_usd")),
        "model": _none(row.get("model")),
        "tool_name": _none(row.get("tool_name")),
    }
    return msg


def items_from(tables: list[tuple[Path, TextInfo, str]], limits: Limits) -> Items:
    """Reader of the given table files (identified by header) as raw conversations."""
    def items(report: ReadReport) -> Iterator[RawItem]:
        convs: dict[str, dict[str, Any]] = {}
        lines: dict[str, tuple[str, int]] = {}
        messages: dict[str, list[dict[str, Any]]] = {}
        msg_files: list[str] = []
        for path, info, name in tables:
            table = table_of(path, info)
            if table == "conversations":
                for line, row in _rows(path, info, name, limits):
                    cid = row.get("conversation_id") or ""
                    if cid in convs:
                        first = lines[cid]
                        report.error(
                            f"conversation id {cid!r} appears twice ({first[0]} line {first[1]} "
                            f"and line {line})", file=name, line=line, record=cid, field="conversation_id",
                            code=ErrorCode.DUPLICATE_IDS)
                        continue
                    if len(convs) >= limits.csv_conversations:
                        raise ImportFileError(f"{name}: more than {limits.csv_conversations} "
                                              "conversations (the CSV limit)", code="QUOTA_EXCEEDED")
                    lines[cid] = (name, line)
                    convs[cid] = {
                        "id": cid,
                        "title": _none(row.get("title")),
                        "project_name": _none(row.get("project_name")),
                        "model": _none(row.get("model")),
                        "message_count": _number(row.get("message_count")),
                        "cost_usd": _none(row.get("cost_usd")),
                        "created_at": _none(row.get("created_at")),
                        "updated_at": _none(row.get("updated_at")),
                        "tags": row.get("tags") or "",
                        "summary": _none(row.get("summary")),
                    }
            elif table == "messages":
                msg_files.append(name)
                for line, row in _rows(path, info, name, limits):
                    cid = row.get("conversation_id") or ""
                    bucket = messages.setdefault(cid, [])
                    if len(bucket) >= limits.csv_messages:
                        raise ImportFileError(
                            f"{name} line {line}: conversation {cid!r} has more than "
                            f"{limits.csv_messages} messages (the CSV limit)", code="QUOTA_EXCEEDED")
                    bucket.append(_message(row))
                    lines.setdefault(cid, (name, line))
        order = list(convs) + [c for c in messages if c not in convs]
        if len(order) > limits.csv_conversations:
            raise ImportFileError(f"more than {limits.csv_conversations} conversations "
                                  "(the CSV limit)", code="QUOTA_EXCEEDED")
        for cid in order:
            conv = convs.get(cid) or {"id": cid}
            conv["messages"] = messages.get(cid, [])
            name, line = lines[cid]
            yield RawItem(conv, line, name)

    return items
