"""Document-by-document comparison of what upstream's sync and our import stored."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pymongo.database import Database

# Set by the server when a document is written: never equal between two writers.
VOLATILE = frozenset({"_id", "createdAt", "updatedAt"})


def message_collections(db: Database) -> list[str]:
    return sorted(c for c in db.list_collection_names()
                  if c == "messages" or c.startswith("messages_"))


def messages_by_uuid(db: Database) -> dict[str, tuple[str, dict[str, Any]]]:
    """uuid -> (collection, document) over every message collection."""
    out: dict[str, tuple[str, dict[str, Any]]] = {}
    for name in message_collections(db):
        for doc in db[name].find():
            out[doc["uuid"]] = (name, doc)
    return out


def plain(doc: Mapping[str, Any], drop: Iterable[str] = ()) -> dict[str, Any]:
    gone = VOLATILE | set(drop)
    return {k: v for k, v in doc.items() if k not in gone}


def field_diff(theirs: Mapping[str, Any], ours: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    """field -> (upstream's value, ours) where they differ (a missing field is '<absent>')."""
    out = {}
    for key in sorted(set(theirs) | set(ours)):
        a, b = theirs.get(key, "<absent>"), ours.get(key, "<absent>")
        if a != b or type(a) is not type(b):
            out[key] = (a, b)
    return out


def session_view(db: Database, session_id: str) -> dict[str, Any]:
    """A session with its project's path, name and owner in place of the project's id."""
    s = db.sessions.find_one({"sessionId": session_id})
    if s is None:
        return {}
    p = db.projects.find_one({"_id": s["projectId"]}) or {}
    view = plain(s, drop=("projectId",))
    view["project"] = (p.get("path"), p.get("name"), p.get("user_id"))
    return view
