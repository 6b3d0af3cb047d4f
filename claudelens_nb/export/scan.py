"""Conversations from one sorted pass over each collection, read one after another.

The sessions collection is read first (sorted by `sessionId`), then every message
collection in `message_collection_names` order (months oldest first), each sorted by
`sessionId, timestamp` (ClaudeLens's own index). Messages live in the collection of their
timestamp's month, so a conversation's last message is in the month of its `endedAt`: the
conversation is complete, and is handed on, as soon as that collection has passed its id.
Order: by the month the conversation ended in, by id within one.

Reading the collections one after another costs the server what a plain drain costs, and
lets the writer work on one month while the server sorts the next. Memory holds the
matching session documents (raw BSON), a few batches, and the messages of conversations
still waiting for a later collection (conversations that cross a month's end).

If a message turns up in a later collection than its conversation's `endedAt` allows
(a session document not kept up to date), reading stops with `LateMessage` and the
caller starts again by id.

The fetching runs in a helper process (scan_worker.py) that keeps a few batches ready, so
the server works while this process decodes, builds and writes.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import select
import subprocess
import sys
import tempfile
from bisect import bisect_right
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import bson
from pymongo.database import Database
from pymongo.errors import ConnectionFailure

from ..errors import ExportError
from ..progress import CancelToken, check
from ..query import Filter, conversation_of, message_query, session_query
from ..store import collections as names
from ..store.connection import uri_of
from .scan_worker import END, ERROR, HEADER

BATCH_DOCS = 2000  # per server batch: about 2 MB of messages
# What the worker keeps ready: the writer's work while the server sorts the next month
# (~0.7 s for 35,000 messages; 24 MB of demo messages is ~0.8 s of writing).
AHEAD_BYTES = 24 << 20
YIELD_MESSAGES = 2000  # records handed to the writer at a time
# Datetimes decoded naive (UTC, as stored): a third cheaper to decode and to write as
# ISO text, and every writer reads naive as UTC. Records from the scan never leave the export.
_CODEC = bson.CodecOptions()
_BY_SESSION = [["sessionId", 1]]
_BY_SESSION_TIME = [["sessionId", 1], ["timestamp", 1]]
_WORKER = Path(__file__).with_name("scan_worker.py")
_PIPE_BYTES = 1 << 20


class LateMessage(Exception):
    """A message lies in a later collection than its conversation's `endedAt` allows."""


def session_key(value: Any) -> str:
    """A `sessionId` as the scan orders it: MongoDB sorts null and numbers before
    strings, and such ids are left out, so "" stands for them."""
    return value if isinstance(value, str) else ""


def last_position(collection_names: list[str], ended: datetime | None) -> int:
    """Where (in `collection_names`, legacy first, then months in order) the last message
    of a conversation that ended at `ended` lies: that month's collection, else the latest
    before it, else the legacy one; -1 if none can hold it; the last if `ended` is unknown."""
    if not isinstance(ended, datetime):
        return len(collection_names) - 1
    legacy = 1 if collection_names[:1] == [names.LEGACY_MESSAGES] else 0
    months = collection_names[legacy:]
    return bisect_right(months, names.monthly_name(ended)) - 1 + legacy


def available(db: Database) -> bool:
    """True when a worker can reach `db` (it needs the URI the client was made from)."""
    return uri_of(db.client) is not None


