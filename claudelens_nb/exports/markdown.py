"""The Markdown export (docs/formats.md, "Markdown"), streamed straight to the file.

Layout: `# ClaudeLens Export - <date>`, `## Metadata`, `---`, `## Conversations`, then per
conversation `### N. <title>`, one bullet line of facts, `#### Summary`, `#### Messages`
and each message as `**Role** (HH:MM:SS):` followed by its text quoted line by line
(tool inputs as a fenced JSON block, tool output fenced inside the quote), then `---`.
Roles come from the message type, never from `userType`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from ..records import iso, to_json_value
from . import files

ROLE_LABELS = {
    "user": "User",
    "assistant": "Assistant",
    "tool_use": "Tool Use",
    "tool_result": "Tool Result",
    "system": "System",
    "summary": "Summary",
}
_BACKTICKS = re.compile(r"`{3,}")


def role_label(message_type: str | None) -> str:
    """The label a message gets, from its type alone."""
    return ROLE_LABELS.get(message_type or "", (message_type or "message").replace("_", " ").title())


def money(value: Any) -> str:
    if value is None:
        return "n/a"
    return f"${Decimal(str(value)):.4f}"


def one_line(value: Any) -> str:
    """A value for a heading or bullet: whitespace collapsed so it cannot break the line."""
    return " ".join(str(value).split()) if value not in (None, "") else "n/a"


def fence_for(text: str) -> str:
    """A backtick fence longer than any backtick run inside `text`."""
    longest = max((len(m.group()) for m in _BACKTICKS.finditer(text)), default=0)
    return "`" * max(3, longest + 1)


def quote(text: str) -> str:
    """Every line of `text` prefixed with `> ` (empty lines with `>`)."""
    return "\n".join(f"> {line}" if line.strip() else ">" for line in text.split("\n"))


def _time(ts: Any) -> str:
    return ts.strftime("%H:%M:%S") if isinstance(ts, datetime) else "--:--:--"


def _date(ts: Any) -> str:
    return ts.strftime("%Y-%m-%d %H:%M:%S UTC") if isinstance(ts, datetime) else "n/a"


def message_markdown(msg: Mapping[str, Any]) -> str:
    """One message as its Markdown block (label line, then its body)."""
    type_ = msg.get("type")
    head = f"**{role_label(type_)}** ({_time(msg.get('timestamp'))}):"
    content = (msg.get("content") or "").replace("\r\n", "\n").replace("\r", "\n")
    if type_ == "tool_use" and msg.get("tool_input") is not None:
        name = msg.get("tool_name")
        if name:
            head += f" `{name}`"
        body = json.dumps(to_json_value(msg["tool_input"]), indent=2, ensure_ascii=False)
        fence = fence_for(body)
        return f"{head}\n{fence}json\n{body}\n{fence}\n"
    if not content.strip():
        return f"{head}\n> *(no text)*\n"
    if type_ == "tool_result":
        fence = fence_for(content)
        return f"{head}\n{quote(f'{fence}{chr(10)}{content}{chr(10)}{fence}')}\n"
    return f"{head}\n{quote(content)}\n"


def conversation_markdown(number: int, conv: Mapping[str, Any]) -> str:
    """One conversation's section, ending with a `---` rule."""
    tags = ", ".join(conv.get("tags") or []) or "none"
    messages = conv.get("messages") or []
    facts = [
        f"**ID:** {one_line(conv.get('id'))}",
        f"**Project:** {one_line(conv.get('project_name'))}",
        f"**Model:** {one_line(conv.get('model'))}",
        f"**Date:** {_date(conv.get('created_at'))}",
        f"**Messages:** {conv.get('message_count', len(messages))}",
        f"**Cost:** {money(conv.get('cost_usd'))}",
        f"**Tags:** {one_line(tags)}",
    ]
    out = [f"### {number}. {one_line(conv.get('title') or 'Untitled conversation')}", "",
           "- " + " - ".join(facts), ""]
    if conv.get("summary"):
        out += ["#### Summary", "", quote(str(conv["summary"]).replace("\r\n", "\n")), ""]
    if messages:
        out += ["#### Messages", ""]
        for msg in messages:
            out += [message_markdown(msg)]
    out += ["---", "", ""]
    return "\n".join(out)


def header_markdown(meta: Mapping[str, Any]) -> str:
    """The document head: title, metadata list, rule, and the conversations heading."""
    export_date = meta.get("export_date")
    day = export_date.strftime("%Y-%m-%d") if isinstance(export_date, datetime) else str(export_date)
    rng = meta.get("date_range") or {}
    filters = meta.get("filters") or {}
    filt = "; ".join(f"{k}: {one_line(json.dumps(to_json_value(v), ensure_ascii=False))}"
                     for k, v in filters.items() if v not in (None, [], {}, "")) or "none"
    lines = [
        f"# ClaudeLens Export - {day}",
        "",
        "## Metadata",
        "",
        f"- **Exported:** {iso(export_date) if isinstance(export_date, datetime) else export_date}",
        f"- **Total conversations:** {meta.get('total_conversations', 0)}",
        f"- **Total messages:** {meta.get('total_messages', 0)}",
        f"- **Total cost:** {money(meta.get('total_cost_usd') or 0)}",
        f"- **Date range:** {rng.get('start') or 'n/a'} to {rng.get('end') or 'n/a'}",
        f"- **Filters:** {filt}",
        f"- **Generator:** {meta.get('generator', 'claudelens_nb')}",
        "",
        "---",
        "",
        "## Conversations",
        "",
        "",
    ]
    return "\n".join(lines)


class MarkdownWriter:
    """Writes the Markdown export chunk by chunk.

    Conversations come oldest first, or (from a collection scan) in storage order with
    `position(id)` giving each one's place: then each section is written to a side file as
    it comes and the sections are copied into the document in order at close. Memory
    holds the running number, or one offset per conversation.
    """

    def __init__(self, path: Path, meta: dict[str, Any],
                 position: Callable[[str], int] | None = None) -> None:
        self.path = Path(path)
        self.meta = meta
        self.count = 0
        self._position = position
        self._fh: TextIO | None = self.path.open("w", encoding="utf-8", newline="\n")
        self._fh.write(header_markdown(meta))
        self._side: BinaryIO | None = None
        self._placed: list[tuple[int, int, int]] = []  # (position, offset, length)
        if position is not None:
            side = self.path.with_name(self.path.name + ".sections")
            files.create_private(side)
            self._side = side.open("w+b")

    def write(self, conversations: list[dict[str, Any]]) -> None:
        assert self._fh is not None, "writer is closed"
        for conv in conversations:
            self.count += 1
            if self._position is None:
                self._fh.write(conversation_markdown(self.count, conv))
                continue
            assert self._side is not None  # opened with the position
            place = self._position(conv["id"])
            data = conversation_markdown(place + 1, conv).encode("utf-8")
            self._placed.append((place, self._side.tell(), len(data)))
            self._side.write(data)

    def close(self) -> None:
        if self._fh is None:
            return
        if self._side is not None:
            self._fh.flush()
            out = self._fh.buffer
            for _, offset, length in sorted(self._placed):
                self._side.seek(offset)
                out.write(self._side.read(length))
        if not self.count:
            self._fh.write("_No conversations match this export._\n")
        self.abort()

    def abort(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        if self._side is not None:
            self._side.close()
            files.remove_quietly(Path(self._side.name))
            self._side = None
