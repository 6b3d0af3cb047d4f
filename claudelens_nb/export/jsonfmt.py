"""The JSON envelope and JSONL writers: one conversation encoded at a time, straight to disk.

Encoding uses the C JSON encoder with a `default` hook for datetimes, money and ids, which
gives the same text as `json.dumps(records.record_to_json(conv), ...)` without first
copying every record into plain data.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from bson import Decimal128, ObjectId

from .. import records

FORMAT_VERSION = "1.0.0"
META_KEYS = ("total_conversations", "total_messages", "total_cost_usd", "date_range", "filters",
             "generator")
_BUFFER = 1 << 20


def _default(o: Any) -> Any:
    if isinstance(o, datetime):
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


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=_default,
                            check_circular=False)
encode = _ENCODER.encode


def envelope_head(meta: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "version": FORMAT_VERSION,
        "export_date": records.iso(meta["export_date"]),
        "metadata": {k: meta.get(k) for k in META_KEYS},
    }


class _TextWriter:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh = open(path, "w", encoding="utf-8", newline="\n", buffering=_BUFFER)  # noqa: SIM115

    def abort(self) -> None:
        self._fh.close()

    def _write_lines(self, parts: list[str]) -> None:
        self._fh.write("".join(parts))


class JsonWriter(_TextWriter):
    """`{"version":..., "export_date":..., "metadata":{...}, "conversations":[` one per line `]}`."""

    def __init__(self, path: Path, meta: Mapping[str, Any]) -> None:
        super().__init__(path)
        head = encode(envelope_head(meta))
        self._fh.write(head[:-1] + ',"conversations":[')
        self._first = True

    def write(self, conversations: list[dict[str, Any]]) -> None:
        parts = []
        for conv in conversations:
            parts.append("\n" if self._first else ",\n")
            parts.append(encode(conv))
            self._first = False
        self._write_lines(parts)

    def close(self) -> None:
        self._fh.write("\n]}\n")
        self._fh.close()


class JsonlWriter(_TextWriter):
    """A `{"_meta": ...}` line, then one conversation per line."""

    def __init__(self, path: Path, meta: Mapping[str, Any]) -> None:
        super().__init__(path)
        self._fh.write(encode({"_meta": envelope_head(meta)}) + "\n")

    def write(self, conversations: list[dict[str, Any]]) -> None:
        parts = []
        for conv in conversations:
            parts.append(encode(conv))
            parts.append("\n")
        self._write_lines(parts)

    def close(self) -> None:
        self._fh.close()
