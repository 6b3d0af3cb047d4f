"""Loading conversations into pandas through pymongoarrow: whole, or in chunks.

Which conversations: a `Filter` (filters.py, re-exported here).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import pandas as pd
import pyarrow as pa
from pymongo.database import Database
from pymongoarrow.api import find_arrow_all
from pymongoarrow.context import PyMongoArrowContext

from .arrow_types import (
    MESSAGE_COLUMNS,
    MESSAGE_SCHEMA,
    SESSION_COLUMNS,
    SESSION_SCHEMA,
    decimal128_to_float,
)
from .filters import (
    FILTER_MESSAGE_TYPES,
    SESSION_ORDER,
    Filter,
    coerce_filter,
    get_db,
    id_chunks,
    matching_session_ids,
    message_query,
    projects_by_id,
    session_query,
)
from .store import collections as names
from .store import drain, facts

__all__ = ["Filter", "load_sessions", "load_messages", "iter_chunks", "iter_arrow_chunks",
           "filter_options", "coerce_filter"]


# ---------------------------------------------------------------- frames

def _empty(columns: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in columns.items()})


def _messages_table(db: Database, query: dict[str, Any]) -> pa.Table:
    """Every message collection's matching messages as one pymongoarrow table.

    Read through a worker process (store.drain) when the client is ours: the server goes
    on reading while pymongoarrow converts each batch; else collection by collection.
    """
    colls = names.message_collections(db)
    if colls and drain.available(db):
        context = PyMongoArrowContext(MESSAGE_SCHEMA, codec_options=colls[0].codec_options)
        batches = drain.RawDrain(db, [(c.name, query) for c in colls])
        try:
            for _, batch in batches.batches():
                if batch:
                    context.process_bson_stream(batch)
        finally:
            batches.close()
        return context.finish()
    # projection=None: the server sends whole documents and pymongoarrow picks the schema's
    # fields client-side in C, which is faster than a server-side projection here.
    tables = [find_arrow_all(coll, query, schema=MESSAGE_SCHEMA, projection=None) for coll in colls]
    tables = [t for t in tables if t.num_rows]
    if not tables:
        return MESSAGE_SCHEMA.to_arrow().empty_table()
    return pa.concat_tables(tables)


def messages_frame(table: pa.Table) -> pd.DataFrame:
    """A pymongoarrow messages table as the typed frame users get."""
    if table.num_rows == 0:
        return _empty(MESSAGE_COLUMNS)
    usage = table.column("usage").combine_chunks()
    md = table.column("messageData").combine_chunks()
    tool_name = pa.compute.if_else(
        pa.compute.equal(table.column("type"), "tool_use"), md.field("name"), pa.nulls(len(md), pa.string())
    )
    cols = {
        "message_id": table.column("uuid"),
        "conversation_id": table.column("sessionId"),
        "type": table.column("type"),
        "timestamp": table.column("timestamp"),
        "parent_id": table.column("parentUuid"),
        "content": table.column("content"),
        "model": table.column("model"),
        "cost_usd": decimal128_to_float(table.column("costUsd")),
        "tokens_input": usage.field("input_tokens"),
        "tokens_output": usage.field("output_tokens"),
        "tokens_cache_creation": usage.field("cache_creation_input_tokens"),
        "tokens_cache_read": usage.field("cache_read_input_tokens"),
        "tool_name": tool_name,
        "is_sidechain": table.column("isSidechain"),
        "cwd": table.column("cwd"),
        "git_branch": table.column("gitBranch"),
        "version": table.column("version"),
        "request_id": table.column("requestId"),
        "user_type": table.column("userType"),
    }
    df = pa.table(cols).to_pandas(types_mapper=_types_mapper)
    return df.astype(MESSAGE_COLUMNS, copy=False)


def _types_mapper(t: pa.DataType) -> Any:
    if pa.types.is_integer(t):
        return pd.Int64Dtype()
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return pd.StringDtype()
    if pa.types.is_boolean(t):
        return pd.BooleanDtype()
    return None


def sessions_frame(db: Database, table: pa.Table) -> pd.DataFrame:
    if table.num_rows == 0:
        return _empty(SESSION_COLUMNS)
    pids = table.column("projectId").to_pylist()
    projects = projects_by_id(db, pids)
    cols = {
        "conversation_id": table.column("sessionId"),
        "title": table.column("title"),
        "summary": table.column("summary"),
        "project_id": pa.array([str(p) if p is not None else None for p in pids], pa.string()),
        "project_name": pa.array([projects.get(p, {}).get("name") for p in pids], pa.string()),
        "project_path": pa.array([projects.get(p, {}).get("path") for p in pids], pa.string()),
        "started_at": table.column("startedAt"),
        "ended_at": table.column("endedAt"),
        "message_count": table.column("messageCount"),
        "cost_usd": decimal128_to_float(table.column("totalCost")),
        "tags": table.column("tags"),
        "tokens_input": table.column("inputTokens"),
        "tokens_output": table.column("outputTokens"),
        "tokens_total": table.column("totalTokens"),
        "tools_used": table.column("toolsUsed"),
    }
    df = pa.table(cols).to_pandas(types_mapper=_types_mapper)
    df["tags"] = df["tags"].map(lambda v: list(v) if v is not None else [])
    return df.astype({k: v for k, v in SESSION_COLUMNS.items() if v != "object"}, copy=False)


def load_sessions(flt: Filter | dict | None = None, *, db: Database | None = None) -> pd.DataFrame:
    """Matching conversations as a typed DataFrame, oldest first."""
    db, flt = get_db(db), coerce_filter(flt)
    table = find_arrow_all(
        db[names.SESSIONS], session_query(db, flt), schema=SESSION_SCHEMA, sort=SESSION_ORDER,
        projection=None,
    )
    return sessions_frame(db, table)


def load_messages(flt: Filter | dict | None = None, *, db: Database | None = None) -> pd.DataFrame:
    """Messages of the matching conversations as a typed DataFrame."""
    db, flt = get_db(db), coerce_filter(flt)
    sq = session_query(db, flt)
    ids = None if not sq else matching_session_ids(db, flt)
    table = _messages_table(db, message_query(flt, ids))
    return messages_frame(table)


def _order_messages(table: pa.Table, ids: Sequence[str]) -> pa.Table:
    if table.num_rows == 0:
        return table
    rank = {sid: i for i, sid in enumerate(ids)}
    order = pa.array([rank[s] for s in table.column("sessionId").to_pylist()], pa.int64())
    table = table.append_column("__rank", order)
    table = table.sort_by([("__rank", "ascending"), ("timestamp", "ascending"), ("uuid", "ascending")])
    return table.drop_columns(["__rank"])


def iter_arrow_chunks(
    flt: Filter | dict | None = None,
    chunk_size: int = 200,
    *,
    db: Database | None = None,
) -> Iterator[tuple[pd.DataFrame, pa.Table]]:
    """`iter_chunks` with the messages as the pymongoarrow table (writers convert it once)."""
    db, flt = get_db(db), coerce_filter(flt)
    ids = matching_session_ids(db, flt)
    for chunk in id_chunks(ids, chunk_size):
        stable = find_arrow_all(
            db[names.SESSIONS], {"sessionId": {"$in": chunk}}, schema=SESSION_SCHEMA,
            projection=None,
        )
        rank = {sid: i for i, sid in enumerate(chunk)}
        sessions = sessions_frame(db, stable)
        sessions = sessions.iloc[sessions["conversation_id"].map(rank).argsort()].reset_index(drop=True)
        yield sessions, _order_messages(_messages_table(db, message_query(flt, chunk)), chunk)


def iter_chunks(
    flt: Filter | dict | None = None,
    chunk_size: int = 200,
    *,
    db: Database | None = None,
) -> Iterator[tuple[pd.DataFrame, pd.DataFrame]]:
    """(sessions, messages) frames, `chunk_size` conversations at a time.

    Messages come from every message collection, ordered by conversation then timestamp;
    only one chunk is in memory at a time.
    """
    for sessions, messages in iter_arrow_chunks(flt, chunk_size, db=db):
        yield sessions, messages_frame(messages)


# ---------------------------------------------------------------- for pickers

def filter_options(*, db: Database | None = None) -> dict[str, Any]:
    """What the filter pickers offer: projects, models, tags, and the date span.

    Distinct values and a min/max come from the database, never from loading rows.
    """
    db = get_db(db)
    projects = [
        {"id": str(d["_id"]), "name": d.get("name"), "path": d.get("path")}
        for d in db[names.PROJECTS].find({}, {"name": 1, "path": 1}).sort("name", 1)
    ]
    tags = sorted(t for t in db[names.SESSIONS].distinct("tags") if isinstance(t, str))
    first = db[names.SESSIONS].find_one({}, {"startedAt": 1}, sort=[("startedAt", 1)])
    last = db[names.SESSIONS].find_one({}, {"startedAt": 1}, sort=[("startedAt", -1)])
    return {
        "projects": projects,
        "models": facts.models(db),
        "tags": tags,
        "message_types": list(FILTER_MESSAGE_TYPES),
        "first_date": first.get("startedAt") if first else None,
        "last_date": last.get("startedAt") if last else None,
    }
