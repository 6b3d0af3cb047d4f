"""Our Parquet tables (conversations.parquet + messages.parquet, or one of them) -> raw
conversations: a Parquet file an export wrote alone, in a folder of tables, or in a zip.

Parquet files are checked before pyarrow reads them: the size limit (by the opener), then
here the PAR1 marks at both ends and a schema with our columns. Rows come in batches; a conversation's messages are
contiguous in our exports, so each conversation is handed on as soon as its messages end
(only the conversations table is held in memory).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..errors import ErrorCode, ImportFileError
from ..reading import ReadReport
from ..security import Limits
from .items import Items, RawItem

PARQUET_MAGIC = b"PAR1"
_BATCH_ROWS = 10_000
_CONV_FIELDS = ("title", "summary", "project_id", "project_name", "project_path", "model",
                "created_at", "updated_at", "duration_seconds", "message_count", "tags")
_TOKENS = {"tokens_input": "input", "tokens_output": "output",
           "tokens_cache_creation": "cache_creation", "tokens_cache_read": "cache_read"}


def is_parquet(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            head = fh.read(4)
            if path.stat().st_size < 12:
                return False
            fh.seek(-4, 2)
            return head == PARQUET_MAGIC and fh.read(4) == PARQUET_MAGIC
    except OSError:
        return False


def parquet_table(path: Path, name: str) -> str:
    """'conversations' or 'messages' from the file's schema; refuses anything else."""
    import pyarrow.parquet as pq

    if not is_parquet(path):
        raise ImportFileError(f"{name}: not a Parquet file (the PAR1 marks are missing)")
    try:
        cols = set(pq.read_schema(path).names)
    except Exception as exc:  # noqa: BLE001 - pyarrow raises several kinds on a damaged footer
        raise ImportFileError(f"{name}: unreadable Parquet file ({exc})", code=ErrorCode.DAMAGED_FILE) from None
    if {"conversation_id", "message_id"} <= cols:
        return "messages"
    if "conversation_id" in cols:
        return "conversations"
    raise ImportFileError(f"{name}: a Parquet file without a conversation_id column is not one of "
                          "our tables")


def _money(v: Any) -> Any:
    return Decimal(repr(v)) if isinstance(v, float) else v


def _rows(path: Path) -> Iterator[dict[str, Any]]:
    import pyarrow.parquet as pq

    with pq.ParquetFile(path) as pf:
        for batch in pf.iter_batches(batch_size=_BATCH_ROWS):
            yield from batch.to_pylist()


def _conversation(row: dict[str, Any]) -> dict[str, Any]:
    conv = {"id": row.get("conversation_id")}
    conv.update({k: row.get(k) for k in _CONV_FIELDS if k in row})
    conv["cost_usd"] = _money(row.get("cost_usd"))
    return conv


def _message(row: dict[str, Any]) -> dict[str, Any]:
    import orjson

    tool_input = row.get("tool_input")
    if isinstance(tool_input, str):
        with contextlib.suppress(orjson.JSONDecodeError):
            tool_input = orjson.loads(tool_input)
    return {
        "id": row.get("message_id"), "parent_id": row.get("parent_id"), "type": row.get("type"),
        "content": row.get("content") or "", "timestamp": row.get("timestamp"),
        "tokens": {t: row.get(col) for col, t in _TOKENS.items()},
        "cost_usd": _money(row.get("cost_usd")), "model": row.get("model"),
        "tool_name": row.get("tool_name"), "tool_input": tool_input,
        "is_sidechain": bool(row.get("is_sidechain")),
    }


def parquet_items(tables: list[tuple[Path, str]], limits: Limits) -> Items:
    """Reader of our Parquet tables ((path, shown name), told apart by schema)."""
    kinds = {parquet_table(p, n): (p, n) for p, n in tables}

    def items(report: ReadReport) -> Iterator[RawItem]:
        convs: dict[str, dict[str, Any]] = {}
        if "conversations" in kinds:
            path, name = kinds["conversations"]
            for i, row in enumerate(_rows(path), start=1):
                conv = _conversation(row)
                if conv["id"] in convs:
                    report.error(f"conversation id {conv['id']!r} appears twice", file=name, line=i,
                                 record=conv["id"], field="conversation_id", code=ErrorCode.DUPLICATE_IDS)
                    continue
                if len(convs) >= limits.json_conversations:
                    raise ImportFileError(f"{name}: more than {limits.json_conversations:,} "
                                          "conversations", code=ErrorCode.QUOTA_EXCEEDED)
                convs[conv["id"]] = conv
        done: set[str] = set()
        if "messages" in kinds:
            path, name = kinds["messages"]
            current: str | None = None
            bucket: list[dict[str, Any]] = []
            first_row = 0
            for i, row in enumerate(_rows(path), start=1):
                cid = row.get("conversation_id")
                if cid != current:
                    if current is not None:
                        yield _item(convs, current, bucket, first_row, name, done)
                    if cid in done:
                        report.error(f"the messages of conversation {cid!r} are not together "
                                     f"(row {i})", file=name, line=i, record=cid)
                    current, bucket, first_row = cid, [], i
                if len(bucket) >= limits.json_messages:
                    raise ImportFileError(f"{name} row {i}: conversation {cid!r} has more than "
                                          f"{limits.json_messages:,} messages", code=ErrorCode.QUOTA_EXCEEDED)
                bucket.append(_message(row))
            if current is not None:
                yield _item(convs, current, bucket, first_row, name, done)
        conv_name = kinds.get("conversations", (None, None))[1]
        for i, cid in enumerate(c for c in list(convs) if c not in done):
            yield _item(convs, cid, [], i + 1, conv_name, done)

    return items


def _item(convs: dict[str, dict[str, Any]], cid: str, messages: list[dict[str, Any]], line: int,
          name: str | None, done: set[str]) -> RawItem:
    done.add(cid)
    conv = convs.pop(cid, None) or {"id": cid}
    conv["messages"] = messages
    return RawItem(conv, line, name)
