"""Sync checkpoints: how far each Claude Code transcript file has been imported.

One document per file in `sync_checkpoints` (keyed by its absolute path): size, mtime,
offset (the end of the last complete line imported), a hash of its head, and whether a
custom-title line of its session was read from it (a later window's ai-title does not beat
it). Planning a sync only stats files: one whose size and mtime match its checkpoint is not
opened at all. A file that grew with the same head is read from its offset; a truncated or
rewritten one (size below the offset, another head, or a new mtime at the same size) is read
whole again. A last line without its newline is left for the next sync (Claude Code may be
writing it), unless it is one whole JSON object already.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path, PurePosixPath
from typing import IO, Any

from pymongo import UpdateOne
from pymongo.database import Database

from ..store import collections as names
from . import archive

COLLECTION = "sync_checkpoints"
JOBS_KEPT = 200
HEAD_BYTES = 4096
_TAIL_STEP = 64 * 1024


@dataclass
class FileState:
    """One transcript file as a sync finds it, and the byte range it will read."""

    name: str  # relative to the projects folder, POSIX separators
    path: Path
    size: int
    mtime_ns: int
    state: str  # new / unchanged / grown / truncated / rewritten / undone / waiting
    start: int = 0
    end: int = 0  # just after the last complete line
    head_sha256: str = ""  # of the first head_len bytes, taken when planned
    head_len: int = 0
    custom_title: bool = False  # a custom-title line of its session was read from it before

    @property
    def session(self) -> str:
        """The session the file belongs to: its stem, or its folder's for a sub-agent file."""
        p = PurePosixPath(self.name)
        return p.parent.parent.name if p.parent.name == "subagents" else p.stem


@dataclass
class SyncPlan:
    root: Path
    files: list[FileState] = field(default_factory=list)

    @property
    def to_read(self) -> list[FileState]:
        return [f for f in self.files
                if f.state in ("new", "grown", "truncated", "rewritten", "undone")]

    @property
    def windows(self) -> dict[str, tuple[int, int]]:
        return {f.name: (f.start, f.end) for f in self.to_read}

    @property
    def bytes_to_read(self) -> int:
        return sum(f.end - f.start for f in self.to_read)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for f in self.files:
            out[f.state] = out.get(f.state, 0) + 1
        return out

    def partial_sessions(self) -> set[str]:
        """Sessions read only from where an earlier sync stopped (none of their files whole)."""
        grown = {f.session for f in self.to_read if f.start > 0}
        return grown - {f.session for f in self.to_read if f.start == 0}


def transcript_files(root: Path) -> list[tuple[str, Path]]:
    """(relative name, path) of every .jsonl under `root`, in name order; symlinks left out."""
    found = []
    for top, dirs, files in os.walk(root, followlinks=False):
        dirs.sort()
        for f in sorted(files):
            p = Path(top, f)
            if f.endswith(".jsonl") and not p.is_symlink():
                found.append((p.relative_to(root).as_posix(), p))
    return found


def _head_hash(path: Path, n: int) -> str:
    with path.open("rb") as fh:
        return hashlib.sha256(fh.read(n)).hexdigest()


def complete_end(path: Path, size: int, floor: int = 0) -> int:
    """Where the complete lines at or below `size` end (`floor` if none after it).

    That is just after the last newline, or `size` when the bytes after that newline are one
    whole JSON object already (a finished file whose last line has no newline); anything else
    after the last newline is a line still being written.
    """
    with path.open("rb") as fh:
        end, pos = floor, size
        while pos > floor:
            step = min(_TAIL_STEP, pos - floor)
            fh.seek(pos - step)
            chunk = fh.read(step)
            i = chunk.rfind(b"\n")
            if i >= 0:
                end = pos - step + i + 1
                break
            pos -= step
        if end < size:
            fh.seek(end)
            try:
                whole = isinstance(json.loads(fh.read(size - end)), dict)
            except ValueError:
                whole = False
            if whole:
                return size
    return end


