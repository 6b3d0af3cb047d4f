"""Demo data: deterministic, ClaudeLens-shaped, with costs consistent with the tokens."""

from __future__ import annotations

from collections import Counter

from bson import Decimal128

from claudelens_nb import pricing, records
from claudelens_nb.cli import main
from claudelens_nb.demo import generate, seed_demo
from claudelens_nb.store import collections as names


def test_generate_is_deterministic() -> None:
    a = [(s["sessionId"], [d["uuid"] for d in docs]) for s, docs in generate(5, 12, seed=9)]
    b = [(s["sessionId"], [d["uuid"] for d in docs]) for s, docs in generate(5, 12, seed=9)]
    c = [(s["sessionId"], [d["uuid"] for d in docs]) for s, docs in generate(5, 12, seed=10)]
    assert a == b and a != c


def test_demo_shapes(seeded_db) -> None:
    msgs = [d for c in names.message_collections(seeded_db) for d in c.find()]
    assert len(names.message_collection_names(seeded_db)) >= 3
    types = Counter(d["type"] for d in msgs)
    assert set(types) == {"user", "assistant", "tool_use", "tool_result"}
    by_uuid = {d["uuid"]: d for d in msgs}
    for d in msgs:
        assert names.collection_for(seeded_db, d["timestamp"]).find_one({"uuid": d["uuid"]})
        if d["type"] in records.SPLIT_TYPES:
            assert "contentHash" not in d  # as upstream: split tool documents carry no hash
        else:
            assert d["contentHash"] == records.content_hash(
                d["uuid"], d["type"], d["timestamp"], d["messageData"])
        if d["type"] == "tool_use":
            parent, _, i = d["uuid"].rpartition("_tool_")
            assert d["parentUuid"] == parent and by_uuid[parent]["type"] == "assistant"
            assert d["messageData"] == by_uuid[parent]["messageData"]["content"][int(i) + 1]
        if d["type"] == "assistant":
            assert isinstance(d["costUsd"], Decimal128)
            assert d["costUsd"].to_decimal() == pricing.cost_from_usage(d["model"], d["usage"])
            assert d["usage"]["cache_read_input_tokens"] >= 0
    text = " ".join(d["content"] for d in msgs)
    for needle in ("é", "日本語", "🚀", "```python", "Мне"):
        assert needle in text
    for s in seeded_db[names.SESSIONS].find():
        mine = [d for d in msgs if d["sessionId"] == s["sessionId"]]
        stats = records.session_stats(mine)
        assert s["messageCount"] == len(mine) == 30
        assert s["totalCost"] == stats["totalCost"]
        assert s["startedAt"] == stats["startedAt"] and s["endedAt"] == stats["endedAt"]


def test_demo_cli_is_idempotent(db, capsys) -> None:
    assert main(["demo", "--sessions", "3", "--messages-per-session", "8", "--seed", "5"]) == 0
    assert "3 conversations, 24 messages" in capsys.readouterr().out
    assert main(["demo", "--sessions", "3", "--messages-per-session", "8", "--seed", "5"]) == 0
    assert db[names.SESSIONS].count_documents({}) == 3


def test_seed_returns_summary(db) -> None:
    summary = seed_demo(db, sessions=2, messages_per_session=5, seed=1)
    assert summary.sessions == 2 and summary.messages == 10 and summary.projects == 5


def test_titles_and_summaries_tell_what_the_conversation_is_about() -> None:
    from claudelens_nb.demo import TOPICS, USER_PROMPTS

    assert len(TOPICS) == len(USER_PROMPTS)
    seen = Counter()
    for session, docs in generate(60, 12, seed=7):
        first = next(d for d in docs if d["type"] == "user")["content"]
        title, summary = TOPICS[USER_PROMPTS.index(first)]
        assert session.get("title", title) == title
        assert session.get("summary") in (None, summary)
        seen["title"] += "title" in session
        seen["summary"] += session.get("summary") is not None
    assert seen["title"] >= 10 and seen["summary"] >= 40  # most have one, not all
