"""The Parquet export: typed conversations.parquet and/or messages.parquet, a row group
of about 10,000 rows at a time (the engine lays the files out as for CSV)."""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from .encoding import encode
from .table_columns import money, role

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
                ("cost_usd", money(c.get("cost_usd"))), ("created_at", c.get("created_at")),
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
            p["cost_usd"].append(money(m.get("cost_usd")))
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
