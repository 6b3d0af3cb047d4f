"""The fetching half of a collection scan, run as its own process (see scan.py).

Run as a script (`python scan_worker.py`), so it imports pymongo and nothing of ours. It
reads one request from stdin (a length-prefixed BSON document: uri, db, streams (each a
coll and a filter), batch, ahead_bytes) and answers on stdout with frames
`<stream:int32><length:uint32><raw BSON batch>`.
A zero length ends a stream; stream -1 ends the answer; stream -2 carries an error as JSON.

Streams are drained one after another, in the order asked. Up to `ahead_bytes` of
batches wait in a queue while stdout is busy, so the server goes on reading while the
reader decodes, builds and writes. Why a process: in the reader's process a fetching thread
loses so much time waiting for the GIL that the server sits idle half the time.
"""

from __future__ import annotations

import json
import struct
import sys
import threading
from collections import deque
from typing import Any, BinaryIO

HEADER = struct.Struct("<iI")
END = -1
ERROR = -2


def fetch(request: dict[str, Any], send: Any) -> None:
    """Drain every stream in turn, calling send(stream, batch), then send(stream, b"")."""
    from pymongo import MongoClient

    client: MongoClient[dict[str, Any]] = MongoClient(
        request["uri"], tz_aware=True, appname="claudelens_nb-scan",
        serverSelectionTimeoutMS=4000, connectTimeoutMS=4000)
    try:
        db = client[request["db"]]
        for i, s in enumerate(request["streams"]):
            with db[s["coll"]].find_raw_batches(s["filter"], batch_size=request["batch"]) as batches:
                for batch in batches:
                    send(i, batch)
            send(i, b"")
    finally:
        client.close()


class Frames:
    """Frames waiting for stdout: at most `limit` bytes of them, and always room for one."""

    def __init__(self, limit: int) -> None:
        self._items: deque[tuple[int, bytes] | None] = deque()
        self._bytes = 0
        self._limit = limit
        self._changed = threading.Condition()

    def put(self, frame: tuple[int, bytes] | None) -> None:
        size = len(frame[1]) if frame else 0
        with self._changed:
            while self._items and self._bytes + size > self._limit:
                self._changed.wait()
            self._items.append(frame)
            self._bytes += size
            self._changed.notify_all()

    def get(self) -> tuple[int, bytes] | None:
        with self._changed:
            while not self._items:
                self._changed.wait()
            frame = self._items.popleft()
            self._bytes -= len(frame[1]) if frame else 0
            self._changed.notify_all()
            return frame


def _read_request(stdin: BinaryIO) -> dict[str, Any]:
    import bson

    size = int.from_bytes(stdin.read(4), "little")
    return bson.decode(stdin.read(size))


def main() -> None:
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    request = _read_request(stdin)
    frames = Frames(request["ahead_bytes"])

    def write() -> None:
        try:
            while (frame := frames.get()) is not None:
                stream, data = frame
                stdout.write(HEADER.pack(stream, len(data)))
                stdout.write(data)
                stdout.flush()
        except BrokenPipeError:
            pass  # the reader went away (cancelled): nothing more to do

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    try:
        fetch(request, lambda stream, data: frames.put((stream, data)))
        frames.put((END, b""))
    except Exception as exc:  # noqa: BLE001 - reported to the reader, which raises it
        from pymongo.errors import PyMongoError

        kind = "database" if isinstance(exc, PyMongoError) else "other"
        detail = json.dumps({"kind": kind, "type": type(exc).__name__, "message": str(exc)})
        frames.put((ERROR, detail.encode("utf-8")))
    frames.put(None)
    writer.join()


if __name__ == "__main__":
    main()
