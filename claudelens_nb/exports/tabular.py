"""CSV and Parquet: a conversations table and a messages table, written chunk by chunk.

Both writers produce member files in a work folder; the engine zips them with a manifest,
moves them as a folder with a manifest, or (one table asked for) moves the one file.
"""

from __future__ import annotations

import contextlib
import csv
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from .. import records
from .csv_safety import neutralise

CONVERSATION_COLUMNS = ["conversation_id", "title", "project_name", "model", "message_count",
                        "cost_usd", "created_at", "updated_at", "tags", "summary"]
MESSAGE_COLUMNS = ["conversation_id", "message_id", "parent_id", "type", "role", "content",
                   "timestamp", "tokens_input", "tokens_output", "tokens_cache_creation",
                   "tokens_cache_read", "cost_usd", "model", "tool_name"]
ROLE_OF_TYPE = {"user": "user", "assistant": "assistant", "tool_use": "assistant",
                "tool_result": "user", "system": "system", "summary": "system"}
_BUFFER = 1 << 20


def role(type_: str | None) -> str:
    return ROLE_OF_TYPE.get(type_ or "", "system")


def _money(value: Any) -> float | None:
    if value is None:
        return None
    return float(value) if isinstance(value, Decimal) else records.money_float(value)


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str):
        return neutralise(value)
    return value


def csv_conversation_rows(convs: Iterable[Mapping[str, Any]]) -> list[list[Any]]:
    return [[
        _cell(c.get("id")), _cell(c.get("title")), _cell(c.get("project_name")),
        _cell(c.get("model")), c.get("message_count", ""), _cell(_money(c.get("cost_usd"))),
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
                _cell(_money(m.get("cost_usd"))), _cell(m.get("model")), _cell(m.get("tool_name")),
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


TS = pa.timestamp("ms", tz="UTC")
CONVERSATION_SCHEMA = pa.schema([
    ("conversation_id", pa.string()), ("title", pa.string()), ("summary", pa.string()),
    ("project_id", pa.string()), ("project_name", pa.string()), ("project_path", pa.string()),
    ("model", pa.string()), ("message_count", pa.int64()), ("cost_usd", pa.float64()),
    ("created_at", TS), ("updated_at", TS), ("duration_seconds", pa.float64()),
    ("tags", pa.list_(pa.string())),
])
MESSAGE_SCHEMA = pa.schema([
    ("conversation_id", pa.string()), ("message_id", pa.string()), ("parent_id", pa.string()),
    ("type", pa.string()), ("role", pa.string()), ("content", pa.string()), ("timestamp", TS),
    ("tokens_input", pa.int64()), ("tokens_output", pa.int64()),
    ("tokens_cache_creation", pa.int64()), ("tokens_cache_read", pa.int64()),
    ("cost_usd", pa.float64()), ("model", pa.string()), ("tool_name", pa.string()),
    ("tool_input", pa.string()), ("is_sidechain", pa.bool_()),
])
ROW_GROUP_ROWS = 10_000


def _int(v: Any) -> int | None:
    return None if v is None else int(v)


def _json_or_none(v: Any) -> str | None:
    if v is None:
        return None
    from .jsonfmt import encode

    return encode(v).decode("utf-8")


class _RowGroups:
    """One Parquet file's rows, gathered column by column and written a row group at a time."""

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self.path, self.schema = path, schema
        self.writer = pq.ParquetWriter(path, schema, compression="zstd")
        self.cols: dict[str, list[Any]] = {n: [] for n in schema.names}

    def flush(self, at_least: int = 1) -> None:
        """Write what is gathered as one row group, if it holds `at_least` rows."""
        if len(self.cols[self.schema.names[0]]) >= at_least:
            self.writer.write_table(pa.table(self.cols, schema=self.schema))
            self.cols = {n: [] for n in self.schema.names}

    def close(self) -> None:
        self.flush()
        self.writer.close()


class _NoTable:
    """Stands in for a table that was not asked for."""

    path = None

    def __init__(self) -> None:
        self.cols: dict[str, list[Any]] = defaultdict(list)

    def flush(self, at_least: int = 1) -> None:
        self.cols.clear()

    def close(self) -> None:
        pass


class ParquetWriter:
    """conversations.parquet and/or messages.parquet, typed, one row group per ~10k rows.

    `private` creates each file (owner-only) before it is written."""

    def __init__(self, folder: Path, tables: str = "both",
                 private: Callable[[Path], None] | None = None) -> None:
        self._tables: list[_RowGroups] = []
        self._conv: _RowGroups | _NoTable = _NoTable()
        self._msg: _RowGroups | _NoTable = _NoTable()
        for name, schema, wanted in (("conversations", CONVERSATION_SCHEMA, tables != "messages"),
                                     ("messages", MESSAGE_SCHEMA, tables != "conversations")):
            if not wanted:
                continue
            path = folder / f"{name}.parquet"
            if private is not None:
                private(path)
            table = _RowGroups(path, schema)
            self._tables.append(table)
            setattr(self, "_conv" if name == "conversations" else "_msg", table)

    def write(self, conversations: list[dict[str, Any]]) -> None:
        cols = self._conv.cols
        for c in conversations:
            dur = c.get("duration_seconds")
            for name, value in (
                ("conversation_id", c.get("id")), ("title", c.get("title")),
                ("summary", c.get("summary")), ("project_id", c.get("project_id")),
                ("project_name", c.get("project_name")), ("project_path", c.get("project_path")),
                ("model", c.get("model")), ("message_count", _int(c.get("message_count"))),
                ("cost_usd", _money(c.get("cost_usd"))), ("created_at", c.get("created_at")),
                ("updated_at", c.get("updated_at")),
                ("duration_seconds", None if dur is None else float(dur)),
                ("tags", list(c.get("tags") or [])),
            ):
                cols[name].append(value)
            self._add_messages(c)
        self._conv.flush(ROW_GROUP_ROWS)
        self._msg.flush(ROW_GROUP_ROWS)

    def _add_messages(self, c: Mapping[str, Any]) -> None:
        p = self._msg.cols
        cid = c.get("id")
        for m in c.get("messages") or ():
            tokens = m.get("tokens") or {}
            p["conversation_id"].append(cid)
            p["message_id"].append(m.get("id"))
            p["parent_id"].append(m.get("parent_id"))
            p["type"].append(m.get("type"))
            p["role"].append(role(m.get("type")))
            p["content"].append(m.get("content"))
            p["timestamp"].append(m.get("timestamp"))
            p["tokens_input"].append(_int(tokens.get("input")))
            p["tokens_output"].append(_int(tokens.get("output")))
            p["tokens_cache_creation"].append(_int(tokens.get("cache_creation")))
            p["tokens_cache_read"].append(_int(tokens.get("cache_read")))
            p["cost_usd"].append(_money(m.get("cost_usd")))
            p["model"].append(m.get("model"))
            p["tool_name"].append(m.get("tool_name"))
            p["tool_input"].append(_json_or_none(m.get("tool_input")))
            p["is_sidechain"].append(bool(m.get("is_sidechain")))

    def members(self) -> list[tuple[Path, str]]:
        return [(t.path, t.path.name) for t in self._tables]

    def close(self) -> None:
        for t in self._tables:
            t.close()

    def abort(self) -> None:
        for t in self._tables:
            with contextlib.suppress(Exception):
                t.writer.close()
