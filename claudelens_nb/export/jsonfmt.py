"""The JSON envelope and JSONL writers: one conversation encoded at a time, straight to disk.

Encoding uses the C JSON encoder with a `default` hook for datetimes, money and ids, which
gives the same text as `json.dumps(records.record_to_json(conv), ...)` without first
copying every record into plain data.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from bson import Decimal128, ObjectId

from .. import records
from .sanitize import Sanitizer

FORMAT_VERSION = "1.0.0"
META_KEYS = ("total_conversations", "total_messages", "total_cost_usd", "date_range", "filters",
             "generator")
_BUFFER = 1 << 20


_ZERO = timedelta(0)


def _default(o: Any) -> Any:
    if isinstance(o, datetime):
        if o.utcoffset() == _ZERO and o.year >= 1000:
            # Same text as records.iso (milliseconds truncated, Z), without its conversions.
            return o.isoformat(timespec="milliseconds")[:-6] + "Z"
        return records.iso(o)
    if isinstance(o, (Decimal, Decimal128)):
        return records.money_float(o)
    if isinstance(o, ObjectId):
        return str(o)
    if isinstance(o, bytes):
        return o.decode("utf-8", "replace")
    if isinstance(o, Mapping):
        return dict(o)
    return str(o)


_TOKEN = f'"__claudelens_messages_{uuid.uuid4().hex}__"'
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=_default,
                            check_circular=False)
encode = _ENCODER.encode


def encode_conversation(conv: dict[str, Any], sanitizer: Sanitizer | None = None) -> str:
    """One conversation as compact JSON, sanitised on the way.

    Messages are encoded one by one and only a message whose encoded text could hold
    something to remove is walked and encoded again; the text is the same as encoding
    the whole sanitised record at once.
    """
    active = sanitizer is not None and sanitizer.active
    if active:
        sanitizer.header(conv)
    msgs = conv["messages"]
    conv["messages"] = _TOKEN[1:-1]
    try:
        head = encode(conv)
    finally:
        conv["messages"] = msgs
    parts = []
    for m in msgs:
        line = encode(m)
        if active and sanitizer.maybe(line):
            sanitizer.message(m)
            line = encode(m)
        parts.append(line)
    return head.replace(_TOKEN, "[" + ",".join(parts) + "]", 1)


def envelope_head(meta: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "version": FORMAT_VERSION,
        "export_date": records.iso(meta["export_date"]),
        "metadata": {k: meta.get(k) for k in META_KEYS},
    }


class _TextWriter:
    def __init__(self, path: Path, sanitizer: Sanitizer | None = None) -> None:
        self.path = path
        self.sanitizer = sanitizer
        self._fh = open(path, "w", encoding="utf-8", newline="\n", buffering=_BUFFER)  # noqa: SIM115

    def abort(self) -> None:
        self._fh.close()

    def _write_lines(self, parts: list[str]) -> None:
        self._fh.write("".join(parts))


class JsonWriter(_TextWriter):
    """`{"version":..., "export_date":..., "metadata":{...}, "conversations":[` one per line `]}`."""

    def __init__(self, path: Path, meta: Mapping[str, Any], sanitizer: Sanitizer | None = None) -> None:
        super().__init__(path, sanitizer)
        head = encode(envelope_head(meta))
        self._fh.write(head[:-1] + ',"conversations":[')
        self._first = True

    def write(self, conversations: list[dict[str, Any]]) -> None:
        parts = []
        for conv in conversations:
            parts.append("\n" if self._first else ",\n")
            parts.append(encode_conversation(conv, self.sanitizer))
            self._first = False
        self._write_lines(parts)

    def close(self) -> None:
        self._fh.write("\n]}\n")
        self._fh.close()


class JsonlWriter(_TextWriter):
    """A `{"_meta": ...}` line, then one conversation per line."""

    def __init__(self, path: Path, meta: Mapping[str, Any], sanitizer: Sanitizer | None = None) -> None:
        super().__init__(path, sanitizer)
        self._fh.write(encode({"_meta": envelope_head(meta)}) + "\n")

    def write(self, conversations: list[dict[str, Any]]) -> None:
        parts = []
        for conv in conversations:
            parts.append(encode_conversation(conv, self.sanitizer))
            parts.append("\n")
        self._write_lines(parts)

    def close(self) -> None:
        self._fh.close()
