"""The fetching half of `store.drain.RawDrain`, run as its own process.

Run as a script (`python -P drain_worker.py REQUEST_FD DATA_FD`), so it imports pymongo and
nothing of ours. Both descriptors are `multiprocessing.connection` pipe ends: it receives
one request (a pickled dict: uri, db, streams (each a coll and a filter), batch,
ahead_bytes) and answers with one message per raw BSON batch, an empty message ending each
stream, in the order asked. On failure it writes one JSON line to stderr
(kind, type, message) and exits with ERROR_EXIT.

Up to `ahead_bytes` of batches wait in a queue while the pipe is busy, so the server goes
on reading while the reader decodes, builds and writes. Why a process: in the reader's
process a fetching thread loses so much time waiting for the GIL that the server sits
idle half the time.
"""

from __future__ import annotations

import json
import sys
import threading
from collections import deque
from multiprocessing.connection import Connection
from typing import Any

ERROR_EXIT = 70  # EX_SOFTWARE: the last stderr line says what failed


def fetch(request: dict[str, Any], send: Any) -> None:
    """Drain every stream in turn, calling send(batch) per batch, then send(b"")."""
    from pymongo import MongoClient

    client: MongoClient[dict[str, Any]] = MongoClient(
        request["uri"], tz_aware=True, appname="claudelens_nb-scan",
        serverSelectionTimeoutMS=4000, connectTimeoutMS=4000)
    try:
        db = client[request["db"]]
        for s in request["streams"]:
            with db[s["coll"]].find_raw_batches(s["filter"], batch_size=request["batch"]) as batches:
                for batch in batches:
                    send(batch)
            send(b"")
    finally:
        client.close()


class Ahead:
    """Batches waiting for the pipe: at most `limit` bytes of them, and always room for one."""

    def __init__(self, limit: int) -> None:
        self._items: deque[bytes | None] = deque()
        self._bytes = 0
        self._limit = limit
        self._changed = threading.Condition()

    def put(self, item: bytes | None) -> None:
        size = len(item) if item else 0
        with self._changed:
            while self._items and self._bytes + size > self._limit:
                self._changed.wait()
            self._items.append(item)
            self._bytes += size
            self._changed.notify_all()

    def get(self) -> bytes | None:
        with self._changed:
            while not self._items:
                self._changed.wait()
            item = self._items.popleft()
            self._bytes -= len(item) if item else 0
            self._changed.notify_all()
            return item


def main() -> None:
    requests, data = Connection(int(sys.argv[1]), writable=False), Connection(int(sys.argv[2]), readable=False)
    request = requests.recv()
    requests.close()
    ahead = Ahead(request["ahead_bytes"])

    def write() -> None:
        try:
            while (item := ahead.get()) is not None:
                data.send_bytes(item)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the reader went away (cancelled): nothing more to do

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    failed = None
    try:
        fetch(request, ahead.put)
    except Exception as exc:  # noqa: BLE001 - reported to the reader, which raises it
        from pymongo.errors import PyMongoError

        kind = "database" if isinstance(exc, PyMongoError) else "other"
        failed = {"kind": kind, "type": type(exc).__name__, "message": str(exc)}
    ahead.put(None)
    writer.join()
    data.close()
    if failed is not None:
        sys.stderr.write("\n" + json.dumps(failed) + "\n")
        sys.exit(ERROR_EXIT)


if __name__ == "__main__":
    main()
