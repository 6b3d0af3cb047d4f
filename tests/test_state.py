"""The process state in one place: forget(db) after a drop, reset() back to a fresh start."""

from __future__ import annotations

import gc
import os
from datetime import UTC, datetime

from claudelens_nb import bulk, state
from claudelens_nb.store import connection, facts, schema


def test_forget_after_a_drop_puts_indexes_back(mongo_uri) -> None:
    db = connection.connect(mongo_uri, "t_state_forget")
    try:
        ts = datetime(2026, 2, 3, tzinfo=UTC)
        schema.collection_for_write(db, ts).insert_one({"uuid": "a", "sessionId": "s", "timestamp": ts})
        facts.models(db)
        key = state.db_key(db)
        assert key in state.schema_ready and key in state.recent_facts
        db.client.drop_database(db.name)
        state.forget(db)
        assert key not in state.schema_ready and key not in state.recent_facts
        assert not any(k[:2] == key for k in state.indexed)
        # The same name again: the message collection gets its unique uuid index again.
        db = connection.connect(mongo_uri, "t_state_forget")
        schema.collection_for_write(db, ts).insert_one({"uuid": "a", "sessionId": "s", "timestamp": ts})
        assert db["messages_2026_02"].index_information()["uuid_1"]["unique"] is True
    finally:
        db.client.drop_database(db.name)
        state.forget(db)


def test_reset_undoes_environment_and_collector(monkeypatch) -> None:
    monkeypatch.delenv("CLAUDELENS_STATE_A", raising=False)
    monkeypatch.setenv("CLAUDELENS_STATE_B", "before")
    monkeypatch.setenv("CLAUDELENS_STATE_C", "given")
    state.set_environ("CLAUDELENS_STATE_A", "ours")
    state.set_environ("CLAUDELENS_STATE_B", "ours")
    assert state.set_environ("CLAUDELENS_STATE_C", "ours", keep=True) == "given"
    saved = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    try:
        inside = bulk.fewer_collections()
        inside.__enter__()
        assert gc.get_threshold()[0] == bulk.BULK_THRESHOLD
        state.reset()
        assert gc.get_threshold() == (700, 10, 10)
        inside.__exit__(None, None, None)  # leaving after a reset changes nothing
        assert gc.get_threshold() == (700, 10, 10) and state.bulk_gc.depth == 0
    finally:
        gc.set_threshold(*saved)
    assert "CLAUDELENS_STATE_A" not in os.environ
    assert os.environ["CLAUDELENS_STATE_B"] == "before"
    assert os.environ["CLAUDELENS_STATE_C"] == "given"
    assert state.clients == {}
