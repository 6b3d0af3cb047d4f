"""claude.ai and ChatGPT exports: the real claude.ai fixture and synthetic files for the edges
(branches, hidden nodes, tool role, unix float times, attachments, projects, the export zip)."""

from __future__ import annotations

import json
import zipfile
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from claudelens_nb import records
from claudelens_nb.reading import ReadReport
from claudelens_nb.sources import chatgpt, detect, read

DATA = Path(__file__).parent / "data" / "sources"


def _read(kind: str, path: Path) -> tuple[dict[str, dict], ReadReport]:
    report = ReadReport()
    return {c["id"]: c for c in read(kind, path, report)}, report


def _documents(conv: dict) -> list[dict]:
    return [records.message_document(conv["id"], m) for m in conv["messages"]]


# ---------------------------------------------------------------- claude.ai

def test_claude_ai_fixture(fixtures_dir):
    path = fixtures_dir / "claude-ai" / "conversations.json"
    assert detect(path) == "claude_ai"
    assert detect(path.parent) == "claude_ai"
    convs, report = _read("claude_ai", path)
    assert list(convs) == ["1db4c66e-b369-4e3a-96a9-6c16f8301ee8"]
    conv = convs["1db4c66e-b369-4e3a-96a9-6c16f8301ee8"]
    assert conv["title"] == "Bash Command for OpenAI API"
    assert (conv["project_name"], conv["project_path"]) == ("claude.ai", "claude.ai://")
    assert conv["created_at"] == datetime(2024, 10, 18, 5, 30, 10, 325000, tzinfo=UTC)
    assert conv["updated_at"] == datetime(2024, 10, 18, 5, 30, 22, 223000, tzinfo=UTC)
    assert conv["duration_seconds"] == 11.898
    assert conv["message_count"] == 2 and conv["cost_usd"] == Decimal(0)
    assert conv["metadata"] == {"custom_fields": {}, "account": {"uuid": "2a0434bc-651f-407a-bc74-bdc295dc009b"}}
    user, assistant = conv["messages"]
    assert (user["type"], assistant["type"]) == ("user", "assistant")
    assert user["content"] == "Turn this into a bash command\n\n[File: CleanShot 20241017 at 22.29.542x.png]"
    assert user["metadata"]["files"] == [{"file_name": "CleanShot 20241017 at 22.29.542x.png"}]
    assert user["metadata"]["attachments"] == []
    assert user["metadata"]["messageData"]["text"] == "Turn this into a bash command"
    assert assistant["content"].startswith(" To turn this into a bash command")
    assert assistant["parent_id"] == user["id"] == "22b34c9c-69c1-46ad-87da-71570a70f107"
    assert user["timestamp"] == datetime(2024, 10, 18, 5, 30, 20, 458000, tzinfo=UTC)
    # Both are stamped 05:30:20.458713 in the export: the answer is placed 1 ms later so that
    # ordering by time keeps the thread; the export's own time stays in messageData.
    assert assistant["timestamp"] == datetime(2024, 10, 18, 5, 30, 20, 459000, tzinfo=UTC)
    assert assistant["metadata"]["messageData"]["created_at"] == "2024-10-18T05:30:20.458713Z"
    assert not report.problems and report.files == 1
    docs = _documents(conv)
    assert docs[0]["files"] == user["metadata"]["files"] and docs[1]["parentUuid"] == docs[0]["uuid"]


def test_claude_ai_export_zip_with_branches():
    path = DATA / "claude-ai-export.zip"
    assert detect(path) == "claude_ai"
    convs, report = _read("claude_ai", path)
    assert list(convs) == ["cai-1", "cai-3"]
    assert report.skipped["empty conversation"] == 1
    conv = convs["cai-1"]
    assert [m["id"] for m in conv["messages"]] == ["m1", "m2", "m3b", "m4b"]
    assert [m["parent_id"] for m in conv["messages"]] == [None, "m1", "m2", "m3b"]
    m1, m2, _, m4b = conv["messages"]
    assert m1["content"] == "Hi, see the notes\n\n[Attachment: notes.txt]"
    assert m1["metadata"]["attachments"][0]["extracted_content"] == "buy milk"
    assert m2["content"] == "[Thinking]\nGreet back.\n\nHello!"
    assert m4b["content"] == 'Old pond\n\nTool: artifacts\n```json\n{"id": "haiku", "content": "frog jumps"}\n```'
    assert conv["branches"] == [{
        "fork_id": "m2", "leaf_id": "m4",
        "messages": [records.to_json_value(m) for m in conv["branches"][0]["messages"]],
    }]
    branch = conv["branches"][0]["messages"]
    assert [(m["id"], m["parent_id"], m["timestamp"]) for m in branch] == [
        ("m3", "m2", "2025-03-01T08:01:00.000Z"), ("m4", "m3", "2025-03-01T08:01:05.000Z")]
    json.dumps(conv["branches"])  # JSON-safe as stored
    research = convs["cai-3"]
    assert (research["project_name"], research["project_path"]) == ("Research", "claude.ai://project/proj-9")
    assert research["title"] == "Summarise the paper [File: paper.pdf]"  # derived: the name is empty
    for c in convs.values():
        _documents(c)


