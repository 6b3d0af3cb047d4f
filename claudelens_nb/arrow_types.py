"""Arrow schemas for loading ClaudeLens collections, and column conversions."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from bson import Decimal128
from pymongoarrow.api import Schema
from pymongoarrow.types import Decimal128Type, ObjectIdType

TS = pa.timestamp("ms", tz="UTC")
_USAGE = pa.struct([
    ("input_tokens", pa.int64()),
    ("output_tokens", pa.int64()),
    ("cache_creation_input_tokens", pa.int64()),
    ("cache_read_input_tokens", pa.int64()),
])

MESSAGE_SCHEMA = Schema({
    "uuid": pa.string(),
    "sessionId": pa.string(),
    "type": pa.string(),
    "timestamp": TS,
    "parentUuid": pa.string(),
    "content": pa.string(),
    "model": pa.string(),
    "costUsd": Decimal128Type(),
    "usage": _USAGE,
    "isSidechain": pa.bool_(),
    "messageData": pa.struct([("name", pa.string()), ("role", pa.string())]),
    "cwd": pa.string(),
    "gitBranch": pa.string(),
    "version": pa.string(),
    "requestId": pa.string(),
    "userType": pa.string(),
})

SESSION_SCHEMA = Schema({
    "sessionId": pa.string(),
    "projectId": ObjectIdType(),
    "title": pa.string(),
    "summary": pa.string(),
    "startedAt": TS,
    "endedAt": TS,
    "messageCount": pa.int64(),
    "totalCost": Decimal128Type(),
    "tags": pa.list_(pa.string()),
    "inputTokens": pa.int64(),
    "outputTokens": pa.int64(),
    "totalTokens": pa.int64(),
    "toolsUsed": pa.int64(),
})

# Column names and pandas dtypes of the frames we hand to users.
MESSAGE_COLUMNS: dict[str, str] = {
    "message_id": "string",
    "conversation_id": "string",
    "type": "string",
    "timestamp": "datetime64[ms, UTC]",
    "parent_id": "string",
    "content": "string",
    "model": "string",
    "cost_usd": "float64",
    "tokens_input": "Int64",
    "tokens_output": "Int64",
    "tokens_cache_creation": "Int64",
    "tokens_cache_read": "Int64",
    "tool_name": "string",
    "is_sidechain": "boolean",
    "cwd": "string",
    "git_branch": "string",
    "version": "string",
    "request_id": "string",
    "user_type": "string",
}
SESSION_COLUMNS: dict[str, str] = {
    "conversation_id": "string",
    "title": "string",
    "summary": "string",
    "project_id": "string",
    "project_name": "string",
    "project_path": "string",
    "started_at": "datetime64[ms, UTC]",
    "ended_at": "datetime64[ms, UTC]",
    "message_count": "Int64",
    "cost_usd": "float64",
    "tags": "object",
    "tokens_input": "Int64",
    "tokens_output": "Int64",
    "tokens_total": "Int64",
    "tools_used": "Int64",
}


def decimal128_to_float(arr: pa.Array | pa.ChunkedArray) -> pa.Array:
    """BSON Decimal128 values (16-byte BID) as float64, vectorised for the common case.

    Costs have coefficients below 2**64 and a plain exponent, which numpy decodes directly;
    anything else (huge coefficients, NaN, infinity) goes through bson.Decimal128.
    """
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks else pa.array([], pa.binary(16))
    storage = arr.storage if isinstance(arr, pa.ExtensionArray) else arr
    n = len(storage)
    if n == 0:
        return pa.array([], pa.float64())
    valid = np.asarray(storage.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    buf = storage.buffers()[1]
    raw = np.frombuffer(buf, dtype="<u8", count=2 * (n + storage.offset))[2 * storage.offset:]
    low, high = raw[0::2], raw[1::2]
    special = (high >> np.uint64(61)) & np.uint64(3) == np.uint64(3)
    coeff_high = high & np.uint64((1 << 49) - 1)
    simple = ~special & (coeff_high == 0)
    exponent = ((high >> np.uint64(49)) & np.uint64(0x3FFF)).astype(np.int64) - 6176
    sign = np.where((high >> np.uint64(63)) == 1, -1.0, 1.0)
    mag = low.astype(np.float64)
    # Dividing by an exact power of ten rounds correctly, as float(Decimal) does.
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        scale = np.power(10.0, np.abs(exponent).astype(np.float64))
        out = sign * np.where(exponent < 0, mag / scale, mag * scale)
    simple &= np.abs(exponent) <= 22  # powers of ten above 1e22 are not exact floats
    for i in np.nonzero(valid & ~simple)[0]:
        out[i] = float(Decimal128.from_bid(bytes(storage[i].as_py())).to_decimal())
    return pa.array(out, mask=~valid, type=pa.float64())
