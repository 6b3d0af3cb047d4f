"""claude.ai data export (`conversations.json` or the export zip) as conversations.

Each conversation: uuid, name, created_at, updated_at, chat_messages (sender human or
assistant; `text` and/or `content` blocks; `attachments` and `files`). Content blocks win
over `text` when present (thinking marked, tool calls summarised inline); attachments and
files are kept in the message metadata and named in the text. Where messages carry
`parent_message_uuid`, the visible thread is the latest leaf (or
`current_leaf_message_uuid`) followed back; other branches go into `branches` (threads.py).
Without it the messages form one thread in file order. Messages of one thread that share a
time are spaced 1 ms apart in thread order (the export's times stay in `messageData`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from ..reading import ReadReport
from ..security import DEFAULT_LIMITS, Limits
from . import threads
from .content import (
    as_list,
    as_map,
    as_str,
    chat_conversation,
    empty_tokens,
    flatten,
    keep_thread_order,
    parse_time,
)
from .exports import conversations

KIND = "claude_ai"
PROJECT = ("claude.ai", "claude.ai://")
ROOT_PARENT = "00000000-0000-4000-8000-000000000000"
_SENDER_TYPE = {"human": "user", "user": "user", "assistant": "assistant"}
_CONSUMED = {"uuid", "name", "summary", "created_at", "updated_at", "chat_messages"}
_SIDE = ("attachments", "files", "files_v2")


def message_text(msg: Mapping[str, Any]) -> str:
    blocks = msg.get("content")
    text = flatten(blocks, tools_inline=True) if isinstance(blocks, list) and blocks else ""
    if not text:
        given = msg.get("text")
        text = given if isinstance(given, str) else ""
    attachments = as_list(msg.get("attachments"))
    files = as_list(msg.get("files"))
    names = [f"[Attachment: {as_str(a.get('file_name')) or 'unnamed'}]"
             for a in attachments if isinstance(a, Mapping)]
    names += [f"[File: {as_str(f.get('file_name')) or as_str(f.get('file_uuid')) or 'unnamed'}]"
              for f in files if isinstance(f, Mapping)]
    return "\n\n".join(x for x in [text, *names] if x)


def _record(msg: Mapping[str, Any], mid: str, parent_id: str | None, fallback_ts: Any,
            file: str, report: ReadReport) -> dict[str, Any] | None:
    sender = msg.get("sender")
    type_ = _SENDER_TYPE.get(sender) if isinstance(sender, str) else None
    if type_ is None:
        report.warning(f"unknown sender {sender!r}; stored as a system message", file=file, record=mid)
        type_ = "system"
    ts = parse_time(msg.get("created_at")) or fallback_ts
    if ts is None:
        report.warning("message without created_at; skipped", file=file, record=mid)
        return None
    meta: dict[str, Any] = {"messageData": {k: v for k, v in msg.items() if k not in _SIDE}}
    meta.update((k, msg[k]) for k in _SIDE if k in msg)
    return {
        "id": mid,
        "parent_id": parent_id,
        "type": type_,
        "content": message_text(msg),
        "timestamp": ts,
        "tokens": empty_tokens(),
        "cost_usd": None,
        "model": None,
        "tool_name": None,
        "tool_input": None,
        "is_sidechain": False,
        "metadata": meta,
    }


def _conversation(obj: Mapping[str, Any], file: str, n: int,
                  report: ReadReport) -> dict[str, Any] | None:
    cid = obj.get("uuid")
    raw = obj.get("chat_messages")
    if not isinstance(cid, str) or not isinstance(raw, list):
        report.warning("conversation without a uuid or chat_messages; skipped", file=file, record=str(cid or n))
        return None
    start = parse_time(obj.get("created_at"))
    by_id: dict[str, Mapping[str, Any]] = {}
    order: list[str] = []
    for i, msg in enumerate(raw):
        if not isinstance(msg, Mapping):
            report.warning(f"message {i} is not an object; skipped", file=file, record=cid)
            continue
        uuid = msg.get("uuid")
        mid = uuid if isinstance(uuid, str) else f"{cid}:{i}"
        if mid in by_id:
            report.warning(f"message {mid} is listed twice; the first is kept", file=file, record=cid)
            continue
        by_id[mid] = msg
        order.append(mid)
    tree = any("parent_message_uuid" in m for m in by_id.values())
    messages: list[dict[str, Any]] = []
    branches: list[dict[str, Any]] = []

    def build(ids: list[str], prev: str | None) -> list[dict[str, Any]]:
        out, ts = [], start
        for mid in ids:
            rec = _record(by_id[mid], mid, prev, ts, file, report)
            if rec is not None:
                out.append(rec)
                prev, ts = mid, rec["timestamp"]
        return keep_thread_order(out)

    if tree:
        parent = {m: (p if isinstance(p := by_id[m].get("parent_message_uuid"), str)
                      and p != ROOT_PARENT and p in by_id else None) for m in order}
        leaf = as_str(obj.get("current_leaf_message_uuid"))
        if leaf not in by_id:
            parents = set(parent.values())
            leaves = [(i, m) for i, m in enumerate(order) if m not in parents]
            leaf = max(leaves, key=lambda im: (_stamp(by_id[im[1]]), im[0]), default=(0, None))[1]
        visible = threads.path_to_root(leaf, parent) if leaf else []
        messages = build(visible, None)
        for fork, ids in threads.branch_paths(order, parent, visible):
            recs = build(ids, fork)
            if recs:
                branches.append(threads.branch_record(fork, ids[-1], recs))
    else:
        messages = build(order, None)
    if not messages:
        report.skipped["empty conversation"] += 1
        return None
    project = as_map(obj.get("project"))
    name, path = PROJECT
    if as_str(project.get("name")):
        name = project["name"]
        path = f"claude.ai://project/{as_str(project.get('uuid')) or name}"
    created = start or messages[0]["timestamp"]
    updated = parse_time(obj.get("updated_at")) or max(m["timestamp"] for m in messages)
    summary = obj.get("summary") if isinstance(obj.get("summary"), str) and obj["summary"] else None
    return chat_conversation(
        cid, obj, _CONSUMED, messages, title=as_str(obj.get("name")), summary=summary,
        project=(name, path), created=created, updated=updated,
        model=obj.get("model") if isinstance(obj.get("model"), str) else None, branches=branches,
    )


def _stamp(msg: Mapping[str, Any]) -> float:
    ts = parse_time(msg.get("created_at"))
    return ts.timestamp() if ts else 0.0


def read(path: Path, report: ReadReport, *,
         limits: Limits = DEFAULT_LIMITS) -> Iterator[dict[str, Any]]:
    """Canonical conversations of a claude.ai data export (a zip read in place under `limits`)."""
    for file, n, obj in conversations(path, KIND, report, limits=limits):
        conv = _conversation(obj, file, n, report)
        if conv is not None:
            yield conv
