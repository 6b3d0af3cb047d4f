"""Turning source message content (strings, content blocks) into readable text, and times."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from .. import records


def as_map(value: Any) -> Mapping[str, Any]:
    """`value` when it is an object, else an empty one (source files break their own shapes)."""
    return value if isinstance(value, Mapping) else {}


def as_list(value: Any) -> list[Any]:
    """`value` when it is a list, else an empty one."""
    return value if isinstance(value, list) else []


def as_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def tool_summary(name: str | None, tool_input: Any) -> str:
    """The text of a tool_use document: the tool's name and its input as a JSON block."""
    body = json.dumps(tool_input if tool_input is not None else {}, ensure_ascii=False)
    return f"Tool: {name or 'unknown'}\n```json\n{body}\n```"


def _block_text(block: Any, *, tools_inline: bool) -> str | None:
    """One content block as text, or None when it adds nothing."""
    if isinstance(block, str):
        return block
    if not isinstance(block, Mapping):
        return None if block is None else str(block)
    kind = block.get("type")
    if kind == "text" or (kind is None and isinstance(block.get("text"), str)):
        return as_str(block.get("text")) or ""
    if kind == "thinking":
        thinking = as_str(block.get("thinking"))
        return f"[Thinking]\n{thinking}" if thinking else None
    if kind == "redacted_thinking":
        return "[Thinking] (redacted)"
    if kind in ("tool_use", "server_tool_use"):
        name = block.get("name") or "unknown"
        return tool_summary(name, block.get("input")) if tools_inline else f"[Tool: {name}]"
    if isinstance(kind, str) and (kind == "tool_result" or kind.endswith("_tool_result")):
        return flatten(block.get("content"))
    if kind == "image":
        return "[Image]"
    if kind == "document":
        title = as_str(block.get("title")) or as_str(as_map(block.get("source")).get("media_type"))
        return f"[Document: {title}]" if title else "[Document]"
    return f"[{kind}]" if kind else None


def flatten(content: Any, *, tools_inline: bool = False) -> str:
    """Content (a string or a list of blocks) as one text.

    Thinking is marked "[Thinking]", images "[Image]"; a tool call is "[Tool: name]", or its
    full summary with `tools_inline` (for sources that do not split tool calls out).
    """
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, Mapping):
        content = [content]
    if not isinstance(content, list):
        return str(content)
    parts = [_block_text(b, tools_inline=tools_inline) for b in content]
    return "\n\n".join(p for p in parts if p is not None and p != "")


def parse_time(value: Any) -> datetime | None:
    """ISO-8601 text or Unix seconds/milliseconds as an aware UTC datetime (ms), else None."""
    if value is None or isinstance(value, bool):
        return None
    try:
        if isinstance(value, str):
            return records.parse_iso(value.strip())
        if isinstance(value, (int, float)):
            seconds = value / 1000 if value > 1e11 else value
            return records.utc(datetime.fromtimestamp(seconds, UTC))
    except (ValueError, OverflowError, OSError):
        return None
    return None


def keep_thread_order(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Space messages of one thread that share (or go back in) time 1 ms apart, in thread order.

    Everything downstream orders messages by timestamp; chat exports often stamp a question
    and its answer alike. The source's own times stay in each message's `messageData`.
    """
    prev: datetime | None = None
    for msg in messages:
        if prev is not None and msg["timestamp"] <= prev:
            msg["timestamp"] = prev + timedelta(milliseconds=1)
        prev = msg["timestamp"]
    return messages


def empty_tokens() -> dict[str, int | None]:
    return {"input": None, "output": None, "cache_creation": None, "cache_read": None}


def duration_seconds(start: datetime | None, end: datetime | None) -> int | float | None:
    """Like records.conversation_record: seconds, an int when whole."""
    if start is None or end is None:
        return None
    d = round((end - start).total_seconds(), 3)
    return int(d) if d == int(d) else d


def chat_conversation(
    cid: str,
    obj: Mapping[str, Any],
    consumed: set[str] | frozenset[str],
    messages: list[dict[str, Any]],
    *,
    title: str | None,
    summary: str | None,
    project: tuple[str, str],
    created: datetime,
    updated: datetime,
    model: str | None,
    branches: list[Any],
) -> dict[str, Any]:
    """A chat export's conversation (claude.ai, ChatGPT) as a canonical record.

    Chat exports carry no token usage, so the cost is zero rather than unknown.
    """
    meta: dict[str, Any] = {"custom_fields": {}}
    meta.update((k, v) for k, v in obj.items() if k not in consumed)
    return {
        "id": cid,
        "external_id": cid,
        "title": title or records.derive_title(summary, messages),
        "summary": summary,
        "project_id": None,
        "project_name": project[0],
        "project_path": project[1],
        "created_at": created,
        "updated_at": updated,
        "duration_seconds": duration_seconds(created, updated),
        "model": model,
        "cost_usd": Decimal(0),
        "message_count": len(messages),
        "tags": [],
        "metadata": meta,
        "messages": sorted(messages, key=lambda m: m["timestamp"]),
        "branches": branches,
        "parent_conversation_id": None,
    }
