"""The collection scan (one sorted pass per collection, a conversation handed on once the
last collection holding it is read) against fetching by id, on demo data and on awkward
layouts; a session behind its messages; its helper process on failure."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow.parquet as pq
import pytest
from bson import Decimal128
from pymongo.database import Database
from pymongo.errors import ConnectionFailure

from claudelens_nb.errors import ExportError
from claudelens_nb.exports import export
from claudelens_nb.exports.csv_writer import csv_conversation_rows, csv_message_rows
from claudelens_nb.exports.encoding import encode_conversation
from claudelens_nb.exports.parquet_writer import ParquetWriter
from claudelens_nb.exports.read import (
    BY_ID,
    CollectionScan,
    LateMessage,
    Prefetch,
    open_stream,
    plan_chunks,
)
from claudelens_nb.exports.read.scan import last_position
from claudelens_nb.filters import Filter, session_query
from claudelens_nb.store import collections as names

if TYPE_CHECKING:
    from conftest import OwnServer


def _encoded(reader: CollectionScan | Prefetch) -> list[bytes]:
    return [encode_conversation(copy.deepcopy(c)) for batch in reader.iter(None) for c in batch]


@pytest.mark.parametrize("flt", [
    Filter(),
    Filter(message_types=("user", "tool_use")),
    Filter(since="2026-07-01"),
    Filter(projects=("my-app",)),
])
def test_collection_scan_gives_what_fetching_by_id_gives(seeded_db: Database, flt: Filter) -> None:
    scanned = _encoded(CollectionScan(seeded_db, flt, batch_docs=7))  # many small batches
    by_id = _encoded(Prefetch(seeded_db, flt, plan_chunks(seeded_db, flt, 3, BY_ID)))
    assert sorted(scanned) == sorted(by_id)
    assert 0 < len(scanned) == seeded_db.sessions.count_documents(session_query(seeded_db, flt))


def _tables(reader: CollectionScan | Prefetch, folder: Path) -> tuple[list, list, list]:
    """CSV rows and Parquet rows of everything `reader` gives, sorted."""
    convs = [c for batch in reader.iter(None) for c in batch]
    writer = ParquetWriter(folder)
    writer.write(convs)
    writer.close()
    parquet = [pq.read_table(path).to_pylist() for path, _ in writer.members()]
    key = str
    return (sorted(csv_conversation_rows(convs) + csv_message_rows(convs), key=key),
            sorted(parquet[0], key=key), sorted(parquet[1], key=key))


def test_collection_scan_gives_the_same_tables(seeded_db: Database, tmp_path: Path) -> None:
    """The scan decodes datetimes naive (UTC): CSV text and Parquet timestamps are the same."""
    flt = Filter()
    (tmp_path / "scan").mkdir()
    (tmp_path / "ids").mkdir()
    scanned = _tables(CollectionScan(seeded_db, flt), tmp_path / "scan")
    by_id = _tables(Prefetch(seeded_db, flt, plan_chunks(seeded_db, flt, 3, BY_ID)), tmp_path / "ids")
    assert scanned == by_id
    first = scanned[2][0]["timestamp"]
    assert first.tzinfo is not None and first.utcoffset() == timedelta(0)
    assert any(str(cell).endswith("Z") and "T" in str(cell) for cell in scanned[0][0])


def _session(db: Database, sid: str, started: datetime, ended: datetime, count: int = 0) -> None:
    db[names.SESSIONS].insert_one({
        "sessionId": sid, "projectId": None, "startedAt": started, "endedAt": ended,
        "messageCount": count, "totalCost": Decimal128("0"), "summary": None,
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
    _session(db, "c", jan, jan + timedelta(days=2))
    _message(db, "c", "c0", jan + timedelta(days=2))
    convs = [c for batch in CollectionScan(db, Filter(), batch_docs=2).iter(None) for c in batch]
    # No message counts: each is handed on when its endedAt month's collection is read to
    # the end, in the order the sessions are stored.
    assert [c["id"] for c in convs] == ["a", "empty", "c", "b"]
    b = convs[3]
    # timestamp order, ties by id; the months' collections are all read
    assert [m["id"] for m in b["messages"]] == ["b3", "b1", "b2", "b0"]
    assert [m["timestamp"] for m in b["messages"]] == sorted(m["timestamp"] for m in b["messages"])
    assert convs[1]["messages"] == [] and [m["id"] for m in convs[2]["messages"]] == ["c0"]
    seen = {m["id"] for c in convs for m in c["messages"]}
    assert "o1" not in seen and "odd" not in seen


def test_a_message_after_its_sessions_end_makes_the_export_start_again_by_id(db: Database) -> None:
    jan = datetime(2026, 1, 10, tzinfo=UTC)
    for sid in ("a", "b"):
        _session(db, sid, jan, jan)
        _message(db, sid, f"{sid}0", jan)
    # In March, while a's session still says it ended in January.
    _message(db, "a", "a1", jan + timedelta(days=50))
    with pytest.raises(LateMessage, match="'a'.*messages_2026_03"):
        list(CollectionScan(db, Filter()).iter(None))
    res = export(None, "jsonl", db=db)
    lines = res.path.read_text(encoding="utf-8").splitlines()[1:]
    assert res.messages == 3 and '"a1"' in lines[0] and '"b0"' in lines[1]


def test_a_conversation_is_handed_on_once_its_message_count_is_read(db: Database) -> None:
    jan = datetime(2026, 1, 10, tzinfo=UTC)
    _session(db, "late", jan, jan, count=2)
    _session(db, "first", jan, jan, count=2)
    _message(db, "late", "l0", jan)
    for i in range(2):
        _message(db, "first", f"f{i}", jan + timedelta(minutes=i))
    _message(db, "late", "l1", jan + timedelta(minutes=5))
    for i in range(6):  # more of the month to read after both are complete
        _message(db, "zz-orphan", f"o{i}", jan)
    db[names.monthly_name(jan)].update_one({"uuid": "f1"}, {"$set": {"type": "assistant"}})

    def read(flt: Filter) -> dict[str, int]:
        scan = CollectionScan(db, flt, batch_docs=1)
        return {c["id"]: len(c["messages"]) for batch in scan.iter(None) for c in batch}

    # As completed, not in session order.
    assert list(read(Filter()).items()) == [("first", 2), ("late", 2)]
    # Filtered by type, the facts' count of those types says when: "first" has one user message.
    assert list(read(Filter(message_types=("user",))).items()) == [("first", 1), ("late", 2)]
    # A count too high: handed on at the end of its month, with every message there.
    db[names.SESSIONS].update_one({"sessionId": "first"}, {"$set": {"messageCount": 9}})
    assert list(read(Filter()).items()) == [("late", 2), ("first", 2)]


def test_more_messages_than_the_count_make_the_export_start_again_by_id(db: Database) -> None:
    jan = datetime(2026, 1, 10, tzinfo=UTC)
    _session(db, "a", jan, jan, count=1)
    _message(db, "a", "a0", jan)
    _session(db, "b", jan, jan, count=1)
    _message(db, "b", "b0", jan)
    _message(db, "a", "a1", jan + timedelta(minutes=1))  # not in a's count
    with pytest.raises(LateMessage, match="'a' has a message in messages_2026_01"):
        list(CollectionScan(db, Filter()).iter(None))
    res = export(None, "jsonl", db=db)
    assert res.messages == 3
    assert '"a1"' in res.path.read_text(encoding="utf-8")


def test_last_position() -> None:
    months = ["messages_2026_01", "messages_2026_03"]
    at = lambda m: datetime(2026, m, 5, tzinfo=UTC)  # noqa: E731
    assert [last_position(months, at(m)) for m in (1, 2, 3, 4)] == [0, 0, 1, 1]
    assert last_position(months, datetime(2025, 12, 1, tzinfo=UTC)) == -1
    assert last_position(["messages", *months], datetime(2025, 12, 1, tzinfo=UTC)) == 0
    assert last_position(["messages", *months], at(3)) == 2
    assert last_position(months, None) == 1


def test_open_stream_picks_the_cheaper_reader(seeded_db: Database) -> None:
    every = open_stream(seeded_db, Filter(), order="any", matched=20, chunk_size=50)
    one = open_stream(seeded_db, Filter(conversation_ids=("x",)), order="any", matched=1,
                      chunk_size=50)
    dated = open_stream(seeded_db, Filter(), order="oldest_first", matched=20, chunk_size=50)
    try:
        assert isinstance(every, CollectionScan)
        assert isinstance(one, Prefetch) and isinstance(dated, Prefetch)
    finally:
        for reader in (every, one, dated):
            reader.close()


def test_closing_mid_way_stops_the_helper(seeded_db: Database) -> None:
    scan = CollectionScan(seeded_db, Filter(), batch_docs=5)
    first = next(iter(scan.iter(None)))
    assert first
    scan.close()
    assert scan._drain.proc.poll() is not None


def test_a_lost_database_is_reported(own_server: OwnServer) -> None:
    scan = CollectionScan(own_server.db, Filter())
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
        reader = open_stream(other, Filter(), order="any", matched=20, chunk_size=50)
        assert isinstance(reader, Prefetch)
        reader.close()
        with pytest.raises(ExportError, match="connect"):
            CollectionScan(other, Filter())
        res = export(None, "jsonl", db=other)
        assert res.conversations == 20 and res.messages == 600
    finally:
        own.close()


def test_a_worker_that_dies_is_reported_with_its_last_words(seeded_db: Database, tmp_path,
                                                             monkeypatch) -> None:
    from claudelens_nb.store import drain

    broken = tmp_path / "worker.py"
    # More than a pipe holds on stderr: the worker must still be able to die.
    broken.write_text("import sys\nsys.stderr.write('x' * 200_000 + '\\nboom: worker broke\\n')\n"
                      "sys.exit(3)\n")
    monkeypatch.setattr(drain, "_WORKER", broken)
    reader = CollectionScan(seeded_db, Filter())
    with pytest.raises(ExportError, match="ended unexpectedly: boom: worker broke"):
        list(reader.iter(None))


def _sections(path: Path) -> list[str]:
    """The Markdown export's conversation sections (the head names the export's time)."""
    return path.read_text(encoding="utf-8").split("## Conversations", 1)[1].split("\n### ")[1:]


def test_markdown_read_by_a_scan_is_placed_oldest_first(db: Database, tmp_path: Path,
                                                         monkeypatch) -> None:
    from claudelens_nb.exports import read

    jan = datetime(2026, 1, 10, tzinfo=UTC)
    # Stored newest first, and "c" and "b" start at the same instant (ties go by id).
    for sid, day in (("d", 30), ("c", 20), ("b", 20), ("a", 1)):
        _session(db, sid, jan + timedelta(days=day), jan + timedelta(days=day), count=1)
        _message(db, sid, f"{sid}0", jan + timedelta(days=day), text=f"text of {sid}")
    scanned = export(None, "markdown", tmp_path / "scan.md", db=db)
    monkeypatch.setattr(read, "SCAN_SHARE", 2.0)  # now fetched by id, oldest first
    fetched = export(None, "markdown", tmp_path / "ids.md", db=db)
    sections = _sections(scanned.path)
    assert [s.split("\n", 1)[0].split(".")[0] for s in sections] == ["1", "2", "3", "4"]
    assert [s.split("**ID:** ")[1][0] for s in sections] == ["a", "b", "c", "d"]
    assert "text of b" in sections[1] and sections == _sections(fetched.path)
    assert not list(tmp_path.glob("*.sections")) and not list(tmp_path.glob(".*work"))


def test_the_scan_reports_every_conversations_place(db: Database) -> None:
    jan = datetime(2026, 1, 10, tzinfo=UTC)
    _session(db, "late", jan + timedelta(days=3), jan + timedelta(days=3))
    db[names.SESSIONS].insert_one({"sessionId": "undated", "endedAt": jan})
    _session(db, "early", jan, jan)
    scan = CollectionScan(db, Filter())
    ids = [c["id"] for batch in scan.iter(None) for c in batch]
    assert sorted(ids) == ["early", "late", "undated"]
    # The server's order for startedAt: missing first, then dates.
    assert scan.positions == {"undated": 0, "early": 1, "late": 2}