# ---------------------------------------------------------------- ChatGPT

@pytest.fixture(scope="module")
def gpt() -> tuple[dict[str, dict], ReadReport]:
    return _read("chatgpt", DATA / "chatgpt" / "conversations.json")


def test_chatgpt_visible_thread(gpt):
    convs, report = gpt
    assert list(convs) == ["chat-a", "chat-b"]
    conv = convs["chat-a"]
    assert [(m["id"], m["type"]) for m in conv["messages"]] == [
        ("sys0", "system"), ("u1", "user"), ("a1b", "tool_use"), ("t1", "tool_result"),
        ("a2", "assistant"), ("u3b", "user"), ("a3", "assistant")]
    assert [m["parent_id"] for m in conv["messages"]] == [None, "sys0", "u1", "a1b", "t1", "a2", "u3b"]
    by_id = {m["id"]: m for m in conv["messages"]}
    assert by_id["u1"]["timestamp"] == datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=UTC)
    assert by_id["sys0"]["timestamp"] == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)  # no time: the conversation's
    assert by_id["a1b"]["tool_name"] == "python" and by_id["a1b"]["content"] == "```python\nprint(2+2)\n```"
    assert by_id["a1b"]["tool_input"] == {"code": "print(2+2)"}
    assert by_id["t1"]["tool_name"] == "python" and by_id["t1"]["content"] == "4"
    assert by_id["a2"]["model"] == "gpt-4o" and by_id["u1"]["model"] is None
    assert conv["model"] == "gpt-4o"
    assert conv["title"] == "Arithmetic with branches"
    assert (conv["project_name"], conv["project_path"]) == ("ChatGPT", "chatgpt://")
    assert conv["duration_seconds"] == 41.5
    assert conv["metadata"]["default_model_slug"] == "gpt-4o" and "mapping" not in conv["metadata"]
    assert report.skipped == {"node without message": 3, "hidden message": 1, "empty system message": 1,
                              "empty conversation": 1}
    for c in convs.values():
        docs = _documents(c)
        assert all(d["messageData"]["id"] == d["uuid"] for d in docs)


def test_chatgpt_branches(gpt):
    conv = gpt[0]["chat-a"]
    assert [(b["fork_id"], b["leaf_id"], [m["id"] for m in b["messages"]]) for b in conv["branches"]] == [
        ("u1", "u2x", ["a1", "u2x"]), ("a2", "u3", ["u3"])]
    first = conv["branches"][0]["messages"]
    assert first[0]["parent_id"] == "u1" and first[0]["model"] == "gpt-4" and first[0]["content"] == "5"
    assert first[1]["timestamp"] == "2023-11-14T22:13:27.250Z"


def test_chatgpt_multimodal_and_missing_current_node(gpt):
    conv = gpt[0]["chat-b"]
    assert [m["content"] for m in conv["messages"]] == ["[Image]\nWhat is in this picture?", "A cat on a mat."]
    assert conv["title"] == "[Image] What is in this picture?"
    assert conv["created_at"] == datetime(2024, 3, 9, 16, 0, 0, 500000, tzinfo=UTC)


def test_chatgpt_content_types():
    assert chatgpt.content_text({"content_type": "thoughts", "thoughts": [{"summary": "s", "content": "deep"}]}) \
        == "[Thinking]\ndeep"
    assert chatgpt.content_text({"content_type": "tether_quote", "title": "T", "text": "q"}) == "T\nq"
    assert chatgpt.content_text({"content_type": "reasoning_recap", "content": "Thought for 3s"}) == "Thought for 3s"
    assert chatgpt.content_text({"content_type": "code", "language": "unknown", "text": "x"}) == "```\nx\n```"


def test_chatgpt_zip(tmp_path):
    archive = tmp_path / "chatgpt-export.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(DATA / "chatgpt" / "conversations.json", "conversations.json")
        zf.writestr("chat.html", "<html></html>")
        zf.writestr("user.json", json.dumps({"id": "user-1"}))
    assert detect(archive) == "chatgpt"
    convs, _ = _read("chatgpt", archive)
    assert list(convs) == ["chat-a", "chat-b"]


def test_broken_export_reports_and_keeps_what_came_before(tmp_path):
    good = json.loads((DATA / "chatgpt" / "conversations.json").read_text())[0]
    path = tmp_path / "conversations.json"
    path.write_text("[" + json.dumps(good) + ', {"title": "cut', encoding="utf-8")
    assert detect(path) == "chatgpt"
    convs, report = _read("chatgpt", path)
    assert list(convs) == ["chat-a"]
    assert report.errors and "after conversation 1" in report.errors[0].message
