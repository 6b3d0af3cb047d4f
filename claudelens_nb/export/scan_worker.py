"""The fetching half of a merged scan, run as its own process (see scan.py).

Run as a script (`python scan_worker.py`), so it imports pymongo and nothing of ours. It
reads one request from stdin (a length-prefixed BSON document: uri, db, streams, batch,
ahead) and answers on stdout with frames `<stream:int32><length:uint32><raw BSON batch>`.
A zero length ends a stream; stream -1 ends the answer; stream -2 carries an error as JSON.

It fetches from the stream that is furthest behind in `sessionId` order (the merge needs
that one next) and keeps up to `ahead` batches queued while stdout is busy, so the server
keeps working while the reader decodes. Why a process: in the reader's process a fetching
thread loses so much time waiting for the GIL that the server sits idle half the time.
"""

from __future__ import annotations

import json
import queue
import struct
import sys
import threading
from typing import Any, BinaryIO

HEADER = struct.Struct("<iI")
END = -1
ERROR = -2


def session_key(value: Any) -> str:
    """A `sessionId` as the merge orders it: MongoDB sorts null and numbers before
    strings, and such ids are left out, so "" stands for them."""
    return value if isinstance(value, str) else ""


def last_session_id(batch: bytes, codec: Any) -> str:
    """The `sessionId` of the last document in a raw BSON batch ("" if it is not a string)."""
    import bson

    pos = last = 0
    size = len(batch)
    while pos < size:
        last = pos
        pos += int.from_bytes(batch[pos:pos + 4], "little")
    return session_key(bson.decode(batch[last:], codec).get("sessionId"))


def fetch(request: dict[str, Any], send: Any) -> None:
    """Drain every stream in merge order, calling send(stream, batch or b"")."""
    from pymongo import MongoClient

    client = MongoClient(request["uri"], tz_aware=True, appname="claudelens_nb-scan",
                         serverSelectionTimeoutMS=4000, connectTimeoutMS=4000)
    try:
        db = client[request["db"]]
        codec = db.codec_options
        cursors = [
            db[s["coll"]].find_raw_batches(s["filter"], batch_size=request["batch"]).sort(
                [tuple(k) for k in s["sort"]])
            for s in request["streams"]
        ]
        behind: dict[int, str | None] = dict.fromkeys(range(len(cursors)))
        last_session: str | None = None
        while behind:
            if 0 not in behind:
                # No conversations left: the rest of a stream past the last one is not needed.
                for j in [j for j, k in behind.items()
                          if last_session is None or k is not None and k > last_session]:
                    del behind[j]
                    send(j, b"")
                if not behind:
                    break
            # A stream not yet started counts as furthest behind.
            i = min(behind, key=lambda j: (behind[j] is not None, behind[j] or ""))
            batch = next(cursors[i], None)
            if batch is None:
                del behind[i]
                send(i, b"")
                continue
            behind[i] = last_session_id(batch, codec)
            if i == 0:
                last_session = behind[i]
            send(i, batch)
        for cursor in cursors:
            cursor.close()
    finally:
        client.close()


def _read_request(stdin: BinaryIO) -> dict[str, Any]:
    import bson

    size = int.from_bytes(stdin.read(4), "little")
    return bson.decode(stdin.read(size))


def main() -> None:
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    request = _read_request(stdin)
    frames: queue.Queue[tuple[int, bytes] | None] = queue.Queue(maxsize=max(1, request["ahead"]))

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
