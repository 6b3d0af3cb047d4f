"""The facts cache answers like the live queries, and follows writes."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from claudelens_nb import Filter, load_sessions
from claudelens_nb.exports import preview
from claudelens_nb.query import filter_options
from claudelens_nb.store import collections as names
from claudelens_nb.store import facts


def _messages(db):
    return [d for c in names.message_collections(db) for d in c.find({}, {"_id": 0})]


def test_facts_match_live_queries(seeded_db) -> None:
    msgs = _messages(seeded_db)
    assert facts.models(seeded_db) == sorted({m["model"] for m in msgs if m.get("model")})
    assert facts.type_counts(seeded_db) == Counter(m["type"] for m in msgs)
    model = "claude-opus-4-5-20251101"
    assert facts.sessions_with_models(seeded_db, [model]) == {m["sessionId"] for m in msgs if m.get("model") == model}
    some = {msgs[0]["sessionId"], msgs[-1]["sessionId"]}
    live = sum(1 for m in msgs if m["sessionId"] in some and m["type"] in ("user", "tool_use"))
    assert facts.message_counts(seeded_db, some, ["user", "tool_use"]) == live
    stored = {d["_id"] for d in seeded_db[names.FACTS].find()}
    assert stored == set(names.message_collection_names(seeded_db)) | {"__head__"}
    # Previews with message types use them and agree with the data.
    p = preview(Filter(message_types=["assistant"]), db=seeded_db)
    assert p.messages == sum(1 for m in msgs if m["type"] == "assistant")


def test_facts_follow_new_messages(seeded_db, monkeypatch) -> None:
    # No in-process reuse: every call checks the sessions fingerprint.
    monkeypatch.setattr(facts, "_RECENT_SECONDS", 0.0)
    before = filter_options(db=seeded_db)["models"]
    sid = seeded_db[names.SESSIONS].find_one()["sessionId"]
    coll = names.collection_for(seeded_db, datetime(2026, 6, 1, tzinfo=UTC))
    coll.insert_one({"uuid": "new-1", "sessionId": sid, "type": "assistant", "model": "claude-3-haiku-20240307",
                     "timestamp": datetime(2026, 6, 1, tzinfo=UTC)})
    # ClaudeLens's ingest keeps the session's counters up to date with each message.
    seeded_db[names.SESSIONS].update_one({"sessionId": sid}, {"$inc": {"messageCount": 1}})
    assert "claude-3-haiku-20240307" in filter_options(db=seeded_db)["models"]
    assert set(before) < set(filter_options(db=seeded_db)["models"])
    got = load_sessions(Filter(models=["claude-3-haiku-20240307"]), db=seeded_db)
    assert list(got["conversation_id"]) == [sid]
    # Same count, different content: our writers invalidate explicitly.
    coll.update_one({"uuid": "new-1"}, {"$set": {"model": "claude-3-opus-20240229"}})
    facts.invalidate(seeded_db, [coll.name])
    assert "claude-3-opus-20240229" in facts.models(seeded_db)
    assert "claude-3-haiku-20240307" not in facts.models(seeded_db)


def _computed(monkeypatch) -> list[str]:
    """Record which collections the facts recompute."""
    seen: list[str] = []
    real = facts._compute

    def spy(db, name):
        seen.append(name)
        return real(db, name)

    monkeypatch.setattr(facts, "_compute", spy)
    monkeypatch.setattr(facts, "_RECENT_SECONDS", 0.0)
    return seen


def test_only_the_months_of_updated_sessions_are_recomputed(seeded_db, monkeypatch) -> None:
    facts.type_counts(seeded_db)  # computed and stored
    seen = _computed(monkeypatch)
    june = datetime(2026, 6, 15, tzinfo=UTC)
    sid = "new-session"
    seeded_db[names.SESSIONS].insert_one({
        "sessionId": sid, "startedAt": june, "endedAt": june, "messageCount": 2,
        "createdAt": june, "updatedAt": datetime.now(UTC)})
    coll = names.collection_for(seeded_db, june)
    for i, model in enumerate(["claude-new-model", None]):
        coll.insert_one({"uuid": f"n{i}", "sessionId": sid, "type": "assistant" if model else "user",
                         "model": model, "timestamp": june})
    counts = facts.type_counts(seeded_db)
    assert seen == ["messages_2026_06"]
    assert counts == Counter(m["type"] for m in _messages(seeded_db))
    assert "claude-new-model" in facts.models(seeded_db)
    assert seen == ["messages_2026_06"]  # unchanged since: nothing more recomputed


def test_an_unexplained_change_recomputes_everything(seeded_db, monkeypatch) -> None:
    facts.type_counts(seeded_db)
    seen = _computed(monkeypatch)
    s = seeded_db[names.SESSIONS].find_one()
    # A message added and counted, but updatedAt left alone: which month it went to is unknown.
    coll = names.collection_for(seeded_db, datetime(2026, 7, 2, tzinfo=UTC))
    coll.insert_one({"uuid": "x1", "sessionId": s["sessionId"], "type": "system",
                     "timestamp": datetime(2026, 7, 2, tzinfo=UTC)})
    seeded_db[names.SESSIONS].update_one({"_id": s["_id"]}, {"$inc": {"messageCount": 1}})
    assert facts.type_counts(seeded_db) == Counter(m["type"] for m in _messages(seeded_db))
    assert sorted(seen) == names.message_collection_names(seeded_db)
