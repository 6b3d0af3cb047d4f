"""Claude Code transcripts: every real fixture, read by hand for exact expectations, and the
synthetic projects folder in tests/data/sources for the edges the fixtures lack."""

from __future__ import annotations

import json
import shutil
import zipfile
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from claudelens_nb import pricing, records
from claudelens_nb.reading import ReadReport
from claudelens_nb.sources import claude_code, detect, read

DATA = Path(__file__).parent / "data" / "sources" / "claude-code" / "projects"
SIDECHAIN_SESSION = "88a8d761-7b9a-4bf1-a8ca-c1febe6bf358"


def _read(path: Path) -> tuple[dict[str, dict], ReadReport]:
    report = ReadReport()
    convs = {c["id"]: c for c in read("claude_code", path, report)}
    return convs, report


def _skipped_lines(report: ReadReport) -> list[tuple[str, int]]:
    """Where malformed lines were: warnings (the rest is imported), never errors."""
    assert not report.errors
    return [(p.file, p.line) for p in report.warnings if p.message.endswith("line skipped")]


def _types(conv: dict) -> dict[str, int]:
    return dict(Counter(m["type"] for m in conv["messages"]))


def _tokens(conv: dict) -> dict[str, int]:
    return {k: sum(m["tokens"][k] or 0 for m in conv["messages"])
            for k in ("input", "output", "cache_creation", "cache_read")}


@pytest.fixture(scope="module")
def cc_dir(fixtures_dir: Path) -> Path:
    return fixtures_dir / "claude-code-log"


@pytest.fixture(scope="module")
def folder(cc_dir: Path) -> tuple[dict[str, dict], ReadReport]:
    return _read(cc_dir)


# ---------------------------------------------------------------- the real fixtures

def test_folder_sessions_and_line_counts(folder):
    convs, report = folder
    assert set(convs) == {"test_session", "edge_cases", "session_b", "todowrite_session", SIDECHAIN_SESSION}
    assert report.kind == "claude_code"
    assert report.files == 5
    assert report.lines == 12 + 19 + 3 + 6 + 12
    assert report.used == Counter({"summary": 3})
    assert report.unknown_models == Counter()  # claude-3-sonnet is priced


def test_representative_session(folder):
    conv = folder[0]["test_session"]
    # As upstream's ingest: a user line holding only tool results stores no user document.
    assert _types(conv) == {"user": 4, "assistant": 5, "tool_use": 2, "tool_result": 2}
    assert conv["message_count"] == 13
    assert _tokens(conv) == {"input": 218, "output": 445, "cache_creation": 0, "cache_read": 0}
    # claude-3-sonnet at $3 / $15 per million tokens (218 in, 445 out), as ccusage prices it.
    assert sum(m["cost_usd"] is not None for m in conv["messages"]) == 5
    assert conv["cost_usd"] == Decimal("0.007329")
    assert conv["model"] == "claude-3-sonnet-20240229"
    # The project is the folder the transcript lies in, as upstream's sync keys it.
    assert conv["project_path"] == str(Path(conv["messages"][0]["metadata"]["metadata"]["_project_path"]))
    assert conv["project_name"] == "claude-code-log"
    assert conv["summary"].startswith("User learned about Python decorators")
    assert conv["title"] == records.derive_title(conv["summary"], [])
    assert conv["created_at"] == datetime(2025, 6, 14, 10, 0, tzinfo=UTC)
    assert conv["updated_at"] == datetime(2025, 6, 14, 10, 4, tzinfo=UTC)
    assert conv["duration_seconds"] == 240
    ids = [m["id"] for m in conv["messages"]]
    assert ids[:5] == ["msg_001", "msg_002", "msg_003", "msg_004", "msg_004_tool_0"]
    tool = conv["messages"][4]
    assert tool["type"] == "tool_use" and tool["parent_id"] == "msg_004"
    assert tool["tool_name"] == "Edit" and tool["tool_input"]["file_path"] == "/tmp/decorator_example.py"
    assert tool["content"].startswith('{"type": "tool_use", "id": "tool_001", "name": "Edit", "input": {')
    assert json.loads(tool["content"]) == tool["metadata"]["messageData"]
    assert tool["model"] == "claude-3-sonnet-20240229"  # copied to split documents, as upstream
    assert tool["metadata"]["requestId"] == "req_002"
    assert conv["messages"][3]["content"] == "✏️ Editing file: /tmp/decorator_example.py"
    result = next(m for m in conv["messages"] if m["id"] == "msg_005_result_0")
    assert result["parent_id"] == "msg_004_tool_0"
    assert result["content"] == "File created successfully at: /tmp/decorator_example.py"
    assert not any(m["id"] == "msg_005" for m in conv["messages"])
    assert result["metadata"]["toolUseResult"] == {
        "output": "File created successfully at: /tmp/decorator_example.py"}
    assert result["metadata"]["messageData"]["tool_use_id"] == "tool_001"
    a2 = conv["messages"][1]
    assert a2["tokens"] == {"input": 25, "output": 120, "cache_creation": 0, "cache_read": 0}
    assert a2["metadata"]["usage"]["service_tier"] == "default"
    assert a2["metadata"]["requestId"] == "req_001"
    assert a2["metadata"]["cwd"] == "/tmp" and a2["metadata"]["version"] == "1.0.0"


