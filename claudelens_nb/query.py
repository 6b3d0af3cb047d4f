"""Filters, and loading conversations into pandas (pymongoarrow) or canonical records.

A `Filter` selects conversations (sessions); message types further narrow the messages.
Every value is matched as data through `$in`/ranges, never spliced in as an operator.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import bson
import pandas as pd
import pyarrow as pa
from bson import Decimal128, ObjectId
from pymongo.database import Database
from pymongoarrow.api import find_arrow_all

from . import records
from .arrow_types import (
    MESSAGE_COLUMNS,
    MESSAGE_SCHEMA,
    SESSION_COLUMNS,
    SESSION_SCHEMA,
    decimal128_to_float,
)
from .errors import InvalidFilter
from .store import collections as names
from .store import facts

FILTER_MESSAGE_TYPES = ("user", "assistant", "system", "tool_use", "tool_result", "summary")


def _as_tuple(value: Any, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, (str, bytes)):
        value = [value]
    out = []
    for v in value:
        if isinstance(v, ObjectId):
            v = str(v)
        if not isinstance(v, str):
            raise InvalidFilter(f"{what} must be text, got {type(v).__name__}: {v!r}")
        out.append(v)
    return tuple(out)


def _parse_when(value: Any, what: str) -> date | datetime | None:
    """A date or an aware UTC datetime from what users type or pass."""
    if value in (None, ""):
        return None
    if isinstance(value, str):
        text = value.strip()
        try:
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
                return date.fromisoformat(text)
            value = records.parse_iso(text, ms=False)
        except ValueError:
            raise InvalidFilter(f"{what}: not a date: {text!r}") from None
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, date):
        return value
    raise InvalidFilter(f"{what}: not a date: {value!r}")


def _bound(value: date | datetime | None, *, end: bool) -> datetime | None:
    """The query bound; a date as the end bound includes its whole day."""
    if value is None or isinstance(value, datetime):
        return value
    start = datetime.combine(value, time.min, tzinfo=UTC)
    return start + timedelta(days=1) if end else start


def _as_money(value: Any, what: str) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        d = Decimal(str(value))
    except InvalidOperation:
        raise InvalidFilter(f"{what}: not a number: {value!r}") from None
    if not d.is_finite():
        raise InvalidFilter(f"{what}: not a finite number: {value!r}")
    return d


@dataclass(frozen=True)
class Filter:
    """Which conversations (and which of their messages) to load or export.

    `until` is inclusive of its whole day when given as a date; `since`/`until` compare
    with the conversation's start. Projects match by name, path or id.
    """

    since: Any = None
    until: Any = None
    projects: Sequence[str] = ()
    models: Sequence[str] = ()
    tags: Sequence[str] = ()
    min_cost: Any = None
    max_cost: Any = None
    message_types: Sequence[str] = ()
    conversation_ids: Sequence[str] = ()
    _start: datetime | None = field(init=False, repr=False, compare=False, default=None)
    _end: datetime | None = field(init=False, repr=False, compare=False, default=None)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        for name in ("projects", "models", "tags", "message_types", "conversation_ids"):
            set_(self, name, _as_tuple(getattr(self, name), name.replace("_", " ")))
        unknown = [t for t in self.message_types if t not in FILTER_MESSAGE_TYPES]
        if unknown:
            raise InvalidFilter(
                f"unknown message type {unknown[0]!r}; use one of {', '.join(FILTER_MESSAGE_TYPES)}"
            )
        set_(self, "since", _parse_when(self.since, "since"))
        set_(self, "until", _parse_when(self.until, "until"))
        start = _bound(self.since, end=False)
        end = _bound(self.until, end=True)
        if start and end and end <= start:
            raise InvalidFilter(f"the end date {self.until} is before the start date {self.since}")
        set_(self, "_start", start)
        set_(self, "_end", end)
        lo, hi = _as_money(self.min_cost, "min cost"), _as_money(self.max_cost, "max cost")
        if lo is not None and lo < 0:
            raise InvalidFilter(f"min cost must not be negative, got {self.min_cost}")
        if lo is not None and hi is not None and lo > hi:
            raise InvalidFilter(f"min cost {lo} is above max cost {hi}")
        set_(self, "min_cost", lo)
        set_(self, "max_cost", hi)

    @property
    def start(self) -> datetime | None:
        return self._start

    @property
    def end_exclusive(self) -> datetime | None:
        return self._end

    def is_empty(self) -> bool:
        return self == Filter()

    def to_dict(self) -> dict[str, Any]:
        """Plain data for job documents and manifests (as given, JSON-safe)."""
        out: dict[str, Any] = {}
        for k, v in asdict(self).items():
            if k.startswith("_") or v in (None, (), []):
                continue
            if isinstance(v, (datetime, date)):
                v = v.isoformat()
            elif isinstance(v, Decimal):
                v = float(v)
            elif isinstance(v, tuple):
                v = list(v)
            out[k] = v
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Filter:
        data = dict(data or {})
        allowed = {f for f in cls.__dataclass_fields__ if not f.startswith("_")}
        extra = set(data) - allowed
        if extra:
            raise InvalidFilter(f"unknown filter field {sorted(extra)[0]!r}")
        return cls(**data)


def coerce_filter(flt: Filter | dict[str, Any] | None) -> Filter:
    if flt is None:
        return Filter()
    if isinstance(flt, Filter):
        return flt
    if isinstance(flt, dict):
        return Filter.from_dict(flt)
    raise InvalidFilter(f"expected a Filter, got {type(flt).__name__}")


# ---------------------------------------------------------------- queries

def _project_ids(db: Database, projects: Iterable[str]) -> list[ObjectId]:
    projects = list(projects)
    oids = [ObjectId(p) for p in projects if ObjectId.is_valid(p)]
    clauses: list[dict[str, Any]] = [{"name": {"$in": projects}}, {"path": {"$in": projects}}]
    if oids:
        clauses.append({"_id": {"$in": oids}})
    return [d["_id"] for d in db[names.PROJECTS].find({"$or": clauses}, {"_id": 1})]


def session_query(db: Database, flt: Filter) -> dict[str, Any]:
    """The sessions-collection query for a filter."""
    q: dict[str, Any] = {}
    if flt.start or flt.end_exclusive:
        rng: dict[str, Any] = {}
        if flt.start:
            rng["$gte"] = flt.start
        if flt.end_exclusive:
            rng["$lt"] = flt.end_exclusive
        q["startedAt"] = rng
    if flt.projects:
        q["projectId"] = {"$in": _project_ids(db, flt.projects)}
    if flt.tags:
        q["tags"] = {"$in": list(flt.tags)}
    if flt.min_cost is not None or flt.max_cost is not None:
        cost: dict[str, Any] = {}
        if flt.min_cost is not None:
            cost["$gte"] = Decimal128(flt.min_cost)
        if flt.max_cost is not None:
            cost["$lte"] = Decimal128(flt.max_cost)
        q["totalCost"] = cost
    ids: set[str] | None = set(flt.conversation_ids) if flt.conversation_ids else None
    if flt.models:
        with_models = facts.sessions_with_models(db, flt.models)
        ids = with_models if ids is None else ids & with_models
    if ids is not None:
        q["sessionId"] = {"$in": sorted(ids)}
    return q


def message_query(flt: Filter, session_ids: Sequence[str] | None = None) -> dict[str, Any]:
    q: dict[str, Any] = {}
    if session_ids is not None:
        q["sessionId"] = {"$in": list(session_ids)}
    if flt.message_types:
        q["type"] = {"$in": list(flt.message_types)}
    return q


_SESSION_ORDER = [("startedAt", 1), ("sessionId", 1)]


def matching_session_ids(db: Database, flt: Filter) -> list[str]:
    """Ids of the matching conversations, oldest first."""
    cur = db[names.SESSIONS].find(session_query(db, flt), {"sessionId": 1, "_id": 0})
    return [d["sessionId"] for d in cur.sort(_SESSION_ORDER)]


def _chunks(ids: Sequence[str], size: int) -> Iterator[list[str]]:
    if size < 1:
        raise InvalidFilter(f"chunk size must be at least 1, got {size}")
    for i in range(0, len(ids), size):
        yield list(ids[i : i + size])


# ---------------------------------------------------------------- frames

def _empty(columns: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in columns.items()})


def _messages_table(db: Database, query: dict[str, Any]) -> pa.Table:
    # projection=None: the server sends whole documents and pymongoarrow picks the schema's
    # fields client-side in C, which is faster than a server-side projection here.
    tables = [
        find_arrow_all(coll, query, schema=MESSAGE_SCHEMA, projection=None)
        for coll in names.message_collections(db)
    ]
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


def _projects_by_id(db: Database, ids: Iterable[Any]) -> dict[Any, dict[str, Any]]:
    ids = list({i for i in ids if i is not None})
    if not ids:
        return {}
    cur = db[names.PROJECTS].find({"_id": {"$in": ids}}, {"name": 1, "path": 1})
    return {d["_id"]: d for d in cur}


def sessions_frame(db: Database, table: pa.Table) -> pd.DataFrame:
    if table.num_rows == 0:
        return _empty(SESSION_COLUMNS)
    pids = table.column("projectId").to_pylist()
    projects = _projects_by_id(db, pids)
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


def _get_db(db: Database | None) -> Database:
    if db is not None:
        return db
    from .store import connect

    return connect()


def load_sessions(flt: Filter | dict | None = None, *, db: Database | None = None) -> pd.DataFrame:
    """Matching conversations as a typed DataFrame, oldest first."""
    db, flt = _get_db(db), coerce_filter(flt)
    table = find_arrow_all(
        db[names.SESSIONS], session_query(db, flt), schema=SESSION_SCHEMA, sort=_SESSION_ORDER,
        projection=None,
    )
    return sessions_frame(db, table)


def load_messages(flt: Filter | dict | None = None, *, db: Database | None = None) -> pd.DataFrame:
    """Messages of the matching conversations as a typed DataFrame."""
    db, flt = _get_db(db), coerce_filter(flt)
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
    db, flt = _get_db(db), coerce_filter(flt)
    ids = matching_session_ids(db, flt)
    for chunk in _chunks(ids, chunk_size):
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


# ---------------------------------------------------------------- records

# Aware UTC datetimes (bson's own utc tzinfo: ~10% faster to decode than converting each
# one to datetime.UTC).
_CODEC: bson.CodecOptions[dict[str, Any]] = bson.CodecOptions(tz_aware=True)


@dataclass
class RawChunk:
    """One chunk's documents as the server sent them (BSON bytes), not yet decoded."""

    ids: list[str]
    sessions: list[bytes]
    projects: dict[Any, dict[str, Any]]
    messages: list[bytes]


