"""Filters: which conversations (sessions) and messages a load or an export takes.

A `Filter` selects conversations; message types further narrow the messages. Every value
is matched as data through `$in`/ranges, never spliced in as an operator. No pandas here:
an export imports this and not the DataFrame loaders (query.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from bson import Decimal128, ObjectId
from pymongo.database import Database

from . import records
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
    if hasattr(value, "to_pydatetime"):  # a pandas Timestamp (pandas is not imported here)
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


SESSION_ORDER = [("startedAt", 1), ("sessionId", 1)]


def matching_session_ids(db: Database, flt: Filter) -> list[str]:
    """Ids of the matching conversations, oldest first."""
    cur = db[names.SESSIONS].find(session_query(db, flt), {"sessionId": 1, "_id": 0})
    return [d["sessionId"] for d in cur.sort(SESSION_ORDER)]


def id_chunks(ids: Sequence[str], size: int) -> Iterator[list[str]]:
    if size < 1:
        raise InvalidFilter(f"chunk size must be at least 1, got {size}")
    for i in range(0, len(ids), size):
        yield list(ids[i : i + size])


def get_db(db: Database | None) -> Database:
    if db is not None:
        return db
    from .store import connect

    return connect()


def projects_by_id(db: Database, ids: Iterable[Any]) -> dict[Any, dict[str, Any]]:
    ids = list({i for i in ids if i is not None})
    if not ids:
        return {}
    cur = db[names.PROJECTS].find({"_id": {"$in": ids}}, {"name": 1, "path": 1})
    return {d["_id"]: d for d in cur}
