"""Idempotent schema set-up: ClaudeLens's own indexes plus ours."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.collection import Collection
from pymongo.database import Database

from .. import state
from . import collections as names

# Upstream's index set on each message collection (rolling_message_service.create_indexes),
# less its wildcard text index: SecantusDB has no text indexes (docs/upstream.md).
MESSAGE_INDEXES = (
    ([("uuid", ASCENDING)], True),
    ([("sessionId", ASCENDING), ("timestamp", ASCENDING)], False),
    ([("timestamp", DESCENDING)], False),
    ([("user_id", ASCENDING), ("timestamp", DESCENDING)], False),
    ([("type", ASCENDING), ("timestamp", DESCENDING)], False),
    ([("parentUuid", ASCENDING)], False),
    ([("model", ASCENDING), ("timestamp", DESCENDING)], False),
    ([("costUsd", DESCENDING)], False),
    ([("gitBranch", ASCENDING), ("timestamp", DESCENDING)], False),
)


# What a writer needs while it writes (uuid uniqueness, a session's messages); an import
# builds the rest once it is done in the collections it created (`pending_indexes`):
# building them once is faster than keeping them current through every insert.
WRITE_INDEXES = MESSAGE_INDEXES[:2]


def ensure_message_indexes(coll: Collection, *, for_writing: bool = False) -> None:
    """The indexes upstream ClaudeLens puts on every message collection (default names)."""
    wanted = WRITE_INDEXES if for_writing else MESSAGE_INDEXES
    coll.create_indexes([IndexModel(keys, unique=unique) if unique else IndexModel(keys)
                         for keys, unique in wanted])


def ensure_schema(db: Database, *, force: bool = False) -> None:
    """Create every index we rely on; safe to call any number of times."""
    key = state.db_key(db)
    with state.schema_lock:
        if key in state.schema_ready and not force:
            return
        db[names.SESSIONS].create_index([("sessionId", ASCENDING)], unique=True, name="sessionId_1")
        db[names.SESSIONS].create_index([("projectId", ASCENDING)], name="projectId_1")
        db[names.SESSIONS].create_index([("startedAt", ASCENDING)], name="startedAt_1")
        db[names.PROJECTS].create_index([("path", ASCENDING)], unique=True, name="path_1")
        for coll in names.message_collections(db):
            ensure_message_indexes(coll)
        db[names.EXPORT_JOBS].create_index([("created_at", DESCENDING)], name="created_at_-1")
        db[names.EXPORT_JOBS].create_index([("status", ASCENDING)], name="status_1")
        db[names.IMPORT_JOBS].create_index([("created_at", DESCENDING)], name="created_at_-1")
        db[names.IMPORT_JOBS].create_index([("source_sha256", ASCENDING)], name="source_sha256_1")
        state.schema_ready.add(key)


def collection_for_write(db: Database, ts: Any, *, single: bool | None = None,
                         created: set[str] | None = None) -> Collection:
    """`collections.collection_for`, with the message indexes ensured on first use.

    With `created` (a bulk writer's set), a collection that does not exist yet gets only
    WRITE_INDEXES and its name is added to `created`: the writer builds the rest at its end
    with `ensure_message_indexes` (ensure_schema does, should the writer die first).
    """
    coll = names.collection_for(db, ts, single=single)
    key = (*state.db_key(db), coll.name)
    if key in state.indexed:
        return coll
    if created is not None and coll.name not in db.list_collection_names(filter={"name": coll.name}):
        ensure_message_indexes(coll, for_writing=True)
        created.add(coll.name)
    else:
        ensure_message_indexes(coll)
    state.indexed.add(key)
    return coll
