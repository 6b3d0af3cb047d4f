"""The text and fields upstream ClaudeLens's ingest gives a Claude Code line's documents.

Upstream's sync CLI and ingest service (backend/app/services/ingest.py) are the reference:
an import of a transcript must store what their sync stores. docs/upstream.md lists where we
deliberately differ.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

# Line fields upstream copies onto every document of a line when not None (its
# `_add_optional_fields`), in its order; `isSidechain` is ours to set (see docs/upstream.md).
COPIED_FIELDS = ("userType", "cwd", "model", "durationMs", "requestId", "version",
                 "gitBranch", "toolUseResult", "summary", "leafUuid")
# Line fields upstream reads itself; any other field of a line goes into `metadata`.
LINE_FIELDS = frozenset({
    "uuid", "type", "timestamp", "sessionId", "parentUuid", "isSidechain", "userType", "cwd",
    "version", "gitBranch", "message", "toolUseResult", "costUsd", "costUSD", "durationMs",
    "requestId", "summary", "leafUuid",
})

# Upstream's one-line summary of a tool call inside the assistant message's text:
# (emoji and words, the input field shown).
_TOOL_LINES: dict[str, tuple[str, str]] = {
    "Read": ("📄 Reading file", "file_path"),
    "Write": ("✏️ Writing to file", "file_path"),
    "Edit": ("✏️ Editing file", "file_path"),
    "LS": ("📁 Listing directory", "path"),
    "Glob": ("🔍 Finding files matching", "pattern"),
    "Grep": ("🔍 Searching for", "pattern"),
    "WebSearch": ("🌐 Web search", "query"),
    "WebFetch": ("🌐 Fetching", "url"),
    "NotebookRead": ("📓 Reading notebook", "notebook_path"),
    "NotebookEdit": ("📓 Editing notebook", "notebook_path"),
    "Task": ("🤖 Running agent task", "description"),
}


def _text(value: Any) -> str:
    """A text field that a broken line may hold as something else."""
    if isinstance(value, str):
        return value
    return "" if value is None else str(value)


def _count(value: Any) -> int:
    return len(value) if isinstance(value, (list, tuple, dict, str)) else 0


def _field(tool_input: Any, key: str) -> Any:
    return tool_input.get(key, "") if isinstance(tool_input, Mapping) else ""


def tool_line(block: Mapping[str, Any]) -> str:
    """One tool call as upstream writes it into the assistant message's text."""
    name = _text(block.get("name", "Unknown"))
    tool_input = block.get("input", {})
    if name in _TOOL_LINES:
        words, key = _TOOL_LINES[name]
        return f"{words}: {_field(tool_input, key)}"
    if name == "MultiEdit":
        edits = _count(_field(tool_input, "edits"))
        return f"✏️ Multiple edits ({edits}) to: {_field(tool_input, 'file_path')}"
    if name == "Bash":
        command = _field(tool_input, "command")
        if isinstance(command, str) and len(command) > 60:
            command = command[:60] + "..."
        return f"💻 Running command: {command}"
    if name == "TodoWrite":
        return f"📝 Updating todo list ({_count(_field(tool_input, 'todos'))} items)"
    if name == "ExitPlanMode":
        return "📋 Exiting plan mode"
    return f"🔧 Using tool: {name}"


def assistant_text(blocks: list[Any]) -> tuple[str, str | None, list[Mapping[str, Any]]]:
    """(content, thinking, tool_use blocks) of an assistant message's content list."""
    texts: list[str] = []
    thinking: list[str] = []
    tools: list[Mapping[str, Any]] = []
    for block in blocks:
        if not isinstance(block, Mapping):
            continue
        kind = block.get("type")
        if kind == "text":
            texts.append(_text(block.get("text")))
        elif kind == "thinking" and block.get("thinking"):
            thinking.append(_text(block["thinking"]))
        elif kind == "tool_use":
            tools.append(block)
    parts: list[str] = []
    if thinking:
        parts.append("[Thinking]\n" + "\n".join(thinking))
    parts.extend(texts)
    if tools:
        parts.append("\n".join(tool_line(b) for b in tools))
    return "\n\n".join(parts), ("\n".join(thinking) if thinking else None), tools


def user_parts(blocks: list[Any]) -> tuple[list[str], list[Mapping[str, Any]]]:
    """(text parts, tool_result blocks) of a user message's content list."""
    texts = [_text(b.get("text")) for b in blocks if isinstance(b, Mapping) and b.get("type") == "text"]
    results = [b for b in blocks if isinstance(b, Mapping) and b.get("type") == "tool_result"]
    return texts, results


def block_json(block: Any) -> str:
    """A tool_use block as the JSON upstream stores as the tool_use document's content."""
    return json.dumps(block, ensure_ascii=False)


def tool_result_text(content: Any) -> str:
    return content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)


def other_text(kind: str, message: Any) -> str:
    """Content of a line that is neither a user nor an assistant message with a list."""
    if not isinstance(message, Mapping):
        return str(message)
    if kind == "user":
        raw = message.get("content", "")
        return raw if isinstance(raw, str) else ""
    if kind == "assistant":
        return str(message.get("content", []))
    if "content" in message:
        content = message.get("content", "")
        if isinstance(content, list):
            return "\n".join(_text(b.get("text")) for b in content
                             if isinstance(b, Mapping) and b.get("type") == "text")
        return content if isinstance(content, str) else str(content)
    return str(message)


def tool_use_result(value: Any) -> dict[str, Any]:
    """`toolUseResult` as upstream keeps it: an object (a string becomes {"output": ...}).

    Upstream turns other values into their Python repr; a list is kept as it is instead.
    """
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, (str, list)):
        return {"output": value}
    return {"output": str(value)}


def project_name(folder: str) -> str:
    """The project name upstream's sync derives from a Claude projects folder's name.

    `-Users-me-code-my-app` gives `app` (the last dash-separated part), as upstream names it.
    """
    name = PurePath(folder.rstrip("/\\")).name or folder
    if name.startswith("-") and "-" in name[1:]:
        parts = [p for p in name.split("-") if p]
        if parts:
            return parts[-1]
    return name


def project_description(name: str) -> str:
    return f"Claude project: {name}"
