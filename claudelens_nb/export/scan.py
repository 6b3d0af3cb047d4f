"""Conversations in id order from one sorted pass over every collection.

The sessions collection and each message collection are read once, each sorted by
`sessionId` (messages by `sessionId, timestamp`, ClaudeLens's own index), and the streams
are merged: a conversation is complete once every stream has moved past its id. This
costs the server about what a plain drain costs, where one `$in` query per chunk of
conversations costs it twice that.

The fetching runs in a helper process (scan_worker.py) that always asks for the stream
furthest behind and keeps a few batches ready, so the server works while this process
decodes, builds and writes. Memory holds a few batches per stream and the conversation
being completed.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import select
import subprocess
import sys
from bisect import bisect_left
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import bson
from pymongo.database import Database
from pymongo.errors import ConnectionFailure

from ..errors import ExportError
from ..progress import CancelToken, check
from ..query import _CODEC, Filter, _projects_by_id, conversation_of, message_query, session_query
from ..store import collections as names
from ..store.connection import uri_of
from .scan_worker import END, ERROR, HEADER, session_key

BATCH_DOCS = 2000  # per server batch: about 2 MB of messages
AHEAD = 4  # batches the worker keeps ready
YIELD_MESSAGES = 2000  # records handed to the writer at a time
_BY_SESSION = [["sessionId", 1]]
_BY_SESSION_TIME = [["sessionId", 1], ["timestamp", 1]]
_TOP = "\U0010ffff" * 4  # above every real id
_WORKER = Path(__file__).with_name("scan_worker.py")
_PIPE_BYTES = 1 << 20


def available(db: Database) -> bool:
    """True when a worker can reach `db` (it needs the URI the client was made from)."""
    return uri_of(db.client) is not None


class MergedScan:
    """Iterate conversation records (lists of them), ordered by conversation id."""

    def __init__(self, db: Database, flt: Filter, *, batch_docs: int = BATCH_DOCS) -> None:
        uri = uri_of(db.client)
        if uri is None:
            raise ExportError("a merged scan needs a client made by claudelens_nb.connect()")
        self._db = db
        mq = message_query(flt)
        streams = [{"coll": names.SESSIONS, "filter": session_query(db, flt), "sort": _BY_SESSION}]
        streams += [{"coll": name, "filter": mq, "sort": _BY_SESSION_TIME}
                    for name in names.message_collection_names(db)]
        self._streams = len(streams)
        self._projects: dict[Any, dict[str, Any] | None] = {}
        request = bson.encode({"uri": uri, "db": db.name, "streams": streams,
                               "batch": batch_docs, "ahead": AHEAD})
        self._proc = subprocess.Popen(
            # -P: the worker's folder (ours) must not shadow the modules it imports.
            [sys.executable, "-P", str(_WORKER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, bufsize=0,
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
        err = (self._proc.stderr.read() if self._proc.stderr else b"").decode("utf-8", "replace")
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

    # ---------------------------------------------------------- merging

    def iter(self, cancel: CancelToken | None) -> Iterator[list[dict[str, Any]]]:
        n = self._streams
        pending: list[list[dict[str, Any]]] = [[] for _ in range(n)]
        keys: list[list[str]] = [[] for _ in range(n)]
        last: list[str | None] = [None] * n
        open_ = set(range(n))
        out: list[dict[str, Any]] = []
        out_msgs = 0
        while True:
            i, batch = self._frame(cancel)
            finished = i == END
            if not finished:
                if not batch:
                    open_.discard(i)
                else:
                    docs = bson.decode_all(batch, _CODEC)
                    pending[i].extend(docs)
                    keys[i].extend(session_key(d.get("sessionId")) for d in docs)
                    last[i] = keys[i][-1]
                if any(last[j] is None for j in open_):
                    continue
            mark = _TOP if finished or not open_ else min(last[j] for j in open_)  # type: ignore[type-var]
            ready: list[list[dict[str, Any]]] = []
            for j in range(n):
                cut = bisect_left(keys[j], mark)
                ready.append(pending[j][:cut])
                del pending[j][:cut], keys[j][:cut]
            for conv in self._build(ready):
                out.append(conv)
                out_msgs += len(conv["messages"])
                if out_msgs >= YIELD_MESSAGES:
                    yield out
                    out, out_msgs = [], 0
            if finished:
                self.close()
                if out:
                    yield out
                return

    def _build(self, ready: list[list[dict[str, Any]]]) -> Iterator[dict[str, Any]]:
        """Join the complete sessions with their messages (every list sorted by id)."""
        sessions, streams = ready[0], ready[1:]
        if not sessions:
            return
        missing = {s.get("projectId") for s in sessions} - self._projects.keys()
        if missing:
            found = _projects_by_id(self._db, missing)
            self._projects.update({pid: found.get(pid) for pid in missing})
        pos = [0] * len(streams)
        for session in sessions:
            sid = session.get("sessionId")
            msgs: list[dict[str, Any]] = []
            for j, docs in enumerate(streams):
                p = pos[j]
                while p < len(docs) and session_key(docs[p].get("sessionId")) < sid:
                    p += 1  # messages of conversations the filter left out
                start = p
                while p < len(docs) and docs[p].get("sessionId") == sid:
                    p += 1
                msgs.extend(docs[start:p])
                pos[j] = p
            yield conversation_of(session, self._projects.get(session.get("projectId")), msgs)

    def close(self) -> None:
        """Stop the worker (at once: nothing it holds is needed any more)."""
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.wait()
        for fh in (self._proc.stdout, self._proc.stderr):
            if fh is not None:
                fh.close()
