"""JSON and JSONL exports on demo data: envelope, counts, order, lossless metadata, filters."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import bson
import orjson
from pymongo.database import Database

from claudelens_nb import Filter, iter_conversations, records
from claudelens_nb.exports import ExportOptions, export
from claudelens_nb.exports.encoding import encode_conversation
from claudelens_nb.exports.sanitize import Sanitizer
from claudelens_nb.store import collections as names
from claudelens_nb.store import message_collections
from claudelens_nb.store.schema import collection_for_write

KEEP = ExportOptions(remove_secrets=False)
CONV_KEYS = ["id", "external_id", "title", "summary", "project_id", "project_name", "project_path",
             "created_at", "updated_at", "duration_seconds", "model", "cost_usd", "message_count",
             "tags", "metadata", "messages", "branches", "parent_conversation_id"]
MSG_KEYS = ["id", "parent_id", "type", "content", "timestamp", "tokens", "cost_usd", "model",
            "tool_name", "tool_input", "is_sidechain", "metadata"]


def _stored_messages(db: Database) -> dict[str, dict]:
    opts = bson.CodecOptions(tz_aware=True, tzinfo=UTC)
    out = {}
    for coll in names.message_collections(db):
        for doc in coll.with_options(codec_options=opts).find({}):
            out[doc["uuid"]] = doc
    return out


def test_json_envelope_counts_order_and_lossless_metadata(seeded_db: Database) -> None:
    res = export(None, "json", options=KEEP, db=seeded_db)
    data = json.loads(res.path.read_text(encoding="utf-8"))
    assert list(data) == ["version", "export_date", "metadata", "conversations"]
    assert data["version"] == "1.0.0"
    assert datetime.fromisoformat(data["export_date"].replace("Z", "+00:00")).tzinfo
    meta = data["metadata"]
    assert list(meta) == ["total_conversations", "total_messages", "total_cost_usd", "date_range",
                          "filters", "generator"]
    assert meta["generator"] == "claudelens_nb 0.1.0"
    assert meta["total_conversations"] == 20 == len(data["conversations"]) == res.conversations
    assert meta["total_messages"] == 600 == res.messages
    stored_cost = sum(Decimal(str(s["totalCost"])) for s in seeded_db.sessions.find())
    assert meta["total_cost_usd"] == float(stored_cost)
    # Machine formats list conversations as one plain pass over the monthly collections
    # completes them: in the order their last messages are stored.
    stored_order = [d["uuid"] for c in message_collections(seeded_db) for d in c.find({}, {"uuid": 1})]
    place = {uuid: i for i, uuid in enumerate(stored_order)}
    last = [max(place[m["id"]] for m in c["messages"]) for c in data["conversations"]]
    assert last == sorted(last)
    assert meta["date_range"]["start"] == min(c["created_at"] for c in data["conversations"])

    stored = _stored_messages(seeded_db)
    seen = set()
    for conv in data["conversations"]:
        # Upstream's importer reads four fields by its own names: repeated after the rest.
        assert list(conv) == CONV_KEYS + ["projectId", "createdAt", "updatedAt", "costUsd"]
        assert [conv[k] for k in ("projectId", "createdAt", "updatedAt", "costUsd")] == [
            conv["project_id"], conv["created_at"], conv["updated_at"], conv["cost_usd"]]
        assert conv["title"] and conv["metadata"]["custom_fields"] == {}
        stamps = [m["timestamp"] for m in conv["messages"]]
        assert stamps == sorted(stamps)
        for m in conv["messages"]:
            assert list(m) == MSG_KEYS
            doc = stored[m["id"]]
            seen.add(m["id"])
            assert m["content"] == doc["content"] and m["type"] == doc["type"]
            assert m["metadata"]["messageData"] == records.to_json_value(doc["messageData"])
            assert m["metadata"].get("contentHash") == doc.get("contentHash")
            assert m["timestamp"] == records.iso(doc["timestamp"])
            if doc.get("costUsd") is not None:
                assert m["cost_usd"] == float(doc["costUsd"].to_decimal())
    assert seen == set(stored)
    # non-Latin text survives as text (ensure_ascii=False)
    raw = res.path.read_text(encoding="utf-8")
    assert "日本語" in raw and "Écris" in raw and "\\u" not in raw.split('"conversations"')[0]


def test_fast_encoder_matches_record_to_json(seeded_db: Database) -> None:
    changed = 0
    for batch in iter_conversations(None, 50, db=seeded_db):
        for conv in batch:
            plain = orjson.dumps(records.record_to_json(conv))
            assert encode_conversation(copy.deepcopy(conv)) == plain
            assert json.loads(plain) == json.loads(json.dumps(records.record_to_json(conv)))
            expected = copy.deepcopy(conv)
            Sanitizer().conversations([expected])
            want = orjson.dumps(records.record_to_json(expected))
            assert encode_conversation(copy.deepcopy(conv), Sanitizer()) == want
            changed += want != plain
    assert changed  # the demo data has secrets, so the sanitising path ran


def test_output_is_deterministic_apart_from_export_date(seeded_db: Database) -> None:
    a = export(None, "json", db=seeded_db).path.read_text(encoding="utf-8")
    b = export(None, "json", db=seeded_db).path.read_text(encoding="utf-8")

    def strip(text: str) -> str:
        head, rest = text.split('"export_date":"', 1)
        return head + rest.split('"', 1)[1]

    assert strip(a) == strip(b)


def test_jsonl_meta_line_then_one_conversation_per_line(seeded_db: Database) -> None:
    res = export({"projects": ["my-app"]}, "jsonl", db=seeded_db)
    lines = res.path.read_text(encoding="utf-8").splitlines()
    meta = json.loads(lines[0])["_meta"]
    assert meta["version"] == "1.0.0" and meta["metadata"]["filters"] == {"projects": ["my-app"]}
    convs = [json.loads(x) for x in lines[1:]]
    assert len(convs) == meta["metadata"]["total_conversations"] == res.conversations > 0
    assert {c["project_name"] for c in convs} == {"my-app"}
    assert sum(len(c["messages"]) for c in convs) == meta["metadata"]["total_messages"]


def test_secrets_removed_by_default_and_kept_on_request(seeded_db: Database) -> None:
    key = "sk-ant-api03-Zx9vQ2demoKEYdoNotUse"
    clean = export(None, "json", db=seeded_db).path.read_text(encoding="utf-8")
    assert key not in clean and "[REDACTED:anthropic_key]" in clean
    kept = export(None, "json", options={"remove_secrets": False}, db=seeded_db)
    assert key in kept.path.read_text(encoding="utf-8")


SECRETS = {
    "anthropic_key": "sk-ant-api03-Zx9vQ2demoKEYdoNotUse",
    "openai_key": "sk-proj-abcdefghijklmnop1234",
    "github_token": "github_pat_11ABCDEFG0123456789abcdefXYZ",
    "slack_token": "xoxb-1234567890-abcdefghij",
    "aws_access_key": "AKIAABCDEFGHIJKLMNOP",
}


def test_every_secret_kind_is_found_in_text_and_in_encoded_json() -> None:
    for kind, secret in {**SECRETS, "bearer": "Bearer abcdefgh12345678",
                         "password": "PASSWORD=hunter2hunter2"}.items():
        text = f"see {secret} here"
        assert kind in Sanitizer().text(text) and secret not in Sanitizer().text(text), kind
        msgs = [{"content": "nothing"}, {"content": text}, {"content": "nothing"}]
        assert Sanitizer().to_check([orjson.dumps(m) for m in msgs]) == [1], kind


def test_pii_redaction_and_anonymising(seeded_db: Database) -> None:
    plain = export(None, "json", db=seeded_db).path.read_text(encoding="utf-8")
    assert "ana.lopez@example.com" in plain and "415 555 0134" in plain
    red = export(None, "json", options={"redact_pii": True, "anonymize": True}, db=seeded_db)
    text = red.path.read_text(encoding="utf-8")
    assert "ana.lopez@example.com" not in text and "415 555 0134" not in text
    assert "[REDACTED:phone]" in text and "/home/ana/" not in text
    data = json.loads(text)
    user_types = {m["metadata"].get("userType") for c in data["conversations"] for m in c["messages"]}
    assert "external" not in user_types and all(u.startswith("user-") for u in user_types if u)
    again = json.loads(export(None, "json", options={"anonymize": True}, db=seeded_db)
                       .path.read_text(encoding="utf-8"))
    assert again["conversations"][0]["project_path"] == data["conversations"][0]["project_path"]


def test_include_options(seeded_db: Database) -> None:
    no_tools = json.loads(export(None, "json", options={"include_tool_calls": False}, db=seeded_db)
                          .path.read_text(encoding="utf-8"))
    types = {m["type"] for c in no_tools["conversations"] for m in c["messages"]}
    assert types and not types & {"tool_use", "tool_result"}
    assert no_tools["metadata"]["total_messages"] == sum(len(c["messages"]) for c in no_tools["conversations"])
    no_msgs = json.loads(export(None, "json", options={"include_messages": False}, db=seeded_db)
                         .path.read_text(encoding="utf-8"))
    assert all(c["messages"] == [] and c["message_count"] == 30 for c in no_msgs["conversations"])
    no_meta = json.loads(export(None, "jsonl", options={"include_metadata": False}, db=seeded_db)
                         .path.read_text(encoding="utf-8").splitlines()[1])
    assert no_meta["metadata"] == {"custom_fields": {}}
    assert all(m["metadata"] == {} for m in no_meta["messages"])


def _add_conversation(db: Database, sid: str, start: datetime) -> None:
    msgs = []
    for i in range(2):
        msg = {"id": f"{sid}-m{i}", "parent_id": None, "type": "user" if i == 0 else "assistant",
               "content": f"message {i}", "timestamp": start + timedelta(seconds=i * 20),
               "tokens": {}, "metadata": {}}
        msgs.append(records.message_document(sid, msg))
    for doc in msgs:
        collection_for_write(db, doc["timestamp"]).insert_one(doc)
    pid = db.projects.insert_one({"name": "edge", "path": f"/tmp/{sid}"}).inserted_id
    session = records.session_document({"id": sid, "created_at": start, "messages": []}, pid)
    session.update(records.session_stats(msgs))
    db.sessions.insert_one(session)


def test_filters_include_the_whole_end_day(db: Database) -> None:
    _add_conversation(db, "late", datetime(2026, 3, 10, 23, 59, 30, tzinfo=UTC))
    _add_conversation(db, "next-day", datetime(2026, 3, 11, 0, 0, 1, tzinfo=UTC))
    _add_conversation(db, "early", datetime(2026, 3, 9, 23, 59, 59, tzinfo=UTC))
    res = export(Filter(since="2026-03-10", until="2026-03-10"), "json", db=db)
    data = json.loads(res.path.read_text(encoding="utf-8"))
    assert [c["id"] for c in data["conversations"]] == ["late"]
    assert data["metadata"]["filters"] == {"since": "2026-03-10", "until": "2026-03-10"}
    res = export({"conversation_ids": ["early", "next-day"]}, "jsonl", db=db)
    assert res.conversations == 2 and res.messages == 4


def test_message_type_filter_counts_match(seeded_db: Database) -> None:
    res = export({"message_types": ["assistant"]}, "json", db=seeded_db)
    data = json.loads(res.path.read_text(encoding="utf-8"))
    got = sum(len(c["messages"]) for c in data["conversations"])
    stored = sum(c.count_documents({"type": "assistant"}) for c in names.message_collections(seeded_db))
    assert got == stored == data["metadata"]["total_messages"] == res.messages