def fetch_raw_chunk(db: Database, flt: Filter, ids: Sequence[str],
                    coll_names: Sequence[str] | None = None) -> RawChunk:
    """Fetch a chunk's sessions, projects and messages, leaving the decoding to the caller.

    Kept apart from `build_chunk` so a fetching thread spends its time waiting on the
    server (the GIL released) while another thread decodes and writes the previous chunk.
    """
    ids = list(ids)
    sessions = list(db[names.SESSIONS].find_raw_batches({"sessionId": {"$in": ids}}))
    pids = {d.get("projectId") for b in sessions for d in bson.decode_all(b, _CODEC)}
    projects = _projects_by_id(db, pids)
    mq = message_query(flt, ids)
    messages = [
        batch
        for name in (coll_names if coll_names is not None else names.message_collection_names(db))
        for batch in db[name].find_raw_batches(mq)
    ]
    return RawChunk(ids, sessions, projects, messages)


def build_chunk(raw: RawChunk) -> list[dict[str, Any]]:
    """A fetched chunk as canonical conversation records, in the chunk's order."""
    sessions = {d["sessionId"]: d for b in raw.sessions for d in bson.decode_all(b, _CODEC)}
    by_session: dict[str, list[dict[str, Any]]] = {sid: [] for sid in raw.ids}
    for batch in raw.messages:
        for doc in bson.decode_all(batch, _CODEC):
            by_session.setdefault(doc["sessionId"], []).append(doc)
    return [conversation_of(sessions[sid], raw.projects.get(sessions[sid].get("projectId")),
                            by_session[sid])
            for sid in raw.ids if sid in sessions]