def test_edge_cases_session_and_malformed_lines(folder):
    convs, report = folder
    conv = convs["edge_cases"]
    assert _types(conv) == {"user": 7, "assistant": 3, "tool_use": 2, "tool_result": 1}
    assert _tokens(conv) == {"input": 320, "output": 350, "cache_creation": 0, "cache_read": 0}
    assert conv["summary"].startswith("Tested various edge cases")
    assert _skipped_lines(report) == [("edge_cases.jsonl", n) for n in (11, 13, 14, 15, 16)]
    errors = {(p.file, p.line): p.message for p in report.warnings}
    assert "timestamp" in errors[("edge_cases.jsonl", 11)]
    assert "not an object" in errors[("edge_cases.jsonl", 13)]
    assert "no 'type'" in errors[("edge_cases.jsonl", 14)]
    # The misspelt timestamp line is dropped; the good edge_011 (line 12) is imported.
    special = next(m for m in conv["messages"] if m["id"] == "edge_011")
    assert "中文" in special["content"] and "🎉" in special["content"]
    # edge_010 appears twice: the first line (misspelt "contenst") is kept, the copy reported.
    e10 = next(m for m in conv["messages"] if m["id"] == "edge_010")
    assert e10["content"] == "" and "contenst" in e10["metadata"]["messageData"]
    warnings = {(p.file, p.line) for p in report.warnings}
    assert ("edge_cases.jsonl", 18) in warnings and ("edge_cases.jsonl", 10) in warnings
    failing = next(m for m in conv["messages"] if m["id"] == "edge_005_result_0")
    assert failing["metadata"]["messageData"]["is_error"] is True
    assert failing["parent_id"] == "edge_004_tool_0"
    multi = next(m for m in conv["messages"] if m["id"] == "edge_009")
    assert multi["content"].startswith("I see the long Lorem ipsum") and multi["content"].endswith(
        "✏️ Multiple edits (1) to: /tmp/complex_example.py")


def test_stray_line_yields_to_the_sessions_own_file(folder):
    convs, report = folder
    conv = convs["todowrite_session"]
    a4 = next(m for m in conv["messages"] if m["id"] == "assistant_004_tool_0")
    assert a4["tool_input"]["todos"][0] == {"id": "1", "content": "Design the feature architecture",
                                             "status": "completed", "priority": "high"}
    assert any(p.file == "edge_cases.jsonl" and p.line == 17 and "todowrite_examples.jsonl:6" in p.message
               for p in report.warnings)
    assert report.skipped["duplicate uuid"] == 2


def test_todowrite_session_cost(folder):
    conv = folder[0]["todowrite_session"]
    assert _types(conv) == {"user": 2, "assistant": 6, "tool_use": 3, "tool_result": 3}
    assert _tokens(conv) == {"input": 883, "output": 328, "cache_creation": 0, "cache_read": 0}
    # claude-sonnet-4 at $3 / $15 per million: (883*3 + 328*15) / 1e6
    assert conv["cost_usd"] == Decimal("0.007569")
    assert conv["title"] == conv["summary"] == "Feature Implementation with Task Management"
    first_user = conv["messages"][0]
    assert first_user["content"] == "Can you help me implement a new feature with proper task management?"
    assert first_user["metadata"]["userType"] == "external"
    assert [m["parent_id"] for m in conv["messages"][:3]] == [None, "user_001", "assistant_001"]


