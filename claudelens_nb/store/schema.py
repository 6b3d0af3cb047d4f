"""Idempotent schema set-up: ClaudeLens's own indexes plus ours."""

from __future__ import annotations

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


def ensure_message_indexes(coll: Collection) -> None:
    """The indexes upstream ClaudeLens puts on every message collection (default names)."""
    coll.create_indexes([IndexModel(keys, unique=unique) if unique else IndexModel(keys)
                         for keys, unique in MESSAGE_INDEXES])


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


def collection_for_write(db: Database, ts, *, single: bool | None = None) -> Collection:
    """`collections.collection_for`, with the message indexes ensured on first use."""
    coll = names.collection_for(db, ts, single=single)
    key = (*state.db_key(db), coll.name)
    if key not in state.indexed:
        ensure_message_indexes(coll)
        state.indexed.add(key)
    return coll
