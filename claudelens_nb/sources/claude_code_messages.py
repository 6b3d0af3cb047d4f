"""Claude Code lines as canonical message records, and one session's lines as a conversation.

The shapes follow ClaudeLens's ingest (see claude_code.py for the choices made).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any

from .. import pricing, records
from ..reading import ReadReport
from . import claude_code_shape as shape
from .content import as_str, duration_seconds, empty_tokens, flatten

_USAGE_KEYS = (("input", "input_tokens"), ("output", "output_tokens"),
               ("cache_creation", "cache_creation_input_tokens"),
               ("cache_read", "cache_read_input_tokens"))
# Fields upstream's sync CLI forwards only for one kind of line.
_ASSISTANT_ONLY = frozenset({"durationMs", "requestId"})
_USER_ONLY = frozenset({"toolUseResult"})
# Kept on a line's own document, not copied to the tool calls and results split from it.
_LINE_ONLY = frozenset({"thinking", "usage"})
_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")
UNKNOWN_PROJECT = ("Unknown Project", "unknown")


def project_of(cwd: str | None) -> tuple[str, str]:
    """(name, path) of the project a working directory belongs to; Windows paths too."""
    if not cwd or not isinstance(cwd, str):
        return UNKNOWN_PROJECT
    windows = "\\" in cwd or bool(_DRIVE.match(cwd))
    pure = PureWindowsPath(cwd) if windows else PurePosixPath(cwd)
    return (pure.name or cwd), cwd


@dataclass
class Line:
    """One parsed message line and where it came from."""

    obj: dict[str, Any]
    file: str
    line: int
    order: int  # position in the whole read, for stable sorting
    ts: datetime


# ---------------------------------------------------------------- lines -> messages

class SessionBuilder:
    """Builds one session's message records in timestamp order."""

    def __init__(self, sid: str, report: ReadReport, project_path: str = "unknown") -> None:
        self.sid = sid
        self.report = report
        self.project_path = project_path
        self.messages: list[dict[str, Any]] = []
        self.tool_docs: dict[str, str] = {}  # tool_use block id -> tool_use document id
        # API response (message.id, requestId) -> (rank, the message holding its usage, whether
        # its model was counted as unpriced)
        self.responses: dict[tuple[str | None, str | None],
                             tuple[tuple[bool, int], dict[str, Any], bool]] = {}

    def _fields(self, obj: Mapping[str, Any], kind: str) -> dict[str, Any]:
        """The top-level fields upstream's sync and ingest give every document of a line."""
        out: dict[str, Any] = {"messageData": obj["message"]} if "message" in obj else {}
        values = dict(obj)
        values["userType"] = obj.get("userType", "external")
        values["cwd"] = obj.get("cwd") or self.project_path
        if "toolUseResult" in obj:
            values["toolUseResult"] = shape.tool_use_result(obj["toolUseResult"])
        for key in shape.COPIED_FIELDS:
            if key == "model" or (key in _ASSISTANT_ONLY and kind != "assistant") or (
                    key in _USER_ONLY and kind != "user"):
                continue
            if values.get(key) is not None:
                out[key] = values[key]
        extra = {k: v for k, v in obj.items() if k not in shape.LINE_FIELDS}
        if kind not in ("user", "assistant"):
            extra.pop("content", None)
        extra["_project_path"] = self.project_path
        out["metadata"] = extra
        return out

    def add(self, ln: Line) -> None:
        obj = ln.obj
        kind = obj["type"]
        meta = self._fields(obj, kind)
        base = {
            "id": obj["uuid"],
            "parent_id": as_str(obj.get("parentUuid")),
            "type": kind,
            "content": "",
            "timestamp": ln.ts,
            "tokens": empty_tokens(),
            "cost_usd": None,
            "model": None,
            "tool_name": None,
            "tool_input": None,
            "is_sidechain": bool(obj.get("isSidechain")),
            "metadata": meta,
        }
        message = obj.get("message")
        if kind == "assistant":
            self._assistant(base, obj, message, ln)
        elif kind == "user":
            self._user(base, message, ln)
        else:
            # Upstream's sync drops a system line's top-level `content`; we keep it.
            if isinstance(obj.get("content"), (str, list)):
                base["content"] = flatten(obj["content"])
            elif message is not None:
                base["content"] = shape.other_text(kind, message)
            self.messages.append(base)

    def _part(self, base: dict[str, Any], suffix: str, type_: str, content: str,
              block: Any) -> dict[str, Any]:
        meta = {k: v for k, v in base["metadata"].items() if k not in _LINE_ONLY}
        meta["messageData"] = block
        meta["metadata"] = dict(meta["metadata"])
        return {
            **base, "id": f"{base['id']}{suffix}", "parent_id": base["id"], "type": type_,
            "content": content, "tokens": empty_tokens(), "cost_usd": None,
            "metadata": meta,
        }

    def _assistant(self, base: dict[str, Any], obj: Mapping[str, Any], message: Any,
                   ln: Line) -> None:
        blocks = message.get("content", []) if isinstance(message, Mapping) else message
        tools: list[Mapping[str, Any]] = []
        if isinstance(blocks, list):
            base["content"], thinking, tools = shape.assistant_text(blocks)
            if thinking is not None:
                base["metadata"]["thinking"] = thinking
        elif message is not None:
            base["content"] = shape.other_text("assistant", message)
        if isinstance(message, Mapping):
            model = message.get("model") if isinstance(message.get("model"), str) else None
            base["model"] = model
            usage = message.get("usage") if isinstance(message.get("usage"), Mapping) else None
            key = (as_str(message.get("id")), as_str(obj.get("requestId")))
            self._take_usage(key, base, obj, model, usage)
        self.messages.append(base)
        for i, block in enumerate(tools):
            part = self._part(base, f"_tool_{i}", "tool_use", shape.block_json(block), block)
            part["tool_name"] = as_str(block.get("name"))
            part["tool_input"] = block.get("input")
            if isinstance(block.get("id"), str):
                self.tool_docs[block["id"]] = part["id"]
            self.messages.append(part)

    def _take_usage(self, key: tuple[str | None, str | None], base: dict[str, Any],
                    obj: Mapping[str, Any], model: str | None,
                    usage: Mapping[str, Any] | None) -> None:
        """Give one API response's usage to its most complete line, as ccusage picks it.

        Claude Code may write a streamed response as several lines sharing `message.id` and
        `requestId` whose output counts grow. The line kept: a non-sidechain one before a
        sidechain one, then the largest token total; on a tie the earlier line. A line without
        usage never replaces one with it.
        """
        rank = (not base["is_sidechain"], _usage_total(usage)) if usage is not None else (False, -1)
        held = self.responses.get(key) if key[0] is not None else None
        if held is not None and held[0] >= rank:
            return
        if held is not None:
            _drop_usage(held[1])
            if held[2]:
                self.report.unknown_models[held[1]["model"]] -= 1
                if self.report.unknown_models[held[1]["model"]] <= 0:
                    del self.report.unknown_models[held[1]["model"]]
        before = self.report.unknown_models[model] if model else 0
        self._usage_and_cost(base, obj, model, usage)
        if key[0] is not None:
            counted = bool(model) and self.report.unknown_models[model] > before
            self.responses[key] = (rank, base, counted)

    def _usage_and_cost(self, base: dict[str, Any], obj: Mapping[str, Any], model: str | None,
                        usage: Mapping[str, Any] | None) -> None:
        if usage is not None:
            tokens = base["tokens"]
            for key, src in _USAGE_KEYS:
                value = usage.get(src)
                tokens[key] = int(value) if isinstance(value, int) or (
                    isinstance(value, float) and math.isfinite(value)) else None
        given = _money(obj.get("costUSD", obj.get("costUsd")))
        if given is not None:
            base["cost_usd"] = given
        elif usage is not None:
            try:
                cost = pricing.cost_from_usage(model, usage)
            except (ValueError, TypeError, OverflowError, ArithmeticError):
                cost = None  # token counts that are not numbers
            else:
                if cost is None and model and not model.startswith("<"):
                    self.report.unknown_models[model] += 1
            base["cost_usd"] = cost

    def _user(self, base: dict[str, Any], message: Any, ln: Line) -> None:
        if isinstance(message, Mapping):
            if "content" not in message:
                self.report.warning("user message has no 'content'; stored with empty text",
                                    file=ln.file, line=ln.line, record=base["id"])
            blocks = message.get("content")
        else:
            blocks = message
        if not isinstance(blocks, list):
            base["content"] = shape.other_text("user", message) if message is not None else ""
            self.messages.append(base)
            return
        texts, results = shape.user_parts(blocks)
        base["content"] = "\n".join(texts)
        if texts or not results:  # upstream stores no user document for tool results alone
            self.messages.append(base)
        for i, block in enumerate(results):
            part = self._part(base, f"_result_{i}", "tool_result",
                              shape.tool_result_text(block.get("content", "")), block)
            tool_doc = self.tool_docs.get(as_str(block.get("tool_use_id")) or "")
            part["parent_id"] = tool_doc or (base["id"] if texts else base["parent_id"])
            self.messages.append(part)


