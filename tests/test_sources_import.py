"""External sources through the import engine into a real database: exact documents,
re-import of grown sessions, and the Claude Code -> import -> export JSON -> import round trip."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from bson import Decimal128

import claudelens_nb
from claudelens_nb import records
from claudelens_nb.reading import ReadReport
from claudelens_nb.sources import read
from claudelens_nb.store import collections as names

DATA = Path(__file__).parent / "data" / "sources"
SIDECHAIN_SESSION = "88a8d761-7b9a-4bf1-a8ca-c1febe6bf358"


def _messages(db) -> dict[str, dict]:
    out = {}
    for coll in names.message_collections(db):
        for doc in coll.find({}, {"_id": 0}):
            doc["_collection"] = coll.name
            out[doc["uuid"]] = doc
    return out


def _expected(kind: str, path: Path) -> dict[str, dict]:
    """What the reader yields, as the documents ClaudeLens would store."""
    out = {}
    for conv in read(kind, path, ReadReport()):
        for msg in conv["messages"]:
            doc = records.message_document(conv["id"], msg)
            out[doc["uuid"]] = doc
    return out


def _comparable(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if k not in ("_id", "_collection", "createdAt")}


def test_fixture_folder_import_exact_documents(db, fixtures_dir):
    folder = fixtures_dir / "claude-code-log"
    result = claudelens_nb.import_file(folder, db=db)
    assert result.status == "completed"
    assert (result.inserted, result.failed) == (5, 0)
    assert result.messages_written == 13 + 13 + 3 + 8 + 14
    stored = _messages(db)
    expected = _expected("claude_code", folder)
    assert set(stored) == set(expected)
    for uid, doc in stored.items():
        assert _comparable(doc) == _comparable(expected[uid]), uid
        assert doc["_collection"] == names.monthly_name(doc["timestamp"])
        if doc["type"] in ("tool_use", "tool_result"):
            assert "contentHash" not in doc
        else:
            assert doc["contentHash"] == records.content_hash(
                uid, doc["type"], doc["timestamp"], doc.get("messageData"))
    by_coll: dict[str, int] = {}
    for doc in stored.values():
        by_coll[doc["_collection"]] = by_coll.get(doc["_collection"], 0) + 1
    assert by_coll == {"messages_2025_06": 43, "messages_2025_11": 8}
    first = stored["83a7cabd-3642-45d6-ba73-9b9f843b9ab1"]
    assert first["costUsd"] == Decimal128("0.53525400") or first["costUsd"].to_decimal() == Decimal("0.535254")
    assert isinstance(first["costUsd"], Decimal128)
    sessions = {s["sessionId"]: s for s in db[names.SESSIONS].find()}
    assert set(sessions) == {"test_session", "edge_cases", "session_b", "todowrite_session", SIDECHAIN_SESSION}
    side = sessions[SIDECHAIN_SESSION]
    assert isinstance(side["totalCost"], Decimal128) and side["totalCost"].to_decimal() == Decimal("0.6686811")
    assert side["messageCount"] == 8
    assert sessions["todowrite_session"]["totalCost"].to_decimal() == Decimal("0.007569")
    assert sessions["todowrite_session"]["summary"] == "Feature Implementation with Task Management"
    # One project: the folder the transcripts lie in, named and described as upstream's sync.
    projects = {p["_id"]: (p["name"], p["path"], p["description"]) for p in db[names.PROJECTS].find()}
    assert projects == {side["projectId"]: (
        "claude-code-log", str(folder.resolve()), "Claude project: claude-code-log")}


def test_reimport_after_sessions_grew_adds_only_new_messages(db, tmp_path):
    folder = tmp_path / "projects"
    shutil.copytree(DATA / "claude-code" / "projects", folder)
    first = claudelens_nb.import_file(folder, db=db)
    assert (first.inserted, first.messages_written) == (3, 19)
    before = {u: d for u, d in _messages(db).items()}
    again = claudelens_nb.import_file(folder, strategy="merge", db=db)
    assert again.messages_written == 0
    assert _messages(db) == before
    with (folder / "-home-ana-src-my-app" / "s2.jsonl").open("a") as fh:
        for n, (kind, content) in enumerate([("user", "And the README?"), ("user", "Thanks")], start=2):
            fh.write(json.dumps({
                "parentUuid": "s2-a1", "isSidechain": False, "userType": "external",
                "cwd": "/home/ana/src/my-app", "sessionId": "s2", "type": kind, "uuid": f"s2-u{n}",
                "timestamp": f"2026-02-01T09:0{n}:00.000Z",
                "message": {"role": "user", "content": content}}) + "\n")
    grown = claudelens_nb.import_file(folder, strategy="merge", db=db)
    assert grown.messages_written == 2
    after = _messages(db)
    assert set(after) - set(before) == {"s2-u2", "s2-u3"}
    assert {u: after[u] for u in before} == before
    s2 = db[names.SESSIONS].find_one({"sessionId": "s2"})
    assert s2["messageCount"] == 4


def test_synthetic_sources_import(db):
    result = claudelens_nb.import_file(DATA / "chatgpt" / "conversations.json", db=db)
    assert (result.status, result.inserted, result.messages_written) == ("completed", 2, 9)
    result = claudelens_nb.import_file(DATA / "claude-ai-export.zip", db=db)
    assert (result.status, result.inserted, result.messages_written) == ("completed", 2, 6)
    projects = sorted((p["name"], p["path"]) for p in db[names.PROJECTS].find())
    assert projects == [("ChatGPT", "chatgpt://"), ("Research", "claude.ai://project/proj-9"),
                        ("claude.ai", "claude.ai://")]
    chat = db[names.SESSIONS].find_one({"sessionId": "chat-a"})
    assert [b["leaf_id"] for b in chat["branches"]] == ["u2x", "u3"]
    stored = _messages(db)
    assert stored["t1"]["type"] == "tool_result" and stored["a1b"]["type"] == "tool_use"
    assert stored["m1"]["attachments"][0]["file_name"] == "notes.txt"


def test_round_trip_claude_code_export_json_import(db, other_db, tmp_path):
    folder = DATA / "claude-code" / "projects"
    claudelens_nb.import_file(folder, db=db)
    out = claudelens_nb.export(None, "json", tmp_path / "all.json",
                               options={"remove_secrets": False}, db=db)
    assert out.conversations == 3 and out.messages == 19
    result = claudelens_nb.import_file(out.path, db=other_db)
    assert (result.status, result.inserted, result.failed) == ("completed", 3, 0)
    assert _messages(other_db) == _messages(db)

    def sessions(d):
        projects = {p["_id"]: p["path"] for p in d[names.PROJECTS].find()}
        return {s["sessionId"]: {**{k: v for k, v in s.items() if k not in ("_id", "projectId")},
                                 "project": projects[s["projectId"]]}
                for s in d[names.SESSIONS].find()}
    assert sessions(other_db) == sessions(db)

    def projects(d):
        return sorted((p["name"], p["path"]) for p in d[names.PROJECTS].find())
    assert projects(other_db) == projects(db) == [
        ("C--Users-ana-proj-win", str((folder / "C--Users-ana-proj-win").resolve())),
        ("app", str((folder / "-home-ana-src-my-app").resolve()))]


def test_cli_import_claude_code_default_folder(db, tmp_path, monkeypatch, capsys):
    from claudelens_nb.cli import main

    shutil.copytree(DATA / "claude-code" / "projects", tmp_path / "cfg" / "projects")
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "cfg"))
    assert main(["import", "--claude-code", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "3 inserted" in out and "19 messages written" in out
    s1 = db[names.SESSIONS].find_one({"sessionId": "s1"})
    assert s1["title"] == "Fix the flaky parser bug" and s1["summary"] == "Fixed the flaky parser bug"
    assert s1["totalCost"].to_decimal() == Decimal("0.53415")
    # Transcripts are synced by default on the command line: nothing new, nothing read.
    assert main(["import", str(tmp_path / "cfg" / "projects"), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("unchanged: nothing new since the last import") and "0 B read" in out
    assert main(["import", str(tmp_path / "cfg" / "projects"), "--strategy", "skip", "--quiet"]) == 0
    assert "3 skipped" in capsys.readouterr().out


def test_resumed_session_imports_without_duplicate_ids(db, tmp_path):
    # s3 is a resumed session: its file repeats s2's lines under its own sessionId.
    folder = tmp_path / "-home-ana-src-my-app"
    folder.mkdir()
    shutil.copy(DATA / "claude-code" / "projects" / "-home-ana-src-my-app" / "s2.jsonl", folder)
    lines = [json.loads(raw) for raw in (folder / "s2.jsonl").read_text().splitlines()]
    copied = [json.dumps(dict(x, sessionId="s3")) for x in lines if x.get("sessionId") == "s2" and "uuid" in x]
    copied.append(json.dumps({
        "parentUuid": "s2-a1", "isSidechain": False, "cwd": "/home/ana/src/my-app", "sessionId": "s3",
        "type": "user", "uuid": "s3-u1", "timestamp": "2026-02-02T08:00:00.000Z",
        "message": {"role": "user", "content": "Picking up where we left off"}}))
    (folder / "s3.jsonl").write_text("\n".join(copied) + "\n")
    result = claudelens_nb.import_file(folder, db=db)
    assert (result.status, result.inserted, result.messages_written) == ("completed", 2, 3)
    assert db[names.SESSIONS].find_one({"sessionId": "s3"})["messageCount"] == 1


def test_validate_reports_malformed_lines_and_stats(db, fixtures_dir):
    report = claudelens_nb.validate_file(fixtures_dir / "claude-code-log", db=db)
    assert report.ok and report.kind == "claude_code"
    assert report.stats["conversations"] == 5 and report.stats["messages"] == 51
    # every model priced, claude-3-sonnet too (test_session, session_b, edge_cases)
    assert report.stats["total_cost"] == pytest.approx(0.6686811 + 0.007569 + 0.007329 + 0.000585 + 0.00621)
    skipped = {(p.file, p.line) for p in report.warnings if p.message.endswith("line skipped")}
    assert skipped == {("edge_cases.jsonl", n) for n in (11, 13, 14, 15, 16)}
    assert not report.conflicts
    claudelens_nb.import_file(fixtures_dir / "claude-code-log", db=db)
    again = claudelens_nb.validate_file(fixtures_dir / "claude-code-log", db=db)
    assert sorted(c.id for c in again.conflicts) == sorted(
        ["test_session", "edge_cases", "session_b", "todowrite_session", SIDECHAIN_SESSION])


def test_cli_reimport_of_grown_transcripts_adds_only_new_messages(db, tmp_path) -> None:
    """`claudelens-nb import FOLDER` twice, the session grown in between: merge by default."""
    from claudelens_nb.cli import main
    from claudelens_nb.sources.sample import write_projects

    root = tmp_path / "projects"
    write_projects(root, sessions=3, lines=60, seed=11)
    assert main(["import", str(root), "--quiet"]) == 0
    before = sum(c.count_documents({}) for c in names.message_collections(db))
    transcript = sorted(root.glob("*/*.jsonl"))[0]
    last = next(json.loads(x) for x in reversed(transcript.read_text().splitlines()) if '"uuid"' in x)
    grown = {k: last[k] for k in ("sessionId", "cwd", "version", "gitBranch")} | {
        "type": "user", "uuid": "grown-1", "parentUuid": last["uuid"], "isSidechain": False,
        "userType": "external", "timestamp": "2026-12-01T09:00:00.000Z",
        "message": {"role": "user", "content": "and one more thing"}}
    with transcript.open("a") as fh:
        fh.write(json.dumps(grown) + "\n")
    assert main(["import", str(root), "--quiet"]) == 0
    after = sum(c.count_documents({}) for c in names.message_collections(db))
    assert after == before + 1
    assert db[names.SESSIONS].find_one({"sessionId": last["sessionId"]})["endedAt"].year == 2026
    assert names.collection_for(db, datetime(2026, 12, 1, tzinfo=UTC)).find_one({"uuid": "grown-1"})
