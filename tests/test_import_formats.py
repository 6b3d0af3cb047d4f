"""What is accepted and how it is read: kinds from content, mapping, validation rules, sources."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from test_import_helpers import snapshot, write_json, write_jsonl

from claudelens_nb import pricing, records
from claudelens_nb.errors import ValidationFailed
from claudelens_nb.imports import TARGET_FIELDS, import_file, undo_import, validate_file
from claudelens_nb.imports.canonical import parse_timestamp


def _conv(cid="c-1", **over):
    conv = {"id": cid, "title": "Hello", "created_at": "2026-03-01T10:00:00.000Z",
            "messages": [
                {"id": f"{cid}-u", "type": "user", "content": "Question?",
                 "timestamp": "2026-03-01T10:00:00.000Z"},
                {"id": f"{cid}-a", "parent_id": f"{cid}-u", "type": "assistant", "content": "Answer.",
                 "timestamp": "2026-03-01T10:00:05.000Z", "model": "claude-sonnet-4-5-20250929",
                 "tokens": {"input": 1000, "output": 2000, "cache_creation": 0, "cache_read": 0},
                 "cost_usd": 0.033},
            ]}
    conv.update(over)
    return conv


def _messages(db, cid):
    out = []
    for name in db.list_collection_names():
        if name.startswith("messages"):
            out.extend(db[name].find({"sessionId": cid}))
    return sorted(out, key=lambda d: d["timestamp"])


# ---------------------------------------------------------------- kinds

def test_target_fields_list():
    assert TARGET_FIELDS[-1] == "skip"
    for f in ("id", "created_at", "messages", "title", "metadata", "message.content",
              "message.timestamp", "message.type"):
        assert f in TARGET_FIELDS


def test_claudelens_older_json_with_synonyms(db, tmp_path):
    old = {"conversations": [{
        "sessionId": "old-1", "name": "Old style", "createdAt": 1767225600, "costUsd": 0.5,
        "messageCount": 2, "color": "blue",
        "msgs": [
            {"uuid": "o1", "role": "user", "text": "hi", "createdAt": 1767225600000},
            {"uuid": "o2", "role": "assistant", "text": "hello", "createdAt": "2026-01-01T00:00:09Z",
             "costUsd": "0.25", "model": "claude-haiku-4-5"},
        ]}]}
    p = tmp_path / "old.json"
    p.write_text(json.dumps(old))
    report = validate_file(p, db=db)
    assert report.kind == "claudelens_json" and report.ok
    mapping = {m.source: m.target for m in report.mapping}
    assert mapping["sessionId"] == "id" and mapping["name"] == "title"
    assert mapping["msgs"] == "messages" and mapping["createdAt"] == "created_at"
    assert mapping["message.role"] == "message.type" and mapping["message.text"] == "message.content"
    assert mapping["color"] == "metadata"
    samples = {m.source: m.samples for m in report.mapping}
    assert samples["name"] == ["Old style"]
    import_file(p, db=db)
    s = db.sessions.find_one({"sessionId": "old-1"})
    assert s["title"] == "Old style" and s["color"] == "blue"  # unknown field kept
    assert s["messageCount"] == 2 and s["totalCost"].to_decimal() == Decimal("0.25")
    msgs = _messages(db, "old-1")
    assert [m["uuid"] for m in msgs] == ["o1", "o2"]
    assert msgs[0]["timestamp"] == datetime(2026, 1, 1, tzinfo=UTC)


def test_mapping_overrides_and_skip(db, tmp_path):
    conv = _conv()
    conv["headline"] = "The real title"
    conv["secret"] = "do not keep"
    conv["messages"][0]["body"] = conv["messages"][0].pop("content")
    p = write_json(tmp_path / "m.json", [conv])
    import_file(p, db=db, mapping={"headline": "title", "title": "skip", "secret": "skip",
                                   "message.body": "message.content"})
    s = db.sessions.find_one({"sessionId": "c-1"})
    assert s["title"] == "The real title" and "secret" not in s and "headline" not in s
    assert _messages(db, "c-1")[0]["content"] == "Question?"
    job = db.import_jobs.find_one({})
    assert {"source": "headline", "target": "title"} in job["mapping"]


def test_bad_mapping_target_is_refused(db, tmp_path):
    p = write_json(tmp_path / "m.json", [_conv()])
    with pytest.raises(ValidationFailed, match="unknown target"):
        validate_file(p, mapping={"title": "headline"}, db=db)


def test_missing_id_names_the_mapping(db, tmp_path):
    conv = _conv()
    conv["key"] = conv.pop("id")
    p = write_json(tmp_path / "m.json", [conv])
    report = validate_file(p, db=db)
    assert not report.ok and "map a field to 'id'" in str(report.errors[0])
    assert validate_file(p, mapping={"key": "id"}, db=db).ok


def test_jsonl_with_and_without_meta_and_kind_from_content(db, tmp_path):
    write_jsonl(tmp_path / "a.jsonl", [_conv("j1"), _conv("j2")])
    assert validate_file(tmp_path / "a.jsonl", db=db).kind == "jsonl"
    # JSONL content under a .json name is still JSONL.
    write_jsonl(tmp_path / "b.json", [_conv("j3")], meta=False)
    assert validate_file(tmp_path / "b.json", db=db).kind == "jsonl"
    assert import_file(tmp_path / "b.json", db=db).inserted == 1


def test_malformed_jsonl_line_is_an_error_with_its_line(db, tmp_path):
    p = tmp_path / "bad.jsonl"
    p.write_text(json.dumps(_conv("x")) + "\n{not json\n")
    report = validate_file(p, db=db)
    assert not report.ok
    assert report.errors[0].line == 2 and "malformed JSON" in report.errors[0].message


def test_bare_list_of_conversations(db, tmp_path):
    p = tmp_path / "list.json"
    p.write_text(json.dumps([_conv("l1"), _conv("l2")]))
    assert validate_file(p, db=db).kind == "json_array"
    assert import_file(p, db=db).inserted == 2


def test_folder_of_our_jsonl(db, tmp_path):
    folder = tmp_path / "exports"
    folder.mkdir()
    write_jsonl(folder / "one.jsonl", [_conv("f1")])
    write_jsonl(folder / "two.jsonl", [_conv("f2")])
    (folder / "notes.txt").write_text("ignored")
    assert import_file(folder, db=db).inserted == 2


# ---------------------------------------------------------------- values

@pytest.mark.parametrize(("value", "expected"), [
    ("2026-03-01T10:00:00Z", datetime(2026, 3, 1, 10, tzinfo=UTC)),
    ("2026-03-01T12:00:00+02:00", datetime(2026, 3, 1, 10, tzinfo=UTC)),
    (1772359200, datetime(2026, 3, 1, 10, tzinfo=UTC)),
    (1772359200000, datetime(2026, 3, 1, 10, tzinfo=UTC)),
    ("1772359200.5", datetime(2026, 3, 1, 10, 0, 0, 500000, tzinfo=UTC)),
])
def test_timestamp_forms(value, expected):
    assert parse_timestamp(value, datetime.now(UTC)) == expected


def test_relative_timestamps_use_one_fixed_now():
    base = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
    assert parse_timestamp("2 days ago", base) == datetime(2026, 6, 13, 12, 0, tzinfo=UTC)
    assert parse_timestamp("3 hours ago", base) == datetime(2026, 6, 15, 9, 0, tzinfo=UTC)
    assert parse_timestamp("not a time at all", base) is None


def test_relative_timestamps_in_a_file(db, tmp_path):
    conv = _conv()
    conv["created_at"] = "2 days ago"
    for m in conv["messages"]:
        m["timestamp"] = "2 days ago"
    p = write_json(tmp_path / "rel.json", [conv])
    import_file(p, db=db)
    started = db.sessions.find_one({})["startedAt"]
    assert abs(started - (datetime.now(UTC) - timedelta(days=2))) < timedelta(minutes=2)


def test_unknown_message_type_becomes_system_with_a_warning(db, tmp_path):
    conv = _conv()
    conv["messages"][0]["type"] = "human"
    p = write_json(tmp_path / "t.json", [conv])
    report = validate_file(p, db=db)
    assert report.ok and report.warning_count == 1
    assert "'human'" in str(report.warnings[0]) and "stored as system" in str(report.warnings[0])
    import_file(p, db=db)
    m = _messages(db, "c-1")[0]
    assert m["type"] == "system" and m["originalType"] == "human"


def test_missing_cost_is_computed_from_tokens(db, tmp_path):
    conv = _conv()
    del conv["messages"][1]["cost_usd"]
    p = write_json(tmp_path / "c.json", [conv])
    import_file(p, db=db)
    expected = pricing.cost_from_usage("claude-sonnet-4-5-20250929",
                                       {"input_tokens": 1000, "output_tokens": 2000})
    assert _messages(db, "c-1")[1]["costUsd"].to_decimal() == expected == Decimal("0.03300000")


def test_unknown_model_is_flagged_never_zero(db, tmp_path):
    conv = _conv()
    del conv["messages"][1]["cost_usd"]
    conv["messages"][1]["model"] = "gpt-9-turbo"
    p = write_json(tmp_path / "c.json", [conv])
    report = validate_file(p, db=db)
    assert report.ok and "no price for model 'gpt-9-turbo'" in str(report.warnings[0])
    assert report.warnings[0].record == "c-1" and "cost_usd" in report.warnings[0].field
    import_file(p, db=db)
    assert "costUsd" not in _messages(db, "c-1")[1]


def test_report_stats_and_dict(db, tmp_path):
    p = write_json(tmp_path / "s.json", [_conv("s1"), _conv("s2")])
    report = validate_file(p, db=db)
    assert report.stats["conversations"] == 2 and report.stats["messages"] == 4
    assert report.stats["total_cost"] == pytest.approx(0.066)
    assert report.stats["date_range"] == (datetime(2026, 3, 1, 10, tzinfo=UTC),
                                          datetime(2026, 3, 1, 10, 0, 5, tzinfo=UTC))
    d = report.to_dict()
    assert d["ok"] is True and d["kind"] == "json" and d["file_name"] == "s.json"
    assert snapshot(db, bookkeeping=True) == {}


def test_csv_neutralised_cells_are_restored_exactly(db, tmp_path):
    p = tmp_path / "messages.csv"
    p.write_text(
        "conversation_id,message_id,parent_id,type,role,content,timestamp,tokens_input,"
        "tokens_output,tokens_cache_creation,tokens_cache_read,cost_usd,model,tool_name\r\n"
        "k1,k1-a,,user,user,'=SUM(A1:A9),2026-01-01T00:00:00.000Z,,,,,,,\r\n"
        "k1,k1-b,k1-a,assistant,assistant,''+1 (already quoted),2026-01-01T00:00:01.000Z,"
        "10,20,0,0,0.0003,claude-haiku-4-5,\r\n"
        "k1,k1-c,k1-b,user,user,'don't touch,2026-01-01T00:00:02.000Z,,,,,,,\r\n",
        encoding="utf-8")
    report = validate_file(p, db=db)
    assert report.kind == "csv" and report.ok, report.errors
    import_file(p, db=db)
    contents = [m["content"] for m in _messages(db, "k1")]
    assert contents == ["=SUM(A1:A9)", "'+1 (already quoted)", "'don't touch"]


def test_csv_limits(db, tmp_path):
    from claudelens_nb.security import Limits

    p = tmp_path / "messages.csv"
    rows = "".join(f"k1,m{i},user,x,2026-01-01T00:00:{i:02d}Z\r\n" for i in range(4))
    p.write_text("conversation_id,message_id,type,content,timestamp\r\n" + rows)
    with pytest.raises(Exception, match="more than 3 messages"):
        import_file(p, db=db, limits=Limits(csv_messages=3))
    assert snapshot(db, bookkeeping=True) == {}


# ---------------------------------------------------------------- external sources

def test_claude_code_folder_goes_through_the_same_engine(db, tmp_path, fixtures_dir):
    folder = tmp_path / "projects" / "-home-ana-src-demo"
    folder.mkdir(parents=True)
    for f in ("representative_messages.jsonl", "session_b.jsonl"):
        shutil.copy(fixtures_dir / "claude-code-log" / f, folder / f)
    report = validate_file(tmp_path / "projects", db=db)
    assert report.kind == "claude_code" and report.ok, report.errors
    first = import_file(tmp_path / "projects", db=db)
    assert first.inserted == report.stats["conversations"] > 0
    assert first.messages_written == report.stats["messages"]
    for s in db.sessions.find({}):
        assert s["messageCount"] == len(_messages(db, s["sessionId"]))
    before = snapshot(db)
    second = import_file(tmp_path / "projects", db=db, strategy="merge")
    assert second.inserted == 0 and snapshot(db) == before
    undo_import(second.job_id, db=db)
    undo_import(first.job_id, db=db)
    assert db.sessions.count_documents({}) == 0


def test_claude_ai_export_detected_from_content(db, tmp_path, fixtures_dir):
    p = tmp_path / "anything.json"
    shutil.copy(fixtures_dir / "claude-ai" / "conversations.json", p)
    report = validate_file(p, db=db)
    assert report.kind == "claude_ai" and report.ok, report.errors
    result = import_file(p, db=db)
    assert result.inserted == report.stats["conversations"] == 1
    cid = db.sessions.find_one({})["sessionId"]
    assert len(_messages(db, cid)) == report.stats["messages"]


def test_zip_of_claude_code_transcripts(db, tmp_path, fixtures_dir):
    import zipfile

    p = tmp_path / "cc.zip"
    with zipfile.ZipFile(p, "w") as zf:
        zf.write(fixtures_dir / "claude-code-log" / "session_b.jsonl", "projects/-x/session_b.jsonl")
    report = validate_file(p, db=db)
    assert report.kind == "claude_code" and report.archive and report.ok
    assert import_file(p, db=db).inserted == report.stats["conversations"]


def test_costs_keep_eight_places(db, tmp_path):
    p = write_json(tmp_path / "c.json", [_conv()])
    import_file(p, db=db)
    stored = _messages(db, "c-1")[1]["costUsd"].to_decimal()
    assert str(stored) == "0.03300000"
    assert records.money_float(db.sessions.find_one({})["totalCost"]) == 0.033
