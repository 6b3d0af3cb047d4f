"""What the CSV and Parquet tables share: their columns, roles and money as floats."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .. import records

CONVERSATION_COLUMNS = ["conversation_id", "title", "project_name", "model", "message_count",
                        "cost_usd", "created_at", "updated_at", "tags", "summary"]
MESSAGE_COLUMNS = ["conversation_id", "message_id", "parent_id", "type", "role", "content",
                   "timestamp", "tokens_input", "tokens_output", "tokens_cache_creation",
                   "tokens_cache_read", "cost_usd", "model", "tool_name"]
ROLE_OF_TYPE = {"user": "user", "assistant": "assistant", "tool_use": "assistant",
                "tool_result": "user", "system": "system", "summary": "system"}


def role(type_: str | None) -> str:
    return ROLE_OF_TYPE.get(type_ or "", "system")


def money(value: Any) -> float | None:
    if value is None:
        return None
    return float(value) if isinstance(value, Decimal) else records.money_float(value)