def test_session_b(folder):
    conv = folder[0]["session_b"]
    assert _types(conv) == {"user": 2, "assistant": 1}
    assert _tokens(conv)["input"] == 20 and _tokens(conv)["output"] == 35
    assert conv["summary"] is None
    assert conv["title"] == "This is from a different session file to test multi-session handling."


def test_sidechain_session_windows_cwd_and_duplicated_response(folder):
    conv = folder[0][SIDECHAIN_SESSION]
    # The project is the transcript's folder; the Windows cwd stays on the messages.
    assert conv["project_name"] == "claude-code-log"
    assert conv["messages"][0]["metadata"]["cwd"] == "e:\\Workspace\\src\\github\\claude-code-log"
    assert _types(conv) == {"assistant": 4, "tool_use": 2, "tool_result": 2}
    assert sum(m["is_sidechain"] for m in conv["messages"]) == 4
    # Lines 3 and 4 are one API response (same message.id and requestId): usage counted once.
    assert _tokens(conv) == {"input": 9, "output": 738, "cache_creation": 164054, "cache_read": 141272}
    second = next(m for m in conv["messages"] if m["id"] == "3c78114e-3de3-471e-b80f-0c86adb361c4")
    assert second["tokens"] == {"input": None, "output": None, "cache_creation": None, "cache_read": None}
    assert second["cost_usd"] is None and "usage" not in second["metadata"]
    assert second["metadata"]["messageData"]["usage"]["output_tokens"] == 183
    expected = sum((pricing.cost_from_usage("claude-sonnet-4-5-20250929", u) for u in (
        {"input_tokens": 3, "cache_creation_input_tokens": 141272, "output_tokens": 365},
        {"input_tokens": 3, "cache_creation_input_tokens": 19830, "output_tokens": 183},
        {"input_tokens": 3, "cache_creation_input_tokens": 2952, "cache_read_input_tokens": 141272,
         "output_tokens": 190})), Decimal(0))
    assert conv["cost_usd"] == expected == Decimal("0.6686811")
    assert conv["model"] == "claude-sonnet-4-5-20250929"
    # Messages in timestamp order although the file is not.
    stamps = [m["timestamp"] for m in conv["messages"]]
    assert stamps == sorted(stamps)
    result = next(m for m in conv["messages"] if m["id"] == "97965533-18f3-41b7-aa07-0c438f2a5893_result_0")
    assert result["parent_id"] == "83a7cabd-3642-45d6-ba73-9b9f843b9ab1_tool_0"
    assert json.loads(result["content"]) == [
        {"type": "text", "text": "Perfect! Now I have a complete understanding. Let ..."}]
    mojibake = next(m for m in conv["messages"] if m["id"] == "4899826e-499f-4f24-ae6e-f2ac31cddfd4_result_0")
    assert mojibake["content"].startswith("  3130â†’")
    user = next(m for m in conv["messages"] if m["id"] == "97965533-18f3-41b7-aa07-0c438f2a5893_result_0")
    assert user["metadata"]["metadata"]["agentId"] == "e1c84ba5"
    assert user["metadata"]["metadata"]["isMeta"] is None


@pytest.mark.parametrize("name, sessions", [
    ("representative_messages.jsonl", {"test_session": 13}),
    ("edge_cases.jsonl", {"edge_cases": 13, "todowrite_session": 2}),
    ("session_b.jsonl", {"session_b": 3}),
    ("sidechain_integrated.jsonl", {SIDECHAIN_SESSION: 8}),
    ("todowrite_examples.jsonl", {"todowrite_session": 14}),
])
def test_each_fixture_file_alone(cc_dir, name, sessions):
    path = cc_dir / name
    assert detect(path) == "claude_code"
    convs, report = _read(path)
    assert {k: c["message_count"] for k, c in convs.items()} == sessions
    assert report.files == 1


