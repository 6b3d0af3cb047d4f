"""Conversations fetched by id in chunks: `iter_conversations`, and `Prefetch`, which
fetches the next chunks in a thread while the current one is decoded, built and written.

SecantusDB answers `$in` queries much faster with a few ids than with hundreds, and the
writer's CPU work can overlap the server's, so an export's chunks are small (by
conversations and by messages) and the background thread fetches them as raw BSON
(waiting on the server with the GIL released). Waiting for a chunk checks the cancel
token every tenth of a second.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import bson
from pymongo.database import Database

from ... import records
from ...filters import (
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
from ...progress import CancelToken, check
from ...store import collections as names

# Aware UTC datetimes (bson's own utc tzinfo: ~10% faster to decode than converting each
# one to datetime.UTC).
_CODEC: bson.CodecOptions[dict[str, Any]] = bson.CodecOptions(tz_aware=True)

FETCH_IDS = 20  # conversations per query
MAX_CHUNK_MESSAGES = 4000
BY_DATE = SESSION_ORDER  # oldest first, ties by id
BY_ID = [("sessionId", 1)]
_END = object()


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
    projects = projects_by_id(db, pids)
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
    db, flt = get_db(db), coerce_filter(flt)
    if ids is None:
        ids = matching_session_ids(db, flt)
    coll_names = names.message_collection_names(db)
    for chunk in id_chunks(ids, chunk_size):
        yield build_chunk(fetch_raw_chunk(db, flt, chunk, coll_names))


def by_chunks(db: Database, flt: Filter, chunk_size: int, *, order: str) -> Prefetch:
    """Chunks of conversations fetched by id: in id order for a format whose `order`
    (formats.Format.order) is "any", else oldest first."""
    return Prefetch(db, flt, plan_chunks(db, flt, chunk_size, BY_ID if order == "any" else BY_DATE))


def plan_chunks(db: Database, flt: Filter, chunk_size: int,
                order: list[tuple[str, int]] = BY_DATE) -> list[list[str]]:
    """Matching conversation ids in `order`, cut into chunks of bounded size."""
    limit = max(1, min(chunk_size, FETCH_IDS))
    chunks: list[list[str]] = []
    cur: list[str] = []
    msgs = 0
    cursor = db[names.SESSIONS].find(
        session_query(db, flt), {"sessionId": 1, "messageCount": 1, "_id": 0}
    ).sort(order)
    for row in cursor:
        n = int(row.get("messageCount") or 0)
        if cur and (len(cur) >= limit or msgs + n > MAX_CHUNK_MESSAGES):
            chunks.append(cur)
            cur, msgs = [], 0
        cur.append(row["sessionId"])
        msgs += n
    if cur:
        chunks.append(cur)
    return chunks


class Prefetch:
    """Iterate record chunks fetched by a daemon thread, at most `depth` chunks ahead."""

    def __init__(self, db: Database, flt: Filter, chunks: list[list[str]], depth: int = 3) -> None:
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(db, flt, chunks), name="export-prefetch", daemon=True
        )
        self._thread.start()

    def _put(self, item: Any) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self, db: Database, flt: Filter, chunks: list[list[str]]) -> None:
        try:
            coll_names = names.message_collection_names(db)
            for ids in chunks:
                if self._stop.is_set():
                    return
                if not self._put(fetch_raw_chunk(db, flt, ids, coll_names)):
                    return
            self._put(_END)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            self._put(exc)

    def iter(self, cancel: CancelToken | None) -> Iterator[list[dict[str, Any]]]:
        while True:
            check(cancel)
            try:
                item = self._queue.get(timeout=0.1)
            except queue.Empty:
                continue
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield build_chunk(item)

    def close(self) -> None:
        """Stop fetching; the thread ends after its current query."""
        self._stop.set()
        try:
            while True:
                self._queue.get_nowait()
        except queue.Empty:
            pass
