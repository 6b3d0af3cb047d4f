"""Conversations from one plain pass over each collection, read one after another.

The sessions collection is read first, then every message collection in
`message_collection_names` order (months oldest first), each in the server's natural
order: no sort, which costs SecantusDB a fifth of the plain scan again (it walks the
`sessionId, timestamp` index and fetches every document by id). Messages live in the
collection of their timestamp's month, so a conversation's last message is in the month
of its `endedAt`. A conversation is handed on as soon as it is complete:
- when its messages read so far reach its session's `messageCount` (when the filter keeps
  only some message types: the count of those from `store/facts.py`), else
- when the collection of its `endedAt` month has been read to the end.

Order: as conversations complete, so the order the database stores them in. Memory holds
the matching session documents (raw BSON), a few batches, and the messages of the
conversations being read (ClaudeLens stores a conversation's messages as they happen: few
are open at once); at worst, when counts are missing or wrong, a month's conversations.

If a message turns up that the session document says cannot be there (in a later
collection than `endedAt` allows, or after `messageCount` messages were read), reading
stops with `LateMessage` and the caller starts again by id.

The fetching runs in a helper process (`store.drain.RawDrain`) that keeps a few batches
ready, so the server works while this process decodes, builds and writes.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import bson
from pymongo.database import Database

from ...errors import ExportError
from ...filters import Filter, message_query, session_query
from ...progress import CancelToken
from ...store import collections as names
from ...store import facts
from ...store.drain import BATCH_DOCS, RawDrain, available
from .chunks import conversation_of

YIELD_MESSAGES = 2000  # records handed to the writer at a time
# Datetimes decoded naive (UTC, as stored): a third cheaper to decode and to write as
# ISO text, and every writer reads naive as UTC. Records from the scan never leave the export.
_CODEC: bson.CodecOptions[dict[str, Any]] = bson.CodecOptions()


class LateMessage(Exception):
    """A message lies where its session document says none can be."""


_DONE = -2  # `ends` value of a conversation already handed on


class _Open:
    """The sessions of a scan and the messages read for those not yet handed on."""

    def __init__(self) -> None:
        self.raw: dict[str, bytes] = {}  # session documents, raw BSON
        self.ends: dict[str, int] = {}  # the position of each one's last collection, or _DONE
        self.left: dict[str, int] = {}  # messages still to read, where counted
        self.held: dict[str, list[dict[str, Any]]] = {}
        self._by_end: dict[int, list[str]] = {}

    def add(self, sid: str, raw: bytes, end: int, count: Any) -> None:
        self.raw[sid] = raw
        self.ends[sid] = end
        self.held[sid] = []
        self._by_end.setdefault(end, []).append(sid)
        if type(count) is int and count > 0:
            self.left[sid] = count

    def ready_at(self, end: int | None) -> list[str]:
        """Those ending at collection `end` (None: all) not yet handed on, now handed on."""
        groups = self._by_end.values() if end is None else [self._by_end.get(end, [])]
        ready = [sid for group in groups for sid in group if self.ends[sid] != _DONE]
        for sid in ready:
            self.ends[sid] = _DONE
        if end is None:
            self._by_end.clear()
        else:
            self._by_end.pop(end, None)
        return ready

    def finish(self, sid: str) -> list[dict[str, Any]]:
        """The messages read for `sid`, which is handed on now."""
        self.left.pop(sid, None)
        return self.held.pop(sid)


def last_position(collection_names: list[str], ended: datetime | None) -> int:
    """Where (in `collection_names`, legacy first, then months in order) the last message
    of a conversation that ended at `ended` lies: that month's collection, else the latest
    before it, else the legacy one; -1 if none can hold it; the last if `ended` is unknown."""
    if not isinstance(ended, datetime):
        return len(collection_names) - 1
    legacy = 1 if collection_names[:1] == [names.LEGACY_MESSAGES] else 0
    months = collection_names[legacy:]
    return bisect_right(months, names.monthly_name(ended)) - 1 + legacy


def _date_key(value: Any) -> tuple[int, Any]:
    """Sorts as the server sorts startedAt (BSON type order: missing, numbers, text, dates)."""
    if isinstance(value, datetime):
        return 3, value
    if isinstance(value, str):
        return 2, value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return 1, value
    return 0, 0


class CollectionScan:
    """Iterate conversation records (lists of them), one collection after another."""

    def __init__(self, db: Database, flt: Filter, *, batch_docs: int = BATCH_DOCS) -> None:
        if not available(db):
            raise ExportError("a collection scan needs a client made by claudelens_nb.connect()")
        self._names = names.message_collection_names(db)
        # Each conversation's place in oldest-first order (startedAt, then id), known
        # before the first one is handed on: a writer that must put them in that order
        # (Markdown) places them itself.
        self.positions: dict[str, int] = {}
        # Asked before the worker starts: later the server is busy reading for it.
        self._projects = {d["_id"]: d for d in db[names.PROJECTS].find({}, {"name": 1, "path": 1})}
        mq = message_query(flt)
        # How many messages each conversation will give: its messageCount, or, when types
        # are filtered, the count of those types from the facts (the preview has loaded them).
        self._counts = facts.session_message_counts(db, flt.message_types) if mq else None
        streams = [(names.SESSIONS, session_query(db, flt))]
        streams += [(name, mq) for name in self._names]
        self._drain = RawDrain(db, streams, batch_docs=batch_docs, fail=ExportError)

    # ---------------------------------------------------------- joining

    def _sessions(self, frames: Iterator[tuple[int, bytes]]) -> _Open:
        """The matching sessions (stream 0), kept raw until written: a sixth of the memory
        of decoded ones."""
        state = _Open()
        starts: list[tuple[tuple[int, Any], str]] = []
        for _stream, data in frames:
            if not data:
                break
            view, pos = memoryview(data), 0
            for s in bson.decode_all(data, _CODEC):
                size = int.from_bytes(view[pos:pos + 4], "little")
                raw, pos = bytes(view[pos:pos + size]), pos + size
                sid = s.get("sessionId")
                if isinstance(sid, str) and sid not in state.raw:
                    k = last_position(self._names, s.get("endedAt"))
                    count = s.get("messageCount") if self._counts is None else self._counts[sid]
                    state.add(sid, raw, k, count)
                    starts.append((_date_key(s.get("startedAt")), sid))
        starts.sort()
        self.positions.update((sid, i) for i, (_, sid) in enumerate(starts))
        return state

    def iter(self, cancel: CancelToken | None) -> Iterator[list[dict[str, Any]]]:
        try:
            yield from self._iter(cancel)
        finally:
            self.close()

    def _iter(self, cancel: CancelToken | None) -> Iterator[list[dict[str, Any]]]:
        frames = self._drain.batches(cancel)
        state = self._sessions(frames)
        out: list[dict[str, Any]] = []
        out_msgs = 0

        def emit(sids: list[str]) -> Iterator[list[dict[str, Any]]]:
            nonlocal out, out_msgs
            for sid in sids:
                s = bson.decode(state.raw.pop(sid), _CODEC)
                msgs = state.finish(sid)
                out.append(conversation_of(s, self._projects.get(s.get("projectId")), msgs))
                out_msgs += len(msgs) + 1
                if out_msgs >= YIELD_MESSAGES:
                    yield out
                    out, out_msgs = [], 0

        yield from emit(state.ready_at(-1))
        ends, left, held = state.ends, state.left, state.held
        for stream, data in frames:
            k = stream - 1  # this message collection's position
            if not data:  # the collection is done: so is every conversation ending in it
                yield from emit(state.ready_at(k))
                continue
            complete: list[str] = []
            for d in bson.decode_all(data, _CODEC):
                sid = d.get("sessionId")
                if type(sid) is not str:
                    continue  # an orphan
                end = ends.get(sid)
                if end is None:
                    continue  # a conversation the filter left out, or an orphan
                if end < k:  # or _DONE: handed on already
                    raise LateMessage(f"conversation {sid!r} has a message in {self._names[k]} "
                                      "that its session's endedAt and messageCount leave out")
                held[sid].append(d)
                n = left.get(sid)
                if n is not None:
                    if n <= 1:
                        complete.append(sid)
                        ends[sid] = _DONE
                    left[sid] = n - 1
            yield from emit(complete)
        yield from emit(state.ready_at(None))  # none left unless the collections changed
        if out:
            yield out

    def close(self) -> None:
        """Stop the worker (at once: nothing it holds is needed any more)."""
        self._drain.close()
