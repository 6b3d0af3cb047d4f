"""The merged scan (one sorted pass per collection, joined by conversation id) against
fetching by id, on demo data and on awkward layouts; its helper process on failure."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from bson import Decimal128
from pymongo.database import Database
from pymongo.errors import ConnectionFailure

from claudelens_nb.errors import ExportError
from claudelens_nb.export import export
from claudelens_nb.export.jsonfmt import encode_conversation
from claudelens_nb.export.scan import MergedScan
from claudelens_nb.export.stream import BY_ID, Prefetch, open_stream, plan_chunks
from claudelens_nb.query import Filter, session_query
from claudelens_nb.store import collections as names

if TYPE_CHECKING:
    from conftest import OwnServer


def _encoded(reader: MergedScan | Prefetch) -> list[bytes]:
    return [encode_conversation(copy.deepcopy(c)) for batch in reader.iter(None) for c in batch]


@pytest.mark.parametrize("flt", [
    Filter(),
    Filter(message_types=("user", "tool_use")),
    Filter(since="2026-07-01"),
    Filter(projects=("my-app",)),
])
def test_merged_scan_gives_what_fetching_by_id_gives(seeded_db: Database, flt: Filter) -> None:
    merged = _encoded(MergedScan(seeded_db, flt, batch_docs=7))  # many small batches
    by_id = _encoded(Prefetch(seeded_db, flt, plan_chunks(seeded_db, flt, 3, BY_ID)))
    assert merged == by_id
    assert 0 < len(merged) == seeded_db.sessions.count_documents(session_query(seeded_db, flt))


def _session(db: Database, sid: str, started: datetime, ended: datetime) -> None:
    db[names.SESSIONS].insert_one({
        "sessionId": sid, "projectId": None, "startedAt": started, "endedAt": ended,
        "messageCount": 0, "totalCost": Decimal128("0"), "summary": None,
    })


def _message(db: Database, sid: object, uid: str, ts: datetime, text: str = "hi") -> None:
    db[names.monthly_name(ts)].insert_one({
        "uuid": uid, "sessionId": sid, "type": "user", "timestamp": ts, "parentUuid": None,
        "content": text, "messageData": {"role": "user", "content": text}, "isSidechain": False,
    })


def test_conversations_across_months_orphans_and_odd_ids(db: Database) -> None:
    jan = datetime(2026, 1, 31, 23, 59, tzinfo=UTC)
    # "b" spans three monthly collections, with two messages at the same instant.
    _session(db, "b", jan, jan + timedelta(days=40))
    for i, days in enumerate([0, 1, 1, 40]):
        _message(db, "b", f"b{3 - i}", jan + timedelta(days=days))
    _session(db, "a", jan, jan)
    _message(db, "a", "a0", jan)
    _session(db, "empty", jan, jan)  # a conversation with no messages is still exported
    _message(db, "zz-orphan", "o1", jan + timedelta(days=1))  # no session: left out
    _message(db, 42, "odd", jan)  # a non-string id: left out
    _session(db, "c", jan, jan)
    _message(db, "c", "c0", jan + timedelta(days=2))
    convs = [c for batch in MergedScan(db, Filter(), batch_docs=2).iter(None) for c in batch]
    assert [c["id"] for c in convs] == ["a", "b", "c", "empty"]
    b = convs[1]
    # timestamp order, ties by id; the months' collections are all read
    assert [m["id"] for m in b["messages"]] == ["b3", "b1", "b2", "b0"]
    assert [m["timestamp"] for m in b["messages"]] == sorted(m["timestamp"] for m in b["messages"])
    assert convs[3]["messages"] == [] and [m["id"] for m in convs[2]["messages"]] == ["c0"]
    seen = {m["id"] for c in convs for m in c["messages"]}
    assert "o1" not in seen and "odd" not in seen


def test_open_stream_picks_the_cheaper_reader(seeded_db: Database) -> None:
    every = open_stream(seeded_db, Filter(), by_date=False, matched=20, chunk_size=50)
    one = open_stream(seeded_db, Filter(conversation_ids=("x",)), by_date=False, matched=1,
                      chunk_size=50)
    dated = open_stream(seeded_db, Filter(), by_date=True, matched=20, chunk_size=50)
    try:
        assert isinstance(every, MergedScan)
        assert isinstance(one, Prefetch) and isinstance(dated, Prefetch)
    finally:
        for reader in (every, one, dated):
            reader.close()


def test_closing_mid_way_stops_the_helper(seeded_db: Database) -> None:
    scan = MergedScan(seeded_db, Filter(), batch_docs=5)
    first = next(iter(scan.iter(None)))
    assert first
    scan.close()
    assert scan._proc.poll() is not None


def test_a_lost_database_is_reported(own_server: OwnServer) -> None:
    scan = MergedScan(own_server.db, Filter())
    own_server.stop()
    with pytest.raises(ConnectionFailure):
        list(scan.iter(None))
    scan.close()


def test_a_client_made_elsewhere_falls_back_to_fetching_by_id(seeded_db: Database) -> None:
    from pymongo import MongoClient

    from claudelens_nb.store.connection import uri_of

    own = MongoClient(uri_of(seeded_db.client), tz_aware=True)
    try:
        other = own[seeded_db.name]
        reader = open_stream(other, Filter(), by_date=False, matched=20, chunk_size=50)
        assert isinstance(reader, Prefetch)
        reader.close()
        with pytest.raises(ExportError, match="connect"):
            MergedScan(other, Filter())
        res = export(None, "jsonl", db=other)
        assert res.conversations == 20 and res.messages == 600
    finally:
        own.close()