def test_every_fixture_message_becomes_a_claudelens_document(folder):
    convs, _ = folder
    n = 0
    for conv in convs.values():
        uuids = set()
        for msg in conv["messages"]:
            doc = records.message_document(conv["id"], msg)
            n += 1
            assert doc["uuid"] == msg["id"] and doc["sessionId"] == conv["id"]
            assert doc["type"] in records.MESSAGE_TYPES
            assert doc["timestamp"].tzinfo is not None
            if msg["type"] in ("tool_use", "tool_result"):
                assert "contentHash" not in doc  # upstream hashes the line's own document only
            else:
                assert len(doc["contentHash"]) == 64
            assert doc["uuid"] not in uuids
            uuids.add(doc["uuid"])
            if msg["type"] in ("user", "assistant"):
                assert "messageData" in doc and "cwd" in doc
            if msg["type"] == "tool_use":
                assert doc["messageData"]["type"] == "tool_use"
                back = records.message_record(doc)
                assert (back["tool_name"], back["tool_input"]) == (msg["tool_name"], msg["tool_input"])
            if msg["tokens"]["output"] is not None:
                assert doc["usage"]["output_tokens"] == msg["tokens"]["output"]
                assert records.message_record(doc)["tokens"] == msg["tokens"]
            if msg["cost_usd"] is not None:
                assert doc["costUsd"].to_decimal() == msg["cost_usd"]
            json.dumps(records.to_json_value(doc))
    assert n == 13 + 13 + 3 + 8 + 14


def test_zip_of_the_fixtures_reads_the_same(cc_dir, tmp_path):
    archive = tmp_path / "logs.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for f in sorted(cc_dir.iterdir()):
            zf.write(f, f"claude-code-log/{f.name}")
    assert detect(archive) == "claude_code"
    zipped, report = _read(archive)
    plain, _ = _read(cc_dir)
    assert {k: c["message_count"] for k, c in zipped.items()} == {k: c["message_count"] for k, c in plain.items()}
    assert zipped["todowrite_session"]["cost_usd"] == Decimal("0.007569")
    assert ("claude-code-log/edge_cases.jsonl", 13) in _skipped_lines(report)


# ---------------------------------------------------------------- synthetic edges

@pytest.fixture(scope="module")
def synthetic() -> tuple[dict[str, dict], ReadReport]:
    return _read(DATA)


def test_synthetic_projects_folder(synthetic):
    convs, report = synthetic
    assert list(convs) == ["s1", "s2", "w1"]
    s1 = convs["s1"]
    assert _types(s1) == {"user": 3, "assistant": 5, "tool_use": 3, "tool_result": 3, "system": 1}
    # Named and keyed as upstream's sync does: the projects folder, its last dash-part.
    assert (s1["project_name"], s1["project_path"]) == (
        "app", str((DATA / "-home-ana-src-my-app").resolve()))
    assert s1["title"] == "Fix the flaky parser bug"  # ai-title
    assert s1["summary"] == "Fixed the flaky parser bug"  # from s2.jsonl through leafUuid u2
    assert sum(m["is_sidechain"] for m in s1["messages"]) == 4  # the sub-agent file's documents
    assert convs["s2"]["title"] == "Release notes"  # custom-title beats ai-title
    assert convs["s2"]["summary"] == "Changelog written"
    w1 = convs["w1"]
    assert (w1["project_name"], w1["project_path"]) == (
        "C--Users-ana-proj-win", str((DATA / "C--Users-ana-proj-win").resolve()))
    assert w1["messages"][0]["metadata"]["cwd"] == "C:\\Users\\ana\\proj-win"
    assert report.skipped == Counter({
        "file-history-snapshot": 1, "progress": 1, "attachment": 1, "queue-operation": 1,
        "last-prompt": 1, "summary (leaf not found)": 1})
    assert report.used == Counter({"ai-title": 2, "custom-title": 1, "summary": 2})
    assert _skipped_lines(report) == [("-home-ana-src-my-app/s1.jsonl", 13)]
    assert "at column 48" in report.warnings[0].message
    assert report.files == 4


