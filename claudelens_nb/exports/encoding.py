"""Encoding records as JSON for the JSON and JSONL writers, and the byte file they share:
a batch of conversations encoded at a time, straight to disk (and, for a big export, to
the zip written alongside).

Encoding is orjson with a `default` hook for datetimes (our one spelling, milliseconds and
a Z), money and ids: the same data as `records.record_to_json`, without first copying
every record into plain data. Sanitising looks for secret candidates once per batch in
the encoded messages and re-encodes only the messages it had to change.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
from bson import Decimal128, ObjectId

from .. import records
from .archive import BackgroundArchive
from .sanitize import Sanitizer

FORMAT_VERSION = "1.0.0"
META_KEYS = ("total_conversations", "total_messages", "total_cost_usd", "date_range", "filters",
             "generator")
_BUFFER = 1 << 20
_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME


def _default(o: Any) -> Any:
    if type(o) is datetime:
        # The scan's naive UTC datetimes, 200,000 a 100,000-message export: records.iso's
        # own fast case, without the call.
        if o.tzinfo is None and o.year >= 1000:
            return o.isoformat(timespec="milliseconds") + "Z"
        return records.iso(o)
    if isinstance(o, datetime):
        return records.iso(o)
    if isinstance(o, Decimal):
        return float(o)
    if isinstance(o, Decimal128):
        return records.money_float(o)
    if isinstance(o, ObjectId):
        return str(o)
    if isinstance(o, bytes):
        return o.decode("utf-8", "replace")
    if isinstance(o, Mapping):
        return dict(o)
    return str(o)


def encode(value: Any) -> bytes:
    """Compact UTF-8 JSON for a record or any part of one."""
    return orjson.dumps(value, default=_default, option=_OPTIONS)


_PLACEHOLDER = f"__claudelens_messages_{uuid.uuid4().hex}__"
_TOKEN = f'"{_PLACEHOLDER}"'.encode()


def encode_conversations(convs: list[dict[str, Any]], sanitizer: Sanitizer | None = None
                         ) -> list[bytes]:
    """Conversations as compact JSON, sanitised on the way.

    The bytes are those of encoding each whole sanitised record at once. Secret
    candidates are looked for in all the messages of the batch together.
    """
    heads: list[bytes] = []
    parts: list[bytes] = []
    messages: list[dict[str, Any]] = []
    starts: list[int] = []
    for conv in convs:
        if sanitizer is not None:
            sanitizer.header(conv)
        msgs = conv["messages"]
        conv["messages"] = _PLACEHOLDER
        try:
            heads.append(encode(conv))
        finally:
            conv["messages"] = msgs
        starts.append(len(parts))
        parts += [encode(m) for m in msgs]
        messages += msgs
    if sanitizer is not None:
        for i in sanitizer.messages(messages, parts):
            parts[i] = encode(messages[i])
    starts.append(len(parts))
    return [head.replace(_TOKEN, b"[" + b",".join(parts[starts[c]:starts[c + 1]]) + b"]", 1)
            for c, head in enumerate(heads)]


def encode_conversation(conv: dict[str, Any], sanitizer: Sanitizer | None = None) -> bytes:
    """One conversation as compact JSON, sanitised on the way."""
    return encode_conversations([conv], sanitizer)[0]


def envelope_head(meta: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "version": FORMAT_VERSION,
        "export_date": records.iso(meta["export_date"]),
        "metadata": {k: meta.get(k) for k in META_KEYS},
    }


class BytesWriter:
    """A buffered output file whose bytes also go to the zip written alongside, if any."""

    def __init__(self, path: Path, sanitizer: Sanitizer | None = None,
                 copy: BackgroundArchive | None = None) -> None:
        self.path = path
        self.sanitizer = sanitizer
        self._fh = open(path, "wb", buffering=_BUFFER)  # noqa: SIM115
        self._copy = copy

    def _put(self, data: bytes) -> None:
        self._fh.write(data)
        if self._copy is not None:
            self._copy.write(data)

    def abort(self) -> None:
        self._fh.close()


def with_upstream_names(conv: dict[str, Any]) -> dict[str, Any]:
    """`conv` with the fields upstream's importer reads under its names, after the rest."""
    for alias, name in records.UPSTREAM_ALIASES.items():
        conv[alias] = conv.get(name)
    return conv
