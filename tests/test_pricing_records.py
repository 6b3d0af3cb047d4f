"""The price table and the record translation, without a database."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from bson import Decimal128

from claudelens_nb import pricing, records


def test_prices() -> None:
    usage = {"input_tokens": 1000, "output_tokens": 2000, "cache_creation_input_tokens": 4000,
             "cache_read_input_tokens": 10000}
    # 1000*3 + 2000*15 + 4000*3.75 + 10000*0.30 per million
    assert pricing.cost_from_usage("claude-sonnet-4-5-20250929", usage) == Decimal("0.05100000")
    split = dict(usage, cache_creation={"ephemeral_5m_input_tokens": 1000, "ephemeral_1h_input_tokens": 3000})
    assert pricing.cost_from_usage("claude-sonnet-4-5", split) == Decimal("0.05775000")
    assert pricing.cost_from_usage("claude-opus-4-5-20251101", {"output_tokens": 1_000_000}) == Decimal("25")
    assert pricing.cost_from_usage("claude-opus-4-1-20250805", {"output_tokens": 1_000_000}) == Decimal("75")
    assert pricing.cost_from_usage("gpt-4o", usage) is None
    assert pricing.cost_from_usage("<synthetic>", usage) is None


def test_iso_and_hash() -> None:
    ts = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    assert records.iso(ts) == "2026-01-02T03:04:05.678Z"
    assert records.parse_iso("2026-01-02T03:04:05.678Z") == ts.replace(microsecond=678000)
    h1 = records.content_hash("u", "user", ts, {"role": "user", "content": "é"})
    h2 = records.content_hash("u", "user", ts.replace(microsecond=678000), {"content": "é", "role": "user"})
    assert h1 == h2 and len(h1) == 64


def test_parse_iso_is_the_one_parser() -> None:
    from datetime import timedelta, timezone

    import pytest

    from claudelens_nb.sources.content import parse_time

    exact = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    assert records.parse_iso("2026-01-02T03:04:05.678901Z") == exact.replace(microsecond=678000)
    assert records.parse_iso("2026-01-02T03:04:05.678901Z", ms=False) == exact
    plus_one = records.parse_iso("2026-01-02T04:04:05.678901+01:00", ms=False)
    assert plus_one == exact and plus_one.tzinfo is UTC
    assert records.parse_iso("2026-01-02") == datetime(2026, 1, 2, tzinfo=UTC)  # naive is UTC
    assert records.parse_iso("2026-01-02Z") == datetime(2026, 1, 2, tzinfo=UTC)  # a Z elsewhere too
    for bad in ("", "2026-01-02T03:04:05z", " 2026-01-02", "yesterday"):
        with pytest.raises(ValueError):
            records.parse_iso(bad)
    # The readers' wrappers: sources strip and give None, a typed offset is kept as UTC.
    assert parse_time(" 2026-01-02T03:04:05.678Z ") == exact.replace(microsecond=678000)
    assert parse_time("not a time") is None
    east = datetime(2026, 1, 2, 8, 4, 5, tzinfo=timezone(timedelta(hours=5)))
    assert parse_time(east.isoformat()) == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_message_round_trip() -> None:
    ts = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    doc = {
        "uuid": "a1", "sessionId": "s1", "type": "assistant", "timestamp": ts, "parentUuid": "p",
        "content": "hi", "model": "claude-haiku-4-5", "costUsd": Decimal128("0.00012345"),
        "usage": {"input_tokens": 3, "output_tokens": 4, "service_tier": "standard"},
        "isSidechain": False, "messageData": {"role": "assistant", "content": [{"type": "text", "text": "hi"}]},
        "cwd": "/x", "requestId": "r", "createdAt": ts,
    }
    doc["contentHash"] = records.content_hash("a1", "assistant", ts, doc["messageData"])
    rec = records.message_record(doc)
    assert rec["tokens"] == {"input": 3, "output": 4, "cache_creation": None, "cache_read": None}
    assert rec["metadata"]["usage"]["service_tier"] == "standard"
    back = records.message_document("s1", records.to_json_value(rec) | {"timestamp": ts, "cost_usd": rec["cost_usd"]})
    assert back == doc