def test_synthetic_costs_1h_cache_writes_and_unknown_model(synthetic):
    convs, report = synthetic
    s1 = {m["id"]: m for m in convs["s1"]["messages"]}
    # opus-4-5: 10 in x $5, 200 out x $25, 1000 5-minute writes x $6.25, 2000 1-hour writes x $10,
    # 5000 cache reads x $0.50, per million.
    assert s1["a1"]["cost_usd"] == Decimal("0.0338")
    assert s1["a1"]["metadata"]["usage"]["cache_creation"]["ephemeral_1h_input_tokens"] == 2000
    assert s1["a1b"]["cost_usd"] is None and s1["a1b"]["tokens"]["input"] is None
    assert s1["a2"]["cost_usd"] == Decimal("0.5")  # costUSD given wins over the price table
    assert s1["a3"]["cost_usd"] is None  # unknown model
    assert report.unknown_models == Counter({"claude-experimental-9": 1})
    assert s1["sa-a1"]["cost_usd"] == Decimal("0.00035")
    assert convs["s1"]["cost_usd"] == Decimal("0.53415")
    assert convs["s2"]["cost_usd"] == Decimal("0.0105")
    assert convs["w1"]["messages"][1]["cost_usd"] is None  # <synthetic>: no cost, not reported
    assert _tokens(convs["s1"]) == {"input": 167, "output": 283, "cache_creation": 3000, "cache_read": 5000}


def test_synthetic_shapes(synthetic):
    s1 = {m["id"]: m for m in synthetic[0]["s1"]["messages"]}
    assert s1["a1"]["content"] == ("[Thinking]\nThe test fails on Windows line endings.\n\n"
                                   "Let me run the tests.\n\n💻 Running command: pytest -q")
    assert s1["a1"]["metadata"]["thinking"] == "The test fails on Windows line endings."
    assert s1["a1_tool_0"]["content"] == (
        '{"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {"command": "pytest -q"}}')
    assert s1["r1_result_0"]["parent_id"] == "a1_tool_0"
    assert s1["r1_result_1"]["parent_id"] == "a1b_tool_0"
    # A result given as blocks is stored as their JSON, as upstream stores it.
    assert json.loads(s1["r1_result_1"]["content"]) == [
        {"type": "text", "text": "def parse(line):\n    return line.split(',')"}]
    assert "r1" not in s1  # tool results only: no user document, as upstream
    assert s1["r1_result_0"]["metadata"]["toolUseResult"]["stdout"] == "1 failed, 47 passed"
    assert s1["sys1"]["type"] == "system" and s1["sys1"]["content"] == "Conversation compacted"
    assert s1["sys1"]["metadata"]["metadata"]["subtype"] == "compact_boundary"
    assert "content" not in s1["sys1"]["metadata"]["metadata"]
    assert s1["sa-a1_tool_0"]["is_sidechain"] is True
    assert s1["sa-r1_result_0"]["parent_id"] == "sa-a1_tool_0"
    assert s1["sa-u1"]["metadata"]["metadata"]["agentId"] == "abc"
    assert s1["a1"]["metadata"]["gitBranch"] == "main"
    for msg in s1.values():
        records.message_document("s1", msg)


def test_single_project_folder_and_claude_home(tmp_path):
    project = DATA / "-home-ana-src-my-app"
    convs, _ = _read(project)
    assert set(convs) == {"s1", "s2"}
    home = tmp_path / "claude-home"
    shutil.copytree(DATA, home / "projects")
    (home / "history.jsonl").write_text('{"display": "hi", "timestamp": 1}\n')
    convs, report = _read(home)
    assert set(convs) == {"s1", "s2", "w1"}
    assert _skipped_lines(report) == [("-home-ana-src-my-app/s1.jsonl", 13)]
    assert report.files == 4  # ~/.claude/history.jsonl is not a transcript
    assert detect(home) == "claude_code"


def test_default_projects_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "cfg"))
    assert claude_code.default_projects_dir() == tmp_path / "cfg" / "projects"
    monkeypatch.delenv("CLAUDE_CONFIG_DIR")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert claude_code.default_projects_dir() == tmp_path / ".claude" / "projects"