def _usage_total(usage: Mapping[str, Any] | None) -> int:
    """input + output + cache write + cache read tokens (what ccusage ranks a line by)."""
    total = 0
    for _, src in _USAGE_KEYS:
        value = usage.get(src) if usage is not None else None
        if isinstance(value, int) or (isinstance(value, float) and math.isfinite(value)):
            total += int(value)
    return total


def _drop_usage(message: dict[str, Any]) -> None:
    """Take usage and cost off a line another line of the same API response replaces."""
    message["tokens"] = empty_tokens()
    message["cost_usd"] = None


def _money(value: Any) -> Decimal | None:
    """A given cost as a finite, non-negative Decimal, else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        d = Decimal(str(value).strip()) if isinstance(value, str) else records.to_decimal(value)
    except ArithmeticError:
        return None
    return d if d is not None and d.is_finite() and d >= 0 else None


_NOT_TYPED = ("<command-", "<local-command-", "<system-reminder>", "<bash-",
              "Caveat: The messages below were generated by the user while running local commands")


def _typed_by_user(msg: Mapping[str, Any]) -> bool:
    """False for the caveats, slash-command echoes and reminders Claude Code writes as user lines."""
    return not msg["metadata"]["metadata"].get("isMeta") and not msg["content"].lstrip().startswith(_NOT_TYPED)


def _usage_fields(messages: list[dict[str, Any]], leaf: str | None, summary: str | None) -> None:
    """Usage where upstream keeps it (`usage`, `metadata.usage`) for the lines whose usage
    counts (the one place usage goes into a message's fields), and the session's summary on
    its leaf message's documents."""
    for m in messages:
        meta = m["metadata"]
        if m["type"] == "assistant" and any(v is not None for v in m["tokens"].values()):
            raw = meta.get("messageData", {}).get("usage")
            if isinstance(raw, Mapping):
                meta["usage"] = dict(raw)
                meta["metadata"]["usage"] = dict(raw)
        if summary is not None and leaf is not None and (
                m["id"] == leaf or m["id"].startswith((f"{leaf}_tool_", f"{leaf}_result_"))):
            meta["summary"] = summary
            meta["leafUuid"] = leaf


def conversation(sid: str, lines: list[Line], summary: str | None,
                 titles: Mapping[str, str], report: ReadReport,
                 project: tuple[str, str], leaf: str | None = None) -> dict[str, Any]:
    """One session's kept lines (timestamp order) as a canonical conversation.

    `project` is (name, path) of the Claude projects folder the lines were read from, the
    key upstream's sync gives the project.
    """
    name, path = project
    builder = SessionBuilder(sid, report, path)
    for ln in lines:
        builder.add(ln)
    messages = builder.messages
    _usage_fields(messages, leaf, summary)
    start, end = lines[0].ts, max(ln.ts for ln in lines)
    prompts = [m for m in messages if m["type"] == "user" and _typed_by_user(m)]
    title = (titles.get("custom-title") or titles.get("ai-title")
             or records.derive_title(summary, prompts) or records.derive_title(summary, messages))
    return {
        "id": sid,
        "external_id": None,
        "title": title,
        "summary": summary,
        "project_id": None,
        "project_name": name,
        "project_path": path,
        "created_at": start,
        "updated_at": end,
        "duration_seconds": duration_seconds(start, end),
        "model": records.most_used_model(messages),
        "cost_usd": sum((m["cost_usd"] for m in messages if m["cost_usd"] is not None), Decimal(0)),
        "message_count": len(messages),
        "tags": [],
        "metadata": {"custom_fields": {}},
        "messages": messages,
        "branches": [],
        "parent_conversation_id": None,
    }
