"""Message trees (ChatGPT's `mapping`, claude.ai's `parent_message_uuid`): the visible thread
and the abandoned branches.

A branch is stored in the conversation's `branches` as a JSON-safe dict (so it survives a
JSON export and re-import unchanged):
`{"fork_id": <id of the kept message it leaves from, or None>, "leaf_id": <last node id>,
"messages": [<canonical message records, timestamps as ISO text, costs as numbers>]}`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .. import records


def path_to_root(leaf: str, parent: Mapping[str, str | None]) -> list[str]:
    """Ids from the root down to `leaf` (a cycle or a dangling parent ends the walk)."""
    out: list[str] = []
    seen: set[str] = set()
    node: str | None = leaf
    while node is not None and node in parent and node not in seen:
        seen.add(node)
        out.append(node)
        node = parent[node]
    out.reverse()
    return out


def branch_paths(
    order: Sequence[str], parent: Mapping[str, str | None], visible: Sequence[str]
) -> list[tuple[str | None, list[str]]]:
    """(attachment node, new node ids top-down) for each leaf off the visible thread.

    Every node not on the visible thread lands in exactly one branch; leaves are taken in
    document order.
    """
    has_child = {p for p in parent.values() if p is not None}
    covered = set(visible)
    out: list[tuple[str | None, list[str]]] = []
    for node in order:
        if node in has_child or node in covered:
            continue
        fresh: list[str] = []
        cur: str | None = node
        seen: set[str] = set()
        while cur is not None and cur in parent and cur not in covered and cur not in seen:
            seen.add(cur)
            fresh.append(cur)
            cur = parent[cur]
        fresh.reverse()
        covered.update(fresh)
        out.append((cur if cur in covered else None, fresh))
    return out


def kept_ancestor(node: str | None, parent: Mapping[str, str | None],
                  kept: Callable[[str], bool]) -> str | None:
    """The nearest node at or above `node` that is kept as a message."""
    seen: set[str] = set()
    while node is not None and node not in seen:
        seen.add(node)
        if kept(node):
            return node
        node = parent.get(node)
    return None


def branch_record(fork_id: str | None, leaf_id: str, messages: list[dict[str, Any]]) -> dict[str, Any]:
    return {"fork_id": fork_id, "leaf_id": leaf_id,
            "messages": [records.to_json_value(m) for m in messages]}
