"""Which source an input comes from, judged by a cheap look at its content (never its name)."""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import IO, TYPE_CHECKING

import ijson

from ..errors import ImportFileError
from ..security import DEFAULT_LIMITS, Limits, open_zip

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

JSONL_PEEK_BYTES = 8 * 1024 * 1024
JSONL_PEEK_LINES = 200
LINE_LIMIT = 256 * 1024
JSON_PEEK_BYTES = 32 * 1024 * 1024
MAX_CANDIDATES = 40
MAX_FOLDERS = 2000


class _Budget(io.RawIOBase):
    """A read-only view of a stream that ends after `limit` bytes."""

    def __init__(self, raw: IO[bytes], limit: int) -> None:
        self.raw, self.left = raw, limit

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        if self.left <= 0:
            return 0
        buf = memoryview(buffer).cast("B")
        data = self.raw.read(min(len(buf), self.left))
        n = len(data)
        buf[:n] = data
        self.left -= n
        return n


def first_char(fh: IO[bytes]) -> bytes:
    head = fh.read(4096)
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    return stripped[:1]


def _line_kind(obj: object) -> str | None:
    if not isinstance(obj, dict):
        return None
    if isinstance(obj.get("type"), str) and obj.get("sessionId") and obj.get("uuid"):
        return "claude_code"
    return None


def _jsonl_kind(fh: IO[bytes]) -> tuple[str | None, bool]:
    """(kind, weak): claude_code when a line has sessionId+type+uuid; summaries alone are weak."""
    used = lines = 0
    weak = False
    truncated = False
    while used < JSONL_PEEK_BYTES and lines < JSONL_PEEK_LINES:
        raw = fh.readline(LINE_LIMIT)
        if not raw:
            break
        used += len(raw)
        whole = raw.endswith(b"\n") or len(raw) < LINE_LIMIT
        if truncated or not whole:
            truncated = not raw.endswith(b"\n")
            continue
        lines += 1
        try:
            obj = json.loads(raw)
        except ValueError:
            continue
        if _line_kind(obj):
            return "claude_code", False
        if isinstance(obj, dict) and obj.get("type") == "summary" and "leafUuid" in obj:
            weak = True
    return None, weak


def _json_kind(fh: IO[bytes]) -> str | None:
    """claude_ai / chatgpt from the keys of the first conversation, streamed."""
    keys: set[str] = set()
    container = None
    try:
        for prefix, event, value in ijson.parse(io.BufferedReader(_Budget(fh, JSON_PEEK_BYTES))):
            if container is None:
                container = event
                if event not in ("start_array", "start_map"):
                    return None
                continue
            top = "item" if container == "start_array" else ""
            if prefix == top and event == "map_key":
                keys.add(value)
                if value == "chat_messages":
                    return "claude_ai"
            elif prefix == top and event == "end_map":
                break
    except ImportFileError:
        raise  # the zip defence's refusal (a ValueError too): not a verdict on the content
    except (ijson.JSONError, ValueError):
        pass
    if "mapping" in keys and ("current_node" in keys or container == "start_array"):
        return "chatgpt"
    return None


def stream_kind(opener: Callable[[], IO[bytes]]) -> str | None:
    """The kind of one stream (opened up to three times by `opener`), or None."""
    with opener() as fh:
        first = first_char(fh)
    if first == b"[":
        with opener() as fh:
            return _json_kind(fh)
    if first != b"{":
        return None
    with opener() as fh:
        kind, weak = _jsonl_kind(fh)
    if kind:
        return kind
    with opener() as fh:
        kind = _json_kind(fh)
    return kind or ("claude_code" if weak else None)


def _file_opener(path: Path) -> Callable[[], IO[bytes]]:
    return lambda: path.open("rb")


def _zip_kind(path: Path, limits: Limits) -> str | None:
    # The zip defence refuses a hostile archive (detect then answers None) and bounds the peeks.
    with open_zip(path, limits=limits) as guard:
        infos = [i for i in guard.infos if not i.is_dir()
                 and i.filename.lower().endswith((".jsonl", ".json"))]
        infos.sort(key=lambda i: (not i.filename.endswith("conversations.json"), i.filename))
        for info in infos[:MAX_CANDIDATES]:
            kind = stream_kind(partial(guard.open, info))
            if kind:
                return kind
    return None


def _dir_kind(path: Path) -> str | None:
    if (path / "projects").is_dir():
        kind = _dir_kind(path / "projects")
        if kind:
            return kind
    seen = 0
    for visited, (root, dirs, files) in enumerate(os.walk(path)):
        if visited >= MAX_FOLDERS:
            return None
        dirs.sort()
        names = sorted(f for f in files if f.lower().endswith((".jsonl", ".json")))
        names.sort(key=lambda f: f != "conversations.json")
        for name in names:
            kind = stream_kind(_file_opener(Path(root, name)))
            if kind:
                return kind
            seen += 1
            if seen >= MAX_CANDIDATES:
                return None
    return None


def detect(path: Path, *, limits: Limits = DEFAULT_LIMITS) -> str | None:
    """"claude_code", "claude_ai", "chatgpt", or None: from content, peeking only at the start
    (a zip through the zip defence under `limits`; one it refuses is None)."""
    path = Path(path)
    try:
        if path.is_dir():
            return _dir_kind(path)
        if not path.is_file():
            return None
        if zipfile.is_zipfile(path):
            return _zip_kind(path, limits)
        return stream_kind(lambda: path.open("rb"))
    except (OSError, ValueError, zipfile.BadZipFile, RuntimeError, EOFError):
        return None
