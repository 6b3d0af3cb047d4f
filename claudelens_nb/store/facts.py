"""Per-collection facts about messages (which sessions use which models and types), kept in
our own `claudelens_nb_facts` collection so pickers, model filters and previews answer in
milliseconds instead of scanning every message.

The facts are checked against a fingerprint of the small sessions collection (how many
sessions, the sum of their messageCount, the latest updatedAt: ClaudeLens's ingest and our
writers update them with every message) and the set of message collections. When it
changes, only the collections spanned by the sessions updated since are recomputed (one
`$group` each): a live ClaudeLens adds to the current month, and the other months keep
their facts. Everything is recomputed when the change is not accounted for that way
(sessions removed, counts the updated sessions do not explain), and after a writer of ours
calls `invalidate`. Counting a message collection itself is too slow on some servers to
serve as the check.
"""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pymongo.database import Database
from pymongo.errors import DocumentTooLarge, PyMongoError

from .. import state
from . import collections as names

FACTS_VERSION = 2
_HEAD = "__head__"


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


def _fingerprint(db: Database, collection_names: list[str]) -> dict[str, Any]:
    rows = list(db[names.SESSIONS].aggregate([{"$group": {
        "_id": None, "n": {"$sum": 1}, "messages": {"$sum": "$messageCount"},
        "updated": {"$max": "$updatedAt"}, "ended": {"$max": "$endedAt"},
    }}]))
    row = rows[0] if rows else {}
    return {
        "collections": collection_names,
        "sessions": row.get("n", 0),
        "messages": row.get("messages", 0),
        "updated": row.get("updated"),
        "ended": row.get("ended"),
    }


# One preview asks for facts several times in a row; a short in-process memory spares
# the repeated fingerprint round trips.
_RECENT_SECONDS = 2.0


def _load(db: Database) -> dict[str, list]:
    """Facts for every message collection, recomputed when stale: {name: pairs}."""
    key = state.db_key(db)
    hit = state.recent_facts.get(key)
    if hit and time.monotonic() - hit[0] < _RECENT_SECONDS:
        return hit[1]
    out = _load_checked(db)
    state.recent_facts[key] = (time.monotonic(), out)
    return out


def _months(start: datetime, end: datetime) -> list[str]:
    """The monthly collection names from `start`'s month to `end`'s."""
    out, y, m = [], start.year, start.month
    while (y, m) <= (end.year, end.month):
        out.append(f"messages_{y:04d}_{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _stale(db: Database, old: dict[str, Any], new: dict[str, Any],
           have: dict[str, list]) -> set[str] | None:
    """The collections a change since the `old` fingerprint can have touched: those spanned
    by the sessions updated since, and new ones. None (recompute all) when the change is
    not accounted for: sessions removed, or message counts the updated sessions do not
    explain (a writer that left `updatedAt` alone)."""
    if new["sessions"] < old.get("sessions", 0) or not isinstance(old.get("updated"), datetime):
        return None
    changed = list(db[names.SESSIONS].find(
        {"updatedAt": {"$gt": old["updated"]}},
        {"sessionId": 1, "startedAt": 1, "endedAt": 1, "messageCount": 1, "_id": 0}))
    counted: Counter = Counter()
    for pairs in have.values():
        for sid, types, _mods in pairs:
            counted[sid] += sum(types.values())
    explained = sum(int(s.get("messageCount") or 0) - counted.get(s.get("sessionId"), 0)
                    for s in changed)
    if explained != new["messages"] - old.get("messages", 0):
        return None
    present = set(new["collections"])
    stale = present - set(old.get("collections") or [])
    if changed and names.LEGACY_MESSAGES in present:
        stale.add(names.LEGACY_MESSAGES)  # any session's messages may live there
    for s in changed:
        start, end = s.get("startedAt"), s.get("endedAt")
        if not isinstance(start, datetime) or not isinstance(end, datetime) or end < start:
            return None
        stale.update(n for n in _months(start, end) if n in present)
    return stale


def _load_checked(db: Database) -> dict[str, list]:
    store = db[names.FACTS]
    collection_names = names.message_collection_names(db)
    fingerprint = _fingerprint(db, collection_names)
    head = store.find_one({"_id": _HEAD})
    have: dict[str, list] = {}
    if head and head.get("version") == FACTS_VERSION:
        have = {d["_id"]: d["pairs"] for d in store.find({"_id": {"$in": collection_names}})}
        if head.get("fingerprint") == fingerprint and set(have) == set(collection_names):
            return have
    stale = _stale(db, head["fingerprint"], fingerprint, have) if have and head else None
    if stale is None:
        stale = set(collection_names)
    stale |= set(collection_names) - set(have)
    out = {name: _compute(db, name)["pairs"] if name in stale else have[name]
           for name in collection_names}
    # Too many sessions in one month to cache, or no write permission: answer from this
    # computation and try again next time.
    with contextlib.suppress(DocumentTooLarge, PyMongoError):
        store.delete_one({"_id": _HEAD})
        store.delete_many({"_id": {"$nin": collection_names}})
        for name in stale:
            store.replace_one({"_id": name}, {"_id": name, "pairs": out[name]}, upsert=True)
        store.insert_one({"_id": _HEAD, "version": FACTS_VERSION, "fingerprint": fingerprint})
    return out


def invalidate(db: Database, collection_names: Iterable[str] | None = None) -> None:
    """Forget the facts after our own writes (they are recomputed on next use)."""
    del collection_names  # facts are kept and refreshed as one set
    state.recent_facts.pop(state.db_key(db), None)
    db[names.FACTS].delete_one({"_id": _HEAD})


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
    per_session = session_message_counts(db, types)
    if session_ids is None:
        return sum(per_session.values())
    return sum(n for sid, n in per_session.items() if sid in session_ids)


def session_message_counts(db: Database, types: Iterable[str]) -> Counter:
    """How many messages of `types` each session holds, across collections."""
    wanted = set(types)
    out: Counter = Counter()
    for pairs in _load(db).values():
        for sid, counts, _mods in pairs:
            out[sid] += sum(n for t, n in counts.items() if t in wanted)
    return out


def type_counts(db: Database, session_ids: set[str] | None = None) -> Counter:
    out: Counter = Counter()
    for pairs in _load(db).values():
        for sid, counts, _mods in pairs:
            if session_ids is None or sid in session_ids:
                out.update(counts)
    return out
