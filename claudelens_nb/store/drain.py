"""Raw BSON batches of several queries, drained one after another by a child process.

`RawDrain(db, streams)` starts `drain_worker.py` (pymongo only, `python -P`) with the URI
the client was made from, and hands back the batches in order: the server goes on reading
while this process decodes and builds. The export's collection scan and `load_messages`
read through it; a client made elsewhere (no URI known) cannot be drained this way
(`available`).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from multiprocessing import Pipe
from pathlib import Path
from typing import Any, NoReturn

from pymongo.database import Database
from pymongo.errors import ConnectionFailure

from ..errors import ClaudeLensError
from ..progress import CancelToken, check
from .connection import uri_of
from .drain_worker import ERROR_EXIT

BATCH_DOCS = 2000  # per server batch: about 2 MB of messages
# What the worker keeps ready while the reader is busy. SecantusDB pauses before the first
# batch of each collection (0.25 s per 17,000 messages), and the reader must not run dry
# meanwhile: on 200,000 messages 8 MB made an export 15% slower than 24 MB; 48 MB no faster.
AHEAD_BYTES = 24 << 20
_WORKER = Path(__file__).with_name("drain_worker.py")
_PIPE_BYTES = 1 << 20


def available(db: Database) -> bool:
    """True when a worker can reach `db` (it needs the URI the client was made from)."""
    return uri_of(db.client) is not None


class RawDrain:
    """`streams` (collection name, filter) drained in turn; `batches()` yields
    (stream index, raw BSON batch), an empty batch ending each stream.

    `fail(message)` makes the error raised when the worker fails other than by losing the
    database (which raises ConnectionFailure, as pymongo would)."""

    def __init__(self, db: Database, streams: list[tuple[str, dict[str, Any]]], *,
                 batch_docs: int = BATCH_DOCS,
                 fail: Callable[[str], Exception] = ClaudeLensError) -> None:
        uri = uri_of(db.client)
        if uri is None:
            raise fail("reading in a worker needs a client made by claudelens_nb.connect()")
        self._fail = fail
        self._streams = len(streams)
        request_r, request_w = Pipe(duplex=False)
        self._data, data_w = Pipe(duplex=False)
        with contextlib.suppress(OSError):  # a bigger pipe: fewer reads per batch (Linux)
            fcntl.fcntl(data_w.fileno(), fcntl.F_SETPIPE_SZ, _PIPE_BYTES)
        # A file, not a pipe, for the worker's stderr: nobody reads it until the worker
        # ends, and a full pipe would block it.
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        child_ends = (request_r.fileno(), data_w.fileno())
        self.proc = subprocess.Popen(
            # -P: the worker's folder (ours) must not shadow the modules it imports.
            [sys.executable, "-P", str(_WORKER), *map(str, child_ends)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self._stderr,
            pass_fds=child_ends,
        )
        request_r.close()
        data_w.close()
        request_w.send({"uri": uri, "db": db.name, "batch": batch_docs, "ahead_bytes": AHEAD_BYTES,
                        "streams": [{"coll": c, "filter": f} for c, f in streams]})
        request_w.close()

    def _died(self) -> NoReturn:
        self.proc.wait()
        self._stderr.seek(0)
        lines = self._stderr.read().decode("utf-8", "replace").strip().splitlines()
        detail = None
        if self.proc.returncode == ERROR_EXIT and lines:
            with contextlib.suppress(ValueError):
                detail = json.loads(lines[-1])
        if isinstance(detail, dict):
            message = f"{detail.get('type')}: {detail.get('message')}"
            if detail.get("kind") == "database":
                raise ConnectionFailure(message)
            raise self._fail(f"reading the database failed: {message}")
        tail = lines[-1] if lines else f"exit code {self.proc.returncode}"
        raise self._fail(f"the reading process ended unexpectedly: {tail}")

    def batches(self, cancel: CancelToken | None = None) -> Iterator[tuple[int, bytes]]:
        stream = 0
        while stream < self._streams:
            while not self._data.poll(0.1):
                check(cancel)
            try:
                data = self._data.recv_bytes()
            except (EOFError, OSError):
                self._died()
            yield stream, data
            if not data:
                stream += 1

    def close(self) -> None:
        """Stop the worker (at once: nothing it holds is needed any more)."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self._data.close()
        self._stderr.close()