def _message_order(doc: dict[str, Any]) -> tuple[Any, str]:
    return doc["timestamp"], doc.get("uuid", "")


def conversation_of(session: dict[str, Any], project: dict[str, Any] | None,
                    messages: list[dict[str, Any]]) -> dict[str, Any]:
    """A session's record, its message documents put in timestamp order (ties by id)."""
    messages.sort(key=_message_order)
    return records.conversation_record(session, project, messages)


def iter_conversations(
    flt: Filter | dict | None = None,
    chunk_size: int = 200,
    *,
    db: Database | None = None,
    ids: Sequence[str] | None = None,
) -> Iterator[list[dict[str, Any]]]:
    """Canonical conversation records, a chunk of `chunk_size` conversations at a time.

    The same chunks as `iter_chunks`, decoded losslessly (every stored field kept), for
    the JSON, JSONL, Markdown and PDF writers.
    """
    db, flt = _get_db(db), coerce_filter(flt)
    if ids is None:
        ids = matching_session_ids(db, flt)
    coll_names = names.message_collection_names(db)
    for chunk in _chunks(ids, chunk_size):
        yield build_chunk(fetch_raw_chunk(db, flt, chunk, coll_names))


# ---------------------------------------------------------------- for pickers

def filter_options(*, db: Database | None = None) -> dict[str, Any]:
    """What the filter pickers offer: projects, models, tags, and the date span.

    Distinct values and a min/max come from the database, never from loading rows.
    """
    db = _get_db(db)
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
