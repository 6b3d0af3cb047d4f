"""Per-collection facts about messages (which sessions use which models and types), kept in
our own `claudelens_nb_facts` collection so pickers, model filters and previews answer in
milliseconds instead of scanning every message.

A collection's facts are recomputed (one `$group` over that collection) when its document
count differs from the count they were computed at, or when a writer of ours calls
`invalidate`. Monthly collections of past months rarely change, so most calls read only
the small facts documents.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterable
from typing import Any

from pymongo.database import Database
from pymongo.errors import DocumentTooLarge, PyMongoError

from . import collections as names

FACTS_VERSION = 1


def _compute(db: Database, name: str) -> dict[str, Any]:
    sessions: dict[str, dict[str, Any]] = {}
    pipeline = [{"$group": {"_id": {"s": "$sessionId", "t": "$type", "m": "$model"}, "n": {"$sum": 1}}}]
    for row in db[name].aggregate(pipeline, allowDiskUse=True):
        key = row["_id"]
        sid = key.get("s")
        if not isinstance(sid, str):
            continue
        entry = sessions.setdefault(sid, {"types": {}, "models": []})
        t = key.get("t")
        if isinstance(t, str):
            entry["types"][t] = entry["types"].get(t, 0) + int(row["n"])
        m = key.get("m")
        if isinstance(m, str) and m not in entry["models"]:
            entry["models"].append(m)
    # Session ids become keys: keep them out of the key space MongoDB reserves.
    return {"pairs": [[sid, e["types"], e["models"]] for sid, e in sessions.items()]}


def _load(db: Database) -> dict[str, list]:
    """Facts for every message collection, refreshed where stale: {name: pairs}."""
    store = db[names.FACTS]
    have = {d["_id"]: d for d in store.find({"version": FACTS_VERSION})}
    out: dict[str, list] = {}
    for name in names.message_collection_names(db):
        count = db[name].estimated_document_count()
        doc = have.get(name)
        if doc is None or doc.get("count") != count:
            facts = _compute(db, name)
            doc = {"_id": name, "version": FACTS_VERSION, "count": count, **facts}
            # Too many sessions in one month to cache, or no write permission: answer from
            # this computation.
            with contextlib.suppress(DocumentTooLarge, PyMongoError):
                store.replace_one({"_id": name}, doc, upsert=True)
        out[name] = doc["pairs"]
    return out


def invalidate(db: Database, collection_names: Iterable[str] | None = None) -> None:
    """Forget facts (all, or of the named collections) after our own writes."""
    query: dict[str, Any] = {}
    if collection_names is not None:
        query = {"_id": {"$in": list(collection_names)}}
    db[names.FACTS].delete_many(query)


def models(db: Database) -> list[str]:
    found: set[str] = set()
    for pairs in _load(db).values():
        for _sid, _types, mods in pairs:
            found.update(mods)
    return sorted(found)


def sessions_with_models(db: Database, wanted: Iterable[str]) -> set[str]:
    wanted = set(wanted)
    return {
        sid
        for pairs in _load(db).values()
        for sid, _types, mods in pairs
        if wanted.intersection(mods)
    }


def message_counts(db: Database, session_ids: set[str] | None, types: Iterable[str]) -> int:
    """How many messages of `types` the sessions (None: all) hold, across collections."""
    wanted = set(types)
    total = 0
    for pairs in _load(db).values():
        for sid, type_counts, _mods in pairs:
            if session_ids is None or sid in session_ids:
                total += sum(n for t, n in type_counts.items() if t in wanted)
    return total


def type_counts(db: Database, session_ids: set[str] | None = None) -> Counter:
    out: Counter = Counter()
    for pairs in _load(db).values():
        for sid, counts, _mods in pairs:
            if session_ids is None or sid in session_ids:
                out.update(counts)
    return out