def plan(db: Database, root: Path) -> SyncPlan:
    """What a sync of `root` must read, from the files' stat and their checkpoints."""
    root = Path(root).resolve()
    out = SyncPlan(root)
    listed = transcript_files(root)
    keys = [str(p) for _, p in listed]
    stored = {}
    for i in range(0, len(keys), 1000):
        for cp in db[COLLECTION].find({"_id": {"$in": keys[i:i + 1000]}}):
            stored[cp["_id"]] = cp
    undone = _undone_jobs(db, {j for cp in stored.values() for j in cp.get("jobs", ())})
    for name, path in listed:
        st = path.stat()
        f = FileState(name, path, st.st_size, st.st_mtime_ns, "new")
        cp = stored.get(str(path))
        if cp is not None:
            f.custom_title = bool(cp.get("custom_title"))
        if cp is not None and undone.intersection(cp.get("jobs", ())):
            f.state = "undone"  # an import of its lines was undone: read it all again
        elif cp is not None and cp["size"] == f.size and cp["mtime_ns"] == f.mtime_ns:
            f.state, f.start, f.end = "unchanged", cp["offset"], cp["offset"]
        elif cp is not None and f.size < cp["offset"]:
            f.state = "truncated"
        elif cp is not None and (f.size == cp["size"]
                                 or _head_hash(path, cp["head_len"]) != cp["head_sha256"]):
            f.state = "rewritten"
        elif cp is not None:
            f.state, f.start = "grown", cp["offset"]
        if f.state != "unchanged":
            f.end = complete_end(path, f.size, f.start)
            if f.end <= f.start and f.state == "grown":
                f.state = "waiting"  # only a half-written line since the last sync
            f.head_len = min(HEAD_BYTES, f.end)
            f.head_sha256 = _head_hash(path, f.head_len)
        out.files.append(f)
    return out


def _undone_jobs(db: Database, job_ids: set[Any]) -> set[Any]:
    ids = sorted(job_ids, key=str)
    out: set[Any] = set()
    for i in range(0, len(ids), 1000):
        out.update(j["_id"] for j in db[names.IMPORT_JOBS].find(
            {"_id": {"$in": ids[i:i + 1000]}, "status": "undone"}, {"_id": 1}))
    return out


def save(db: Database, done: Iterable[FileState], job_id: Any = None,
         custom_titled: set[str] | frozenset[str] = frozenset()) -> None:
    """Record that each file was imported up to its `end`, by import job `job_id`;
    `custom_titled`: the sessions a custom-title line was read for.

    The checkpoint keeps the last JOBS_KEPT jobs that read the file: when one of them is
    undone, the next sync reads the file whole again.
    """
    now = datetime.now(UTC)
    ops = []
    for f in done:
        update: dict[str, Any] = {"$set": {
            "size": f.size, "mtime_ns": f.mtime_ns, "offset": f.end, "head_len": f.head_len,
            "head_sha256": f.head_sha256, "synced_at": now}}
        if f.session in custom_titled:
            update["$set"]["custom_title"] = True
        elif f.start == 0:
            update["$unset"] = {"custom_title": ""}
        if f.start == 0:
            update["$set"]["jobs"] = [job_id] if job_id is not None else []
        elif job_id is not None:
            update["$push"] = {"jobs": {"$each": [job_id], "$slice": -JOBS_KEPT}}
        ops.append(UpdateOne({"_id": str(f.path)}, update, upsert=True))
    for i in range(0, len(ops), 1000):
        db[COLLECTION].bulk_write(ops[i:i + 1000], ordered=False)


class _Slice(io.RawIOBase):
    """Bytes [start, end) of a file, as a readable stream."""

    def __init__(self, path: Path, start: int, end: int) -> None:
        self._fh = path.open("rb", buffering=0)
        self._fh.seek(start)
        self._left = end - start

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # noqa: ANN001 - a writable buffer
        if self._left <= 0:
            return 0
        view = memoryview(buffer)[:min(len(buffer), self._left)]
        n = self._fh.readinto(view) or 0
        self._left -= n
        return n

    def close(self) -> None:
        self._fh.close()
        super().close()


def open_slice(path: Path, start: int, end: int) -> IO[bytes]:
    return io.BufferedReader(_Slice(path, start, end), 1 << 20)


def windowed(root: Path, entries: list[archive.Entry],
             windows: dict[str, tuple[int, int]]) -> list[archive.Entry]:
    """The entries a sync reads, each opened on its byte range only."""
    root = Path(root)
    out = []
    for e in entries:
        if e.name in windows:
            start, end = windows[e.name]
            path = root / e.name
            out.append(archive.Entry(e.name, end - start, partial(open_slice, path, start, end)))
    return out
