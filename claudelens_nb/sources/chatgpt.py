"""ChatGPT data export (`conversations.json` with a `mapping` tree) as conversations.

The visible thread is `current_node` followed up through `parent`. Abandoned branches
(edited prompts, regenerated answers) go into `branches` as JSON-safe dicts of message
records (see threads.py). Roles: user -> user, assistant -> assistant (or tool_use when it
addresses a tool through `recipient`), tool -> tool_result, system -> system. Hidden nodes
(no message, `is_visually_hidden_from_conversation`, empty system messages) are skipped
and counted. Times are Unix float seconds (messages of one thread that share a time are
spaced 1 ms apart in thread order); the model is `metadata.model_slug`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from .. import records
from ..reading import ReadReport
from ..security import DEFAULT_LIMITS, Limits
from . import threads
from .content import (
    as_list,
    as_map,
    as_str,
    chat_conversation,
    empty_tokens,
    keep_thread_order,
    parse_time,
)
from .exports import conversations

KIND = "chatgpt"
PROJECT = ("ChatGPT", "chatgpt://")
_CONSUMED = {"mapping", "current_node", "title", "create_time", "update_time", "id", "conversation_id"}
_ROLE_TYPE = {"user": "user", "assistant": "assistant", "tool": "tool_result", "system": "system"}


def _part_text(part: Any) -> str:
    if isinstance(part, str):
        return part
    if isinstance(part, Mapping):
        ct = as_str(part.get("content_type")) or ""
        if ct == "image_asset_pointer":
            return "[Image]"
        if isinstance(part.get("text"), str):
            return part["text"]
        return f"[{ct}]" if ct else ""
    return "" if part is None else str(part)


def content_text(content: Any) -> str:
    """A ChatGPT `content` object as readable text."""
    if not isinstance(content, Mapping):
        return "" if content is None else str(content)
    ct = as_str(content.get("content_type"))
    if ct == "code":
        lang = as_str(content.get("language")) or ""
        lang = "" if lang == "unknown" else lang
        return f"```{lang}\n{as_str(content.get('text')) or ''}\n```"
    if ct == "thoughts":
        thoughts = as_list(content.get("thoughts"))
        texts = [as_str(as_map(t).get("content")) or as_str(as_map(t).get("summary")) for t in thoughts]
        body = "\n\n".join(t for t in texts if t)
        return f"[Thinking]\n{body}" if body else ""
    if ct == "tether_quote":
        return "\n".join(x for x in (as_str(content.get("title")), as_str(content.get("text"))) if x)
    if ct == "tether_browsing_display":
        return as_str(content.get("result")) or as_str(content.get("summary")) or ""
    if ct == "user_editable_context":
        return "\n\n".join(x for x in (as_str(content.get("user_profile")),
                                        as_str(content.get("user_instructions"))) if x)
    if isinstance(content.get("parts"), list):
        return "\n".join(t for t in (_part_text(p) for p in content["parts"]) if t)
    for key in ("text", "content", "result"):
        if isinstance(content.get(key), str):
            return content[key]
    return f"[{ct}]" if ct else ""


def _hidden(message: Mapping[str, Any] | None, text: str) -> str | None:
    """Why a node is skipped, or None when it is shown."""
    if not isinstance(message, Mapping):
        return "node without message"
    if as_map(message.get("metadata")).get("is_visually_hidden_from_conversation"):
        return "hidden message"
    role = as_map(message.get("author")).get("role")
    if role == "system" and not text.strip():
        return "empty system message"
    return None


def _record(node_id: str, message: Mapping[str, Any], text: str, parent_id: str | None,
            fallback_ts: datetime | None) -> dict[str, Any]:
    author = as_map(message.get("author"))
    role = as_str(author.get("role"))
    meta = as_map(message.get("metadata"))
    type_ = _ROLE_TYPE.get(role or "", "system")
    recipient = as_str(message.get("recipient"))
    tool_name = tool_input = None
    if type_ == "assistant" and recipient not in (None, "all"):
        type_, tool_name = "tool_use", recipient
        content = as_map(message.get("content"))
        code = content.get("text") if content.get("content_type") == "code" else None
        tool_input = {"code": code} if isinstance(code, str) else {"input": text}
    elif type_ == "tool_result":
        tool_name = as_str(author.get("name"))
    model = meta.get("model_slug") if type_ in ("assistant", "tool_use") else None
    return {
        "id": as_str(message.get("id")) or node_id,
        "parent_id": parent_id,
        "type": type_,
        "content": text,
        "timestamp": parse_time(message.get("create_time")) or fallback_ts,
        "tokens": empty_tokens(),
        "cost_usd": None,
        "model": model if isinstance(model, str) else None,
        "tool_name": tool_name,
        "tool_input": tool_input,
        "is_sidechain": False,
        "metadata": {"messageData": dict(message)},
    }


def _conversation(obj: Mapping[str, Any], file: str, n: int,
                  report: ReadReport) -> dict[str, Any] | None:
    cid = obj.get("conversation_id") or obj.get("id")
    mapping = obj.get("mapping")
    if not isinstance(cid, str) or not isinstance(mapping, Mapping):
        report.warning("conversation without an id or a mapping; skipped", file=file, record=str(cid or n))
        return None
    parent: dict[str, str | None] = {}
    order: list[str] = []
    for key, node in mapping.items():
        if isinstance(node, Mapping):
            parent[key] = node.get("parent") if isinstance(node.get("parent"), str) else None
            order.append(key)
    texts: dict[str, str] = {}
    skipped: dict[str, str] = {}
    for key in order:
        message = mapping[key].get("message")
        texts[key] = content_text(message.get("content")) if isinstance(message, Mapping) else ""
        why = _hidden(message, texts[key])
        if why:
            skipped[key] = why

    def kept(node: str) -> bool:
        return node in parent and node not in skipped

    leaf = as_str(obj.get("current_node"))
    if leaf not in parent:
        leaves = [k for k in order if k not in {p for p in parent.values() if p}]
        leaf = max(leaves, key=lambda k: _created(mapping[k]), default=None)
    visible = threads.path_to_root(leaf, parent) if leaf else []
    start = parse_time(obj.get("create_time"))

    def build(ids: list[str], first_parent: str | None) -> list[dict[str, Any]]:
        out, prev, ts = [], first_parent, start
        for node in ids:
            if not kept(node):
                report.skipped[skipped[node]] += 1
                continue
            rec = _record(node, mapping[node]["message"], texts[node], prev, ts)
            if rec["timestamp"] is None:
                report.warning("message without a time; skipped", file=file, record=rec["id"])
                continue
            ts = rec["timestamp"]
            prev = rec["id"]
            out.append(rec)
        return out

    messages = keep_thread_order(build(visible, None))
    branches = []
    for fork, ids in threads.branch_paths(order, parent, visible):
        fork_id = threads.kept_ancestor(fork, parent, kept)
        fork_msg = _msg_id(mapping, fork_id)
        recs = keep_thread_order(build(ids, fork_msg))
        if recs:
            branches.append(threads.branch_record(fork_msg, ids[-1], recs))
    if not messages:
        report.skipped["empty conversation"] += 1
        return None
    created = start or messages[0]["timestamp"]
    updated = parse_time(obj.get("update_time")) or max(m["timestamp"] for m in messages)
    return chat_conversation(
        cid, obj, _CONSUMED, messages, title=as_str(obj.get("title")), summary=None,
        project=PROJECT, created=created, updated=updated,
        model=records.most_used_model(messages), branches=branches,
    )


def _created(node: Mapping[str, Any]) -> float:
    ts = parse_time(as_map(node.get("message")).get("create_time"))
    return ts.timestamp() if ts else 0.0


def _msg_id(mapping: Mapping[str, Any], node: str | None) -> str | None:
    if node is None:
        return None
    return as_str(as_map(mapping[node].get("message")).get("id")) or node


def read(path: Path, report: ReadReport, *,
         limits: Limits = DEFAULT_LIMITS) -> Iterator[dict[str, Any]]:
    """Canonical conversations of a ChatGPT export (a zip read in place under `limits`)."""
    for file, n, obj in conversations(path, KIND, report, limits=limits):
        conv = _conversation(obj, file, n, report)
        if conv is not None:
            yield conv
