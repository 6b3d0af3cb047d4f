"""The CSV export: conversations.csv and/or messages.csv, written chunk by chunk.

The writer produces member files in a work folder; the engine zips them with a manifest,
moves them as a folder with a manifest, or (one table asked for) moves the one file.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .. import records
from .csv_safety import neutralise
from .table_columns import CONVERSATION_COLUMNS, MESSAGE_COLUMNS, money, role

_BUFFER = 1 << 20


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str):
        return neutralise(value)
    return value


def csv_conversation_rows(convs: Iterable[Mapping[str, Any]]) -> list[list[Any]]:
    return [[
        _cell(c.get("id")), _cell(c.get("title")), _cell(c.get("project_name")),
        _cell(c.get("model")), c.get("message_count", ""), _cell(money(c.get("cost_usd"))),
        records.iso(c.get("created_at")) or "", records.iso(c.get("updated_at")) or "",
        neutralise(";".join(c.get("tags") or [])), _cell(c.get("summary")),
    ] for c in convs]


def csv_message_rows(convs: Iterable[Mapping[str, Any]]) -> list[list[Any]]:
    rows = []
    for c in convs:
        cid = _cell(c.get("id"))
        for m in c.get("messages") or ():
            tokens = m.get("tokens") or {}
            rows.append([
                cid, _cell(m.get("id")), _cell(m.get("parent_id")), _cell(m.get("type")),
                role(m.get("type")), _cell(m.get("content")), records.iso(m.get("timestamp")) or "",
                _cell(tokens.get("input")), _cell(tokens.get("output")),
                _cell(tokens.get("cache_creation")), _cell(tokens.get("cache_read")),
                _cell(money(m.get("cost_usd"))), _cell(m.get("model")), _cell(m.get("tool_name")),
            ])
    return rows


class CsvWriter:
    """conversations.csv and/or messages.csv, UTF-8, RFC 4180 quoting, formula-safe cells."""

    def __init__(self, folder: Path, tables: str = "both") -> None:
        self._files: list[tuple[Any, Any, str, Path]] = []
        self.conversations = tables in ("both", "conversations")
        self.messages = tables in ("both", "messages")
        if self.conversations:
            self._conv = self._open(folder / "conversations.csv", CONVERSATION_COLUMNS)
        if self.messages:
            self._msg = self._open(folder / "messages.csv", MESSAGE_COLUMNS)

    def _open(self, path: Path, header: list[str]) -> Any:
        fh = open(path, "w", encoding="utf-8", newline="", buffering=_BUFFER)  # noqa: SIM115
        writer = csv.writer(fh, dialect="excel", quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
        writer.writerow(header)
        self._files.append((fh, writer, path.name, path))
        return writer

    def write(self, conversations: list[dict[str, Any]]) -> None:
        if self.conversations:
            self._conv.writerows(csv_conversation_rows(conversations))
        if self.messages:
            self._msg.writerows(csv_message_rows(conversations))

    def members(self) -> list[tuple[Path, str]]:
        return [(path, name) for _, _, name, path in self._files]

    def close(self) -> None:
        for fh, *_ in self._files:
            fh.close()

    abort = close
