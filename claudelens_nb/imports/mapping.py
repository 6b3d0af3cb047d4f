"""Field mapping: which source field feeds which canonical field.

Smart defaults map the common synonyms; a user mapping overrides any of them
(`{"source": "target"}`, target "skip" drops the field). Message-level fields are spelt
`message.<name>` on both sides. A source field with no target is kept in `metadata`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import ErrorCode, ValidationFailed

CONVERSATION_FIELDS = [
    "id", "external_id", "title", "summary", "project_id", "project_name", "project_path",
    "created_at", "updated_at", "duration_seconds", "model", "cost_usd", "message_count",
    "tags", "metadata", "messages", "branches", "parent_conversation_id",
]
MESSAGE_FIELDS = [
    "id", "parent_id", "type", "content", "timestamp", "tokens", "cost_usd", "model",
    "tool_name", "tool_input", "is_sidechain", "metadata",
]
SKIP = "skip"
MESSAGE_PREFIX = "message."
TARGET_FIELDS: list[str] = (
    CONVERSATION_FIELDS + [MESSAGE_PREFIX + f for f in MESSAGE_FIELDS] + [SKIP]
)

# Target -> source names, best first. The canonical name itself always comes first.
CONVERSATION_SYNONYMS: dict[str, list[str]] = {
    "id": ["id", "conversation_id", "conversationId", "session_id", "sessionId", "uuid"],
    "external_id": ["external_id", "externalId"],
    "title": ["title", "name", "subject"],
    "summary": ["summary"],
    "project_id": ["project_id", "projectId"],
    "project_name": ["project_name", "projectName", "project"],
    "project_path": ["project_path", "projectPath"],
    "created_at": ["created_at", "createdAt", "timestamp", "started_at", "startedAt",
                   "create_time", "start_time"],
    "updated_at": ["updated_at", "updatedAt", "ended_at", "endedAt", "update_time",
                   "last_updated", "lastUpdated"],
    "duration_seconds": ["duration_seconds", "durationSeconds", "duration"],
    "model": ["model"],
    "cost_usd": ["cost_usd", "costUsd", "total_cost", "totalCost", "cost"],
    "message_count": ["message_count", "messageCount"],
    "tags": ["tags", "labels"],
    "metadata": ["metadata"],
    "messages": ["messages", "msgs", "chat_messages", "turns"],
    "branches": ["branches"],
    "parent_conversation_id": ["parent_conversation_id", "parentConversationId"],
}
MESSAGE_SYNONYMS: dict[str, list[str]] = {
    "id": ["id", "uuid", "message_id", "messageId"],
    "parent_id": ["parent_id", "parentUuid", "parent_uuid", "parentId", "parent"],
    "type": ["type", "role", "sender"],
    "content": ["content", "text", "body"],
    "timestamp": ["timestamp", "created_at", "createdAt", "create_time", "time"],
    "tokens": ["tokens", "usage"],
    "cost_usd": ["cost_usd", "costUsd", "cost"],
    "model": ["model"],
    "tool_name": ["tool_name", "toolName"],
    "tool_input": ["tool_input", "toolInput"],
    "is_sidechain": ["is_sidechain", "isSidechain"],
    "metadata": ["metadata"],
}


def check_mapping(mapping: Mapping[str, str] | None) -> dict[str, str]:
    """A user mapping checked against TARGET_FIELDS (plus 'metadata' for message fields)."""
    out: dict[str, str] = {}
    for source, target in (mapping or {}).items():
        if not isinstance(source, str) or not source:
            raise ValidationFailed(f"mapping: source field {source!r} is not a name",
                                   code=ErrorCode.INVALID_MAPPING)
        if target not in TARGET_FIELDS:
            raise ValidationFailed(
                f"mapping: {source!r} -> {target!r}: unknown target; choose one of "
                f"{', '.join(TARGET_FIELDS)}", code=ErrorCode.INVALID_MAPPING,
            )
        if source.startswith(MESSAGE_PREFIX) != target.startswith(MESSAGE_PREFIX) and target != SKIP:
            raise ValidationFailed(
                f"mapping: {source!r} -> {target!r}: message fields map to message.* targets only",
                code=ErrorCode.INVALID_MAPPING,
            )
        out[source] = target
    return out


class Resolver:
    """Resolves the keys of one level (conversation or message) to canonical targets."""

    def __init__(self, user: Mapping[str, str], level: str) -> None:
        self.level = level
        prefix = MESSAGE_PREFIX if level == "message" else ""
        self.synonyms = MESSAGE_SYNONYMS if level == "message" else CONVERSATION_SYNONYMS
        self.user = {
            k[len(prefix):]: (v[len(prefix):] if v != SKIP else SKIP)
            for k, v in user.items()
            if k.startswith(MESSAGE_PREFIX) == bool(prefix)
        }
        self._cache: dict[tuple[str, ...], dict[str, str]] = {}

    def resolve(self, keys: Iterable[str]) -> dict[str, str]:
        """source key -> target ("skip", a canonical field, or "" for metadata)."""
        keys = tuple(keys)
        hit = self._cache.get(keys)
        if hit is not None:
            return hit
        out: dict[str, str] = {}
        taken: set[str] = set()
        for k in keys:
            if k in self.user:
                out[k] = self.user[k]
                if self.user[k] != SKIP:
                    taken.add(self.user[k])
        present = set(keys)
        for target, names in self.synonyms.items():
            if target in taken:
                continue
            for name in names:
                if name in present and name not in out:
                    out[name] = target
                    taken.add(target)
                    break
        for k in keys:
            out.setdefault(k, "")
        if len(self._cache) < 256:
            self._cache[keys] = out
        return out

    def apply(self, raw: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """(canonical fields, unknown fields for metadata)."""
        known: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        for k, target in self.resolve(raw.keys()).items():
            if target == SKIP:
                continue
            if target:
                known[target] = raw[k]
            else:
                extra[k] = raw[k]
        return known, extra


def default_target(source: str, level: str) -> str:
    synonyms = MESSAGE_SYNONYMS if level == "message" else CONVERSATION_SYNONYMS
    for target, names in synonyms.items():
        if source in names:
            return target
    return "metadata"
