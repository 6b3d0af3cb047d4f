"""Upstream ClaudeLens's own JSON export (backend/app/services/export_service.py) read back.

Upstream names a conversation by its session document's ObjectId and a message by its
document's ObjectId; the ids that matter (`sessionId`, the message `uuid`) sit in each
message's `metadata`. Read as they are, the sessions would get new ids and point to none
of their messages, so the real ids are put back in place.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bson import ObjectId


def _session_id(conv: Mapping[str, Any]) -> str | None:
    """The one `metadata.sessionId` all of a conversation's messages name, if they do."""
    found = set()
    for m in conv.get("messages") or []:
        meta = m.get("metadata") if isinstance(m, Mapping) else None
        sid = meta.get("sessionId") if isinstance(meta, Mapping) else None
        if not isinstance(sid, str) or not sid:
            return None
        found.add(sid)
    return found.pop() if len(found) == 1 else None


def adapt(conv: Any) -> Any:
    """`conv` with upstream's session and message ids restored (anything else unchanged)."""
    if not isinstance(conv, Mapping) or not ObjectId.is_valid(str(conv.get("id", ""))):
        return conv
    sid = _session_id(conv)
    if sid is None:
        return conv
    out = dict(conv)
    out["id"] = sid
    meta = dict(out.get("metadata") or {}) if isinstance(out.get("metadata"), Mapping) else {}
    meta["upstream_session_document"] = conv["id"]
    out["metadata"] = meta
    messages = []
    for m in conv["messages"]:
        m = dict(m)
        mm = dict(m["metadata"])
        mm.pop("sessionId", None)
        uid = mm.pop("uuid", None)
        if isinstance(uid, str) and uid:
            mm["upstream_document"] = m.get("id")
            m["id"] = uid
        m["metadata"] = {k: v for k, v in mm.items() if v is not None}
        messages.append(m)
    out["messages"] = messages
    return out
