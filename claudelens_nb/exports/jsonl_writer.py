"""The JSONL export: a `_meta` line, then one conversation per line (docs/formats.md, "JSONL")."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .archive import BackgroundArchive
from .encoding import BytesWriter, encode, encode_conversations, envelope_head
from .sanitize import Sanitizer


class JsonlWriter(BytesWriter):
    """A `{"_meta": ...}` line, then one conversation per line."""

    def __init__(self, path: Path, meta: Mapping[str, Any], sanitizer: Sanitizer | None = None,
                 copy: BackgroundArchive | None = None) -> None:
        super().__init__(path, sanitizer, copy)
        self._put(encode({"_meta": envelope_head(meta)}) + b"\n")

    def write(self, conversations: list[dict[str, Any]]) -> None:
        if conversations:
            self._put(b"\n".join(encode_conversations(conversations, self.sanitizer)) + b"\n")

    def close(self) -> None:
        self._fh.close()