def test_grown_session_keeps_old_ids_and_values(tmp_path):
    folder = tmp_path / "p"
    shutil.copytree(DATA / "-home-ana-src-my-app", folder)
    before, _ = _read(folder)
    with (folder / "s2.jsonl").open("a") as fh:
        fh.write(json.dumps({
            "parentUuid": "s2-a1", "isSidechain": False, "cwd": "/home/ana/src/my-app",
            "sessionId": "s2", "type": "user", "uuid": "s2-u2", "timestamp": "2026-02-01T09:05:00.000Z",
            "message": {"role": "user", "content": "One more thing"}}) + "\n")
    after, _ = _read(folder)
    old = {m["id"]: m for m in before["s2"]["messages"]}
    new = {m["id"]: m for m in after["s2"]["messages"]}
    assert set(new) - set(old) == {"s2-u2"}
    for mid, msg in old.items():
        assert records.message_document("s2", new[mid]) == records.message_document("s2", msg)


def test_project_of():
    assert claude_code.project_of("/home/ana/src/app/") == ("app", "/home/ana/src/app/")
    assert claude_code.project_of("D:\\work\\thing") == ("thing", "D:\\work\\thing")
    assert claude_code.project_of(None) == claude_code.UNKNOWN_PROJECT


def _resumed_project(tmp_path: Path) -> Path:
    """s2 plus s3, a resumed session whose file repeats s2's lines under its own sessionId."""
    folder = tmp_path / "-home-ana-src-my-app"
    folder.mkdir()
    shutil.copy(DATA / "-home-ana-src-my-app" / "s2.jsonl", folder / "s2.jsonl")
    copied = []
    for raw in (folder / "s2.jsonl").read_text().splitlines():
        line = json.loads(raw)
        if line.get("sessionId") == "s2" and "uuid" in line:
            copied.append(json.dumps(dict(line, sessionId="s3")))
    copied.append(json.dumps({
        "parentUuid": "s2-a1", "isSidechain": False, "cwd": "/home/ana/src/my-app", "sessionId": "s3",
        "type": "user", "uuid": "s3-u1", "timestamp": "2026-02-02T08:00:00.000Z",
        "message": {"role": "user", "content": "Picking up where we left off"}}))
    (folder / "s3.jsonl").write_text("\n".join(copied) + "\n")
    return folder


def test_resumed_session_copies_stay_in_the_earlier_session(tmp_path):
    convs, report = _read(_resumed_project(tmp_path))
    assert [m["id"] for m in convs["s2"]["messages"]] == ["s2-u1", "s2-a1"]
    assert [m["id"] for m in convs["s3"]["messages"]] == ["s3-u1"]
    assert convs["s3"]["messages"][0]["parent_id"] == "s2-a1"
    assert report.skipped["line copied from an earlier session"] == 2
    assert any(p.record == "s3" and "a resumed session" in p.message for p in report.warnings)


def _session_file(folder: Path, sid: str, day: int, extra: list[str] | None = None) -> None:
    lines = [json.dumps({"type": "user", "sessionId": sid, "uuid": f"{sid}-u", "cwd": "/p/x",
                         "timestamp": f"2026-04-0{day}T10:00:00.000Z",
                         "message": {"role": "user", "content": f"hello from {sid}"}})]
    (folder / f"{sid}.jsonl").write_text("\n".join(lines + (extra or [])) + "\n")


def test_sessions_are_built_one_at_a_time(tmp_path):
    folder = tmp_path / "-p-x"
    folder.mkdir()
    for day, sid in enumerate(["c", "a", "b"], start=1):
        _session_file(folder, sid, day)
    report = ReadReport()
    stream = read("claude_code", folder, report)
    first = next(stream)
    assert first["id"] == "c" and report.files == 1  # the other files are not parsed yet
    assert [c["id"] for c in stream] == ["a", "b"] and report.files == 3


