"""skip / replace / merge on one seeded database: the exact documents after, and undo."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from test_import_helpers import conversations, deep, message_docs, session, snapshot, write_json

from claudelens_nb import records
from claudelens_nb.errors import ImportFileError, ValidationFailed
from claudelens_nb.imports import import_file, import_history, undo_import, validate_file


def _new_message(template: dict, new_id: str, minutes: int, text: str) -> dict:
    m = deep(template)
    m["id"] = new_id
    m["content"] = text
    ts = records.parse_iso(template["timestamp"]) + timedelta(minutes=minutes)
    m["timestamp"] = records.iso(ts)
    m["metadata"].pop("createdAt", None)
    m["metadata"]["messageData"] = {"role": m["type"], "content": text}
    return m


@pytest.fixture()
def scenario(seeded_db, tmp_path):
    """A: 25 of its 30 stored messages + 2 new ones, renamed, newer; B: as stored; D: new."""
    db = seeded_db
    convs = conversations(db)
    a, b, d = deep(convs[0]), deep(convs[1]), deep(convs[2])
    last = a["messages"][-1]
    assistant = next(m for m in a["messages"] if m["type"] == "assistant")
    new1 = _new_message(assistant, "new-a-1", 5, "A brand new answer")
    new1["timestamp"] = records.iso(records.parse_iso(last["timestamp"]) + timedelta(minutes=5))
    new2 = _new_message(a["messages"][0], "new-a-2", 0, "A brand new question")
    new2["timestamp"] = records.iso(records.parse_iso(last["timestamp"]) + timedelta(minutes=6))
    a["messages"] = a["messages"][:25] + [new1, new2]
    a["title"] = "Renamed by the import"
    a["updated_at"] = "2030-01-01T00:00:00.000Z"
    d["id"] = "brand-new-conversation"
    for m in d["messages"]:
        m["id"] = "d-" + m["id"]
        m["parent_id"] = "d-" + m["parent_id"] if m["parent_id"] else None
    path = write_json(tmp_path / "incoming.json", [a, b, d])
    stored = {cid: message_docs(db, cid) for cid in (a["id"], b["id"])}
    return {
        "db": db, "path": path, "a": a, "b": b, "d": d, "stored": stored,
        "sessions": {cid: session(db, cid) for cid in (a["id"], b["id"])},
        "before": snapshot(db),
    }


def _cost(docs) -> Decimal:
    return sum((records.to_decimal(d.get("costUsd")) or Decimal(0) for d in docs), Decimal(0))


def _check_undo(s, result):
    db = s["db"]
    counts = undo_import(result.job_id, db=db)
    assert snapshot(db) == s["before"]
    with pytest.raises(ImportFileError, match="already undone"):
        undo_import(result.job_id, db=db)
    return counts


def test_validate_reports_conflicts_and_writes_nothing(scenario):
    s, db = scenario, scenario["db"]
    report = validate_file(s["path"], db=db)
    assert report.ok and report.kind == "json"
    assert report.stats["conversations"] == 3 and report.stats["messages"] == 27 + 30 + 30
    by_id = {c.id: c for c in report.conflicts}
    assert set(by_id) == {s["a"]["id"], s["b"]["id"]}
    ca = by_id[s["a"]["id"]]
    assert ca.title == "Renamed by the import"
    assert (ca.existing_messages, ca.incoming_messages) == (30, 27)
    assert ca.existing_cost == pytest.approx(float(_cost(s["stored"][s["a"]["id"]])))
    assert ca.existing_updated == s["sessions"][s["a"]["id"]]["endedAt"]
    assert ca.incoming_updated == records.parse_iso("2030-01-01T00:00:00.000Z")
    assert snapshot(db, bookkeeping=True) == s["before"]


def test_skip_keeps_what_exists(scenario):
    s, db = scenario, scenario["db"]
    result = import_file(s["path"], strategy="skip", db=db)
    assert (result.inserted, result.skipped, result.replaced, result.merged) == (1, 2, 0, 0)
    for cid in (s["a"]["id"], s["b"]["id"]):
        assert message_docs(db, cid) == s["stored"][cid]
        assert session(db, cid) == s["sessions"][cid]
    new = session(db, "brand-new-conversation")
    assert new["messageCount"] == 30
    assert [d["uuid"] for d in message_docs(db, "brand-new-conversation")] == [m["id"] for m in s["d"]["messages"]]
    _check_undo(s, result)


def test_replace_takes_the_imported_version(scenario):
    s, db = scenario, scenario["db"]
    aid, bid = s["a"]["id"], s["b"]["id"]
    result = import_file(s["path"], strategy="replace", db=db)
    assert (result.inserted, result.replaced, result.skipped) == (1, 2, 0)
    docs = message_docs(db, aid)
    assert [d["uuid"] for d in docs] == [m["id"] for m in s["a"]["messages"]]
    after = session(db, aid)
    assert after["_id"] == s["sessions"][aid]["_id"]
    assert after["messageCount"] == 27
    assert after["title"] == "Renamed by the import"
    assert records.to_decimal(after["totalCost"]) == _cost(docs)
    kept = {d["uuid"]: d for d in s["stored"][aid][:25]}
    for d in docs[:25]:  # same message, same document (_id kept by the upsert)
        assert d == kept[d["uuid"]]
    gone = {d["uuid"] for d in s["stored"][aid][25:]}
    assert not gone & {d["uuid"] for d in docs}
    # B was identical: replacing it changed nothing at all.
    assert message_docs(db, bid) == s["stored"][bid]
    assert session(db, bid) == s["sessions"][bid]
    counts = _check_undo(s, result)
    # A is put back; B, which the replace left as it was, needs nothing.
    assert counts["restored_sessions"] == 1 and counts["removed_sessions"] == 1


def test_merge_is_a_union_without_duplicates(scenario):
    s, db = scenario, scenario["db"]
    aid, bid = s["a"]["id"], s["b"]["id"]
    result = import_file(s["path"], strategy="merge", db=db)
    assert (result.inserted, result.merged, result.skipped) == (1, 2, 0)
    assert result.messages_written == 2 + 30
    docs = message_docs(db, aid)
    uuids = [d["uuid"] for d in docs]
    assert len(uuids) == len(set(uuids)) == 32
    assert set(uuids) == {d["uuid"] for d in s["stored"][aid]} | {"new-a-1", "new-a-2"}
    by = {d["uuid"]: d for d in docs}
    for d in s["stored"][aid]:  # nothing stored is lost or touched
        assert by[d["uuid"]] == d
    after = session(db, aid)
    assert after["_id"] == s["sessions"][aid]["_id"]
    assert after["messageCount"] == 32
    assert records.to_decimal(after["totalCost"]) == _cost(docs)
    assert after["title"] == "Renamed by the import"  # the newer metadata wins
    assert after["endedAt"] == max(d["timestamp"] for d in docs)
    assert message_docs(db, bid) == s["stored"][bid]
    assert session(db, bid) == s["sessions"][bid]
    _check_undo(s, result)


def test_merge_dedupes_by_content_and_keeps_newer_metadata_only(scenario, tmp_path):
    s, db = scenario, scenario["db"]
    a = deep(s["a"])
    twin = deep(a["messages"][3])
    twin["id"] = "same-content-other-id"  # same type, content and timestamp as a stored one
    a["messages"] = [twin]
    a["title"] = "An older title"
    a["updated_at"] = "2001-01-01T00:00:00.000Z"
    path = write_json(tmp_path / "older.json", [a])
    result = import_file(path, strategy="merge", db=db)
    assert result.merged == 1 and result.messages_written == 0
    assert message_docs(db, a["id"]) == s["stored"][a["id"]]
    assert session(db, a["id"]).get("title") == s["sessions"][a["id"]].get("title")


def test_per_conversation_choices(scenario):
    s, db = scenario, scenario["db"]
    aid, bid = s["a"]["id"], s["b"]["id"]
    result = import_file(s["path"], strategy="skip", per_conversation={aid: "merge", bid: "replace"}, db=db)
    assert (result.inserted, result.merged, result.replaced, result.skipped) == (1, 1, 1, 0)
    assert session(db, aid)["messageCount"] == 32
    job = db.import_jobs.find_one({})
    assert {"id": aid, "strategy": "merge"} in job["per_conversation"]
    _check_undo(s, result)


def test_per_conversation_skip_overrides_the_default(scenario):
    s, db = scenario, scenario["db"]
    result = import_file(s["path"], strategy="replace", per_conversation={s["a"]["id"]: "skip"}, db=db)
    assert (result.replaced, result.skipped) == (1, 1)
    assert message_docs(db, s["a"]["id"]) == s["stored"][s["a"]["id"]]


def test_bad_strategy_is_refused(scenario):
    with pytest.raises(ValidationFailed, match="choose skip, replace or merge"):
        import_file(scenario["path"], strategy="overwrite", db=scenario["db"])
    with pytest.raises(ValidationFailed, match="choose skip, replace or merge"):
        import_file(scenario["path"], strategy="skip", per_conversation={"x": "nuke"}, db=scenario["db"])


def test_dry_run_counts_and_writes_nothing(scenario):
    s, db = scenario, scenario["db"]
    result = import_file(s["path"], strategy="merge", dry_run=True, db=db)
    assert result.status == "dry_run" and (result.inserted, result.merged) == (1, 2)
    assert snapshot(db, bookkeeping=True) == s["before"]


def test_job_document_and_history(scenario):
    s, db = scenario, scenario["db"]
    first = import_file(s["path"], strategy="skip", db=db)
    second = import_file(s["path"], strategy="merge", db=db)
    jobs = import_history(db=db)
    assert [j["job_id"] for j in jobs] == [second.job_id, first.job_id]
    job = jobs[0]
    assert job["status"] == "completed" and job["kind"] == "json"
    assert job["source_name"] == "incoming.json"
    assert len(job["source_sha256"]) == 64
    assert job["counts"]["merged"] == 3 and job["strategy"] == "merge"
    assert job["completed_at"] >= job["created_at"]
    assert job["progress"]["stage"] in ("Importing", "Processing messages", "Finalizing")
    assert import_history(page=1, page_size=1, db=db)[0]["job_id"] == first.job_id


def test_message_id_owned_by_another_conversation_fails_that_conversation_only(scenario, tmp_path):
    s, db = scenario, scenario["db"]
    thief = deep(s["d"])
    thief["id"] = "thief"
    for m in thief["messages"]:
        m["id"] = "thief-" + m["id"]
    thief["messages"][5]["id"] = s["stored"][s["a"]["id"]][0]["uuid"]  # A's first message id
    ok = deep(s["d"])
    path = write_json(tmp_path / "thief.json", [thief, ok])
    result = import_file(path, db=db)
    assert (result.failed, result.inserted) == (1, 1)
    assert "already belongs to conversation" in result.errors[0]
    assert session(db, "thief") is None and message_docs(db, "thief") == []
    assert message_docs(db, s["a"]["id"]) == s["stored"][s["a"]["id"]]
    assert db.import_jobs.find_one({})["counts"]["failed"] == 1
