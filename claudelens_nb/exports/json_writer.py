"""The JSON export: one envelope, conversations one per line (docs/formats.md, "JSON")."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .archive import BackgroundArchive
from .encoding import BytesWriter, encode, encode_conversations, envelope_head, with_upstream_names
from .sanitize import Sanitizer


class JsonWriter(BytesWriter):
    """`{"version":..., "export_date":..., "metadata":{...}, "conversations":[` one per line `]}`."""

    def __init__(self, path: Path, meta: Mapping[str, Any], sanitizer: Sanitizer | None = None,
                 copy: BackgroundArchive | None = None) -> None:
        super().__init__(path, sanitizer, copy)
        head = encode(envelope_head(meta))
        self._put(head[:-1] + b',"conversations":[')
        self._first = True

    def write(self, conversations: list[dict[str, Any]]) -> None:
        if not conversations:
            return
        lead = b"\n" if self._first else b",\n"
        convs = [with_upstream_names(c) for c in conversations]
        self._put(lead + b",\n".join(encode_conversations(convs, self.sanitizer)))
        self._first = False

    def close(self) -> None:
        self._put(b"\n]}\n")
        self._fh.close()