def test_line_the_planning_pass_misread_is_reported(tmp_path):
    folder = tmp_path / "-p-x"
    folder.mkdir()
    _session_file(folder, "a", 1)
    # sessionId spelt with a JSON escape: the byte-level planner cannot see it is session "a".
    escaped = ('{"type": "user", "sessionId": "\\u0061", "uuid": "late", "cwd": "/p/x", '
               '"timestamp": "2026-04-01T11:00:00.000Z", "message": {"role": "user", "content": "x"}}')
    _session_file(folder, "b", 2, [escaped])
    convs, report = _read(folder)
    assert {k: c["message_count"] for k, c in convs.items()} == {"a": 1, "b": 1}
    assert report.skipped["late line"] == 1
    assert any(p.record == "late" and p.line == 2 for p in report.warnings)


def test_title_skips_command_echoes_and_caveats(tmp_path):
    def user(n: int, content: str, **extra: object) -> str:
        return json.dumps({"type": "user", "sessionId": "t", "uuid": f"t{n}", "cwd": "/p/x",
                           "timestamp": f"2026-04-01T10:00:0{n}.000Z",
                           "message": {"role": "user", "content": content}, **extra})
    (tmp_path / "t.jsonl").write_text("\n".join([
        user(1, "Caveat: The messages below were generated by the user while running local commands.",
             isMeta=True),
        user(2, "<command-name>/clear</command-name>\n<command-message>clear</command-message>"),
        user(3, "<local-command-stdout></local-command-stdout>"),
        user(4, "Refactor the CSV parser"),
    ]) + "\n")
    conv = next(read("claude_code", tmp_path, ReadReport()))
    assert conv["title"] == "Refactor the CSV parser"
    assert conv["message_count"] == 4


def test_zip_of_a_projects_folder_with_subagents(tmp_path):
    archive_path = tmp_path / "claude-projects.zip"
    with zipfile.ZipFile(archive_path, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(DATA.rglob("*.jsonl")):
            zf.write(f, "projects/" + f.relative_to(DATA).as_posix())
    assert detect(archive_path) == "claude_code"
    zipped, zreport = _read(archive_path)
    plain, preport = _read(DATA)
    assert list(zipped) == list(plain) == ["s1", "s2", "w1"]
    def docs(sid: str, conv: dict) -> list[dict]:
        out = [records.message_document(sid, m) for m in conv["messages"]]
        for d in out:  # the project folder: inside the zip, or on disk
            d["metadata"].pop("_project_path")
            d.pop("cwd")
        return out

    for sid in plain:
        assert docs(sid, zipped[sid]) == docs(sid, plain[sid])
        assert zipped[sid]["title"] == plain[sid]["title"] and zipped[sid]["summary"] == plain[sid]["summary"]
    assert zreport.skipped == preport.skipped and zreport.used == preport.used
    assert _skipped_lines(zreport) == [("projects/-home-ana-src-my-app/s1.jsonl", 13)]


def test_project_folder_copied_twice_yields_each_session_once(tmp_path):
    shutil.copytree(DATA / "-home-ana-src-my-app", tmp_path / "a-original")
    shutil.copytree(DATA / "-home-ana-src-my-app", tmp_path / "b-backup")
    _session_file(tmp_path / "b-backup", "s9", 5)
    convs, report = _read(tmp_path)
    assert [c for c in convs] == ["s1", "s2", "s9"]
    assert convs["s1"]["message_count"] == 15
    assert report.skipped["line copied from an earlier session"] == 11 + 2  # s1 (with its agent), s2
    assert report.skipped["line of a session read from another folder"] == 0
    ids = [m["id"] for c in convs.values() for m in c["messages"]]
    assert len(ids) == len(set(ids))
    # The same session id with other messages in a third folder: read once, the rest reported.
    (tmp_path / "c-other").mkdir()
    (tmp_path / "c-other" / "s9.jsonl").write_text(json.dumps({
        "type": "user", "sessionId": "s9", "uuid": "other", "cwd": "/p/x",
        "timestamp": "2026-04-09T10:00:00.000Z", "message": {"role": "user", "content": "x"}}) + "\n")
    convs, report = _read(tmp_path)
    assert convs["s9"]["message_count"] == 1
    assert report.skipped["line of a session read from another folder"] == 1
    assert any(p.record == "s9" and p.file == "c-other/s9.jsonl" for p in report.warnings)
