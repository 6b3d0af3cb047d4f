"""Reading an export's conversations: a collection scan, or planned chunks fetched ahead.

`open_stream` picks: the machine formats (JSON, JSONL, CSV, Parquet), when they take a
good share of the database, are read by one plain (unsorted) pass over each collection
(`scan.CollectionScan`, in storage order). Markdown and PDF read oldest first, and a small
selection is cheaper to fetch by id (conversation id order), in chunks:

SecantusDB answers `$in` queries much faster with a few ids than with hundreds, and the
writer's CPU work can overlap the server's, so chunks are small (by conversations and by
messages) and a background thread fetches the next ones as raw BSON (waiting on the
server with the GIL released) while the consumer decodes, builds and writes the current
one. Waiting for a chunk checks the cancel token every tenth of a second.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Any

from pymongo.database import Database

from ..progress import CancelToken, check
from ..query import Filter, build_chunk, fetch_raw_chunk, session_query
from ..store import collections as names
from .scan import CollectionScan
from .scan import available as scan_available

FETCH_IDS = 20  # conversations per query
MAX_CHUNK_MESSAGES = 4000
BY_DATE = [("startedAt", 1), ("sessionId", 1)]
BY_ID = [("sessionId", 1)]
SCAN_SHARE = 0.25  # of all conversations: from here one scan beats fetching by id
_END = object()


def open_stream(db: Database, flt: Filter, *, by_date: bool, matched: int,
                chunk_size: int) -> Prefetch | CollectionScan:
    """The cheaper reader for this export; `matched` is how many conversations it has."""
    if not by_date:
        total = db[names.SESSIONS].estimated_document_count()
        if total and matched >= SCAN_SHARE * total and scan_available(db):
            return CollectionScan(db, flt)
    return by_chunks(db, flt, chunk_size, by_date=by_date)


def by_chunks(db: Database, flt: Filter, chunk_size: int, *, by_date: bool) -> Prefetch:
    """Chunks of conversations fetched by id, oldest first or in id order."""
    return Prefetch(db, flt, plan_chunks(db, flt, chunk_size, BY_DATE if by_date else BY_ID))


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
