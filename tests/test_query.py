"""Filters, typed frames and chunked loading on demo data in a real server."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest
from bson import Decimal128

from claudelens_nb import Filter, iter_chunks, iter_conversations, load_messages, load_sessions
from claudelens_nb.errors import InvalidFilter
from claudelens_nb.query import filter_options
from claudelens_nb.store import collections as names


def _all_messages(db):
    docs = []
    for coll in names.message_collections(db):
        docs.extend(coll.find({}, {"_id": 0}))
    return docs


def test_filter_validation() -> None:
    with pytest.raises(InvalidFilter, match="before the start"):
        Filter(since="2026-05-02", until="2026-05-01")
    with pytest.raises(InvalidFilter, match="above max cost"):
        Filter(min_cost=5, max_cost=1)
    with pytest.raises(InvalidFilter, match="unknown message type 'bot'"):
        Filter(message_types=["bot"])
    with pytest.raises(InvalidFilter, match="not a date"):
        Filter(since="yesterday-ish")
    with pytest.raises(InvalidFilter, match="must be text"):
        Filter(projects=[{"$ne": 1}])
    with pytest.raises(InvalidFilter, match="unknown filter field"):
        Filter.from_dict({"project": "x"})
    f = Filter(since=date(2026, 5, 1), until="2026-05-31")
    assert f.end_exclusive == datetime(2026, 6, 1, tzinfo=UTC)
    assert Filter.from_dict(f.to_dict()) == f


def test_typed_frames(seeded_db) -> None:
    s = load_sessions(db=seeded_db)
    m = load_messages(db=seeded_db)
    assert len(s) == 20
    assert len(m) == 600 == len(_all_messages(seeded_db))
    assert str(s["started_at"].dtype) == "datetime64[ms, UTC]"
    assert str(m["timestamp"].dtype) == "datetime64[ms, UTC]"
    assert m["cost_usd"].dtype == "float64"
    assert str(m["tokens_input"].dtype) == "Int64"
    assert isinstance(m["content"].dtype, pd.StringDtype)
    # Costs agree with the Decimal128 sums in the database, to the cent and beyond.
    stored = sum(d["costUsd"].to_decimal() for d in _all_messages(seeded_db) if d.get("costUsd"))
    assert round(m["cost_usd"].sum(), 6) == round(float(stored), 6)
    assert round(s["cost_usd"].sum(), 6) == round(float(stored), 6)
    tool = m[m["type"] == "tool_use"]
    assert len(tool) and tool["tool_name"].notna().all()
    assert m[m["type"] == "user"]["tool_name"].isna().all()
    assert {"my-app", "翻訳ツール"} <= set(s["project_name"])


def test_empty_results_keep_columns(db) -> None:
    s, m = load_sessions(db=db), load_messages(db=db)
    assert len(s) == 0 and len(m) == 0
    assert str(m["timestamp"].dtype) == "datetime64[ms, UTC]"
    assert list(m.columns)[:3] == ["message_id", "conversation_id", "type"]
    assert "cost_usd" in s.columns


def test_filters_select_the_right_conversations(seeded_db) -> None:
    sessions = list(seeded_db[names.SESSIONS].find())
    # The inclusive end day: a conversation that starts late on the end day is in.
    target = sessions[3]
    day = target["startedAt"].date()
    seeded_db[names.SESSIONS].update_one(
        {"_id": target["_id"]},
        {"$set": {"startedAt": datetime.combine(day, datetime.max.time(), tzinfo=UTC) - timedelta(seconds=1)}},
    )
    got = load_sessions(Filter(since=day, until=day), db=seeded_db)
    assert target["sessionId"] in set(got["conversation_id"])
    assert all(t.date() == day for t in got["started_at"])
    # Projects by name, path or id.
    proj = seeded_db[names.PROJECTS].find_one({"name": "翻訳ツール"})
    expected = {s["sessionId"] for s in sessions if s["projectId"] == proj["_id"]}
    for key in ("翻訳ツール", proj["path"], str(proj["_id"])):
        assert set(load_sessions(Filter(projects=[key]), db=seeded_db)["conversation_id"]) == expected
    # Operators in values are data.
    assert len(load_sessions(Filter(projects=['{"$ne": 1}']), db=seeded_db)) == 0
    assert len(load_sessions(Filter(conversation_ids=["$where"]), db=seeded_db)) == 0
    # Tags, cost range, models, explicit ids, message types.
    tagged = {s["sessionId"] for s in sessions if "bug" in s.get("tags", [])}
    assert set(load_sessions(Filter(tags=["bug"]), db=seeded_db)["conversation_id"]) == tagged
    costs = sorted(s["totalCost"].to_decimal() for s in sessions)
    lo, hi = costs[5], costs[14]
    got = load_sessions(Filter(min_cost=lo, max_cost=hi), db=seeded_db)
    assert len(got) == 10
    model = "claude-haiku-4-5-20251001"
    with_model = {d["sessionId"] for d in _all_messages(seeded_db) if d.get("model") == model}
    assert set(load_sessions(Filter(models=[model]), db=seeded_db)["conversation_id"]) == with_model
    ids = [sessions[0]["sessionId"], sessions[1]["sessionId"]]
    m = load_messages(Filter(conversation_ids=ids, message_types=["assistant"]), db=seeded_db)
    assert set(m["conversation_id"]) == set(ids) and set(m["type"]) == {"assistant"}
    assert len(m) == sum(1 for d in _all_messages(seeded_db) if d["sessionId"] in ids and d["type"] == "assistant")


def test_iter_chunks_bounded_and_ordered(seeded_db) -> None:
    seen = []
    for s, m in iter_chunks(chunk_size=6, db=seeded_db):
        assert len(s) <= 6
        assert set(m["conversation_id"]) <= set(s["conversation_id"])
        for _, group in m.groupby("conversation_id", sort=False):
            assert group["timestamp"].is_monotonic_increasing
        seen.extend(s["conversation_id"])
    assert len(seen) == 20 == len(set(seen))
    starts = load_sessions(db=seeded_db).set_index("conversation_id")["started_at"]
    assert list(starts.loc[seen]) == sorted(starts)


def test_iter_conversations_is_lossless(seeded_db) -> None:
    stored = {d["uuid"]: d for d in _all_messages(seeded_db)}
    n = 0
    for chunk in iter_conversations(chunk_size=7, db=seeded_db):
        for conv in chunk:
            assert conv["title"]
            for msg in conv["messages"]:
                doc = stored[msg["id"]]
                assert msg["metadata"]["messageData"] == doc["messageData"]
                assert msg["metadata"].get("contentHash") == doc.get("contentHash")
                assert msg["timestamp"] == doc["timestamp"]
                if "costUsd" in doc:
                    assert msg["cost_usd"] == doc["costUsd"].to_decimal()
                n += 1
    assert n == 600


def test_legacy_single_collection(db) -> None:
    from claudelens_nb.demo import seed_demo

    seed_demo(db, sessions=4, messages_per_session=10, seed=3, single_collection=True)
    assert names.message_collection_names(db) == ["messages"]
    assert len(load_messages(db=db)) == 40
    assert isinstance(db["messages"].find_one({"type": "assistant"})["costUsd"], Decimal128)


def test_filter_options(seeded_db) -> None:
    opts = filter_options(db=seeded_db)
    assert {p["name"] for p in opts["projects"]} >= {"my-app", "café-menu"}
    assert "claude-sonnet-4-5-20250929" in opts["models"]
    assert opts["tags"] == sorted(opts["tags"]) and opts["tags"]
    assert opts["first_date"] <= opts["last_date"]


def test_messages_through_the_worker_equal_pymongoarrow_per_collection(seeded_db, monkeypatch) -> None:
    """load_messages reads through store.drain's worker; the frame is the one
    find_arrow_all gives collection by collection (a client made elsewhere)."""
    from claudelens_nb import query
    from claudelens_nb.store import drain

    started: list[int] = []
    real = drain.RawDrain

    def counting(*args, **kwargs):
        reader = real(*args, **kwargs)
        started.append(reader.proc.pid)
        return reader

    monkeypatch.setattr(drain, "RawDrain", counting)
    through_worker = load_messages(db=seeded_db)
    some = load_messages({"message_types": ["assistant"], "since": "2026-07-01"}, db=seeded_db)
    assert len(started) == 2
    monkeypatch.setattr(query.drain, "available", lambda db: False)
    direct = load_messages(db=seeded_db)
    assert len(through_worker) == 600 and len(started) == 2
    pd.testing.assert_frame_equal(through_worker, direct)
    assert set(some["type"]) == {"assistant"} and 0 < len(some) < 600
    none = load_messages({"conversation_ids": ["no-such"]}, db=seeded_db)
    assert len(none) == 0 and list(none.columns) == list(direct.columns)