class CollectionScan:
    """Iterate conversation records (lists of them), one collection after another."""

    def __init__(self, db: Database, flt: Filter, *, batch_docs: int = BATCH_DOCS) -> None:
        uri = uri_of(db.client)
        if uri is None:
            raise ExportError("a collection scan needs a client made by claudelens_nb.connect()")
        self._names = names.message_collection_names(db)
        # Asked before the worker starts: later the server is busy sorting for it.
        self._projects = {d["_id"]: d for d in db[names.PROJECTS].find({}, {"name": 1, "path": 1})}
        mq = message_query(flt)
        streams = [{"coll": names.SESSIONS, "filter": session_query(db, flt), "sort": _BY_SESSION}]
        streams += [{"coll": name, "filter": mq, "sort": _BY_SESSION_TIME} for name in self._names]
        request = bson.encode({"uri": uri, "db": db.name, "streams": streams,
                               "batch": batch_docs, "ahead_bytes": AHEAD_BYTES})
        # A file, not a pipe, for the worker's stderr: nobody reads it until the worker
        # dies, and a full pipe would block it.
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        self._proc = subprocess.Popen(
            # -P: the worker's folder (ours) must not shadow the modules it imports.
            [sys.executable, "-P", str(_WORKER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=self._stderr, bufsize=0,
        )
        with contextlib.suppress(OSError):  # a bigger pipe: fewer reads per batch (Linux)
            fcntl.fcntl(self._proc.stdout.fileno(), fcntl.F_SETPIPE_SZ, _PIPE_BYTES)
        assert self._proc.stdin is not None
        self._proc.stdin.write(len(request).to_bytes(4, "little") + request)
        self._proc.stdin.close()

    # ---------------------------------------------------------- reading frames

    def _read(self, size: int) -> bytes:
        out = self._proc.stdout
        assert out is not None
        buf = bytearray(size)
        view = memoryview(buf)
        got = 0
        while got < size:
            n = out.readinto(view[got:])
            if not n:
                self._died()
            got += n
        return bytes(buf)

    def _died(self) -> None:
        self._proc.wait()
        self._stderr.seek(0)
        err = self._stderr.read().decode("utf-8", "replace")
        tail = err.strip().splitlines()[-1] if err.strip() else f"exit code {self._proc.returncode}"
        raise ExportError(f"the export's reading process ended unexpectedly: {tail}")

    def _frame(self, cancel: CancelToken | None) -> tuple[int, bytes]:
        fd = self._proc.stdout.fileno()  # type: ignore[union-attr]
        while True:
            check(cancel)
            ready, _, _ = select.select([fd], [], [], 0.1)
            if ready:
                break
        stream, size = HEADER.unpack(self._read(HEADER.size))
        data = self._read(size) if size else b""
        if stream == ERROR:
            detail = json.loads(data)
            message = f"{detail['type']}: {detail['message']}"
            if detail["kind"] == "database":
                raise ConnectionFailure(message)
            raise ExportError(f"reading the export failed: {message}")
        return stream, data

    def _frames(self, cancel: CancelToken | None) -> Iterator[tuple[int, bytes]]:
        """(stream, raw BSON batch) in order; an empty batch ends a stream."""
        while True:
            stream, data = self._frame(cancel)
            if stream == END:
                return
            yield stream, data

    # ---------------------------------------------------------- joining

    def _sessions(self, frames: Iterator[tuple[int, bytes]]) -> dict[int, list[tuple[str, bytes]]]:
        """The matching sessions (stream 0) as (id, raw BSON), grouped by their last
        collection, by id. Kept raw until written: a sixth of the memory of decoded ones."""
        groups: dict[int, list[tuple[str, bytes]]] = {}
        for stream, data in frames:
            if stream != 0:
                raise ExportError(f"reading the export failed: stream {stream} came first")
            if not data:
                break
            view, pos = memoryview(data), 0
            for s in bson.decode_all(data, _CODEC):
                size = int.from_bytes(view[pos:pos + 4], "little")
                raw, pos = bytes(view[pos:pos + size]), pos + size
                sid = s.get("sessionId")
                if isinstance(sid, str):
                    k = last_position(self._names, s.get("endedAt"))
                    groups.setdefault(k, []).append((sid, raw))
        return groups

    def iter(self, cancel: CancelToken | None) -> Iterator[list[dict[str, Any]]]:
        try:
            yield from self._iter(cancel)
        finally:
            self.close()

    def _iter(self, cancel: CancelToken | None) -> Iterator[list[dict[str, Any]]]:
        frames = self._frames(cancel)
        groups = self._sessions(frames)
        ends = {sid: k for k, group in groups.items() for sid, _ in group}
        held: dict[str, list[dict[str, Any]]] = {}  # messages of conversations not yet complete
        out: list[dict[str, Any]] = []
        out_msgs = 0

        def emit(group: list[tuple[str, bytes]], upto: int) -> Iterator[list[dict[str, Any]]]:
            nonlocal out, out_msgs
            for sid, raw in group[:upto]:
                s = bson.decode(raw, _CODEC)
                msgs = held.pop(sid, [])
                out.append(conversation_of(s, self._projects.get(s.get("projectId")), msgs))
                out_msgs += len(msgs) + 1
                if out_msgs >= YIELD_MESSAGES:
                    yield out
                    out, out_msgs = [], 0
            del group[:upto]

        yield from emit(groups.get(-1, []), len(groups.get(-1, [])))
        for stream, data in frames:
            k = stream - 1  # this message collection's position
            group = groups.get(k, [])
            if not data:  # the collection is done: so is every conversation ending in it
                yield from emit(group, len(group))
                continue
            docs = bson.decode_all(data, _CODEC)
            for d in docs:
                sid = d.get("sessionId")
                end = ends.get(sid) if type(sid) is str else None
                if end is None:
                    continue  # a conversation the filter left out, or an orphan
                if end < k:
                    raise LateMessage(f"conversation {sid!r} has messages in {self._names[k]}, "
                                      "after the month its session says it ended")
                held.setdefault(sid, []).append(d)
            mark = session_key(docs[-1].get("sessionId"))
            upto = 0
            while upto < len(group) and group[upto][0] < mark:
                upto += 1
            yield from emit(group, upto)
        for group in groups.values():  # none left unless the collections changed meanwhile
            yield from emit(group, len(group))
        if out:
            yield out

    def close(self) -> None:
        """Stop the worker (at once: nothing it holds is needed any more)."""
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.wait()
        for fh in (self._proc.stdout, self._stderr):
            if fh is not None:
                fh.close()
