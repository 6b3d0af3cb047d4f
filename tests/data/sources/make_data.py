"""Writes the synthetic source files next to this script (run once; the output is committed).

Each file holds an edge the real fixtures in ../shared/fixtures lack; see README.md.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
CWD = "/home/ana/src/my-app"
WIN_CWD = "C:\\Users\\ana\\proj-win"


def _jsonl(path: Path, lines: list) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    out = []
    for line in lines:
        out.append(line if isinstance(line, str) else json.dumps(line, ensure_ascii=False))
    path.write_text("\n".join(out) + "\n", encoding="utf-8")


def _line(kind: str, uuid: str, parent: str | None, ts: str, session: str, message, **extra) -> dict:
    line = {
        "parentUuid": parent, "isSidechain": False, "userType": "external", "cwd": CWD,
        "sessionId": session, "version": "2.0.50", "gitBranch": "main", "type": kind,
        "message": message, "uuid": uuid, "timestamp": ts,
    }
    line.update(extra)
    return line


def _user(uuid, parent, ts, session, content, **extra):
    return _line("user", uuid, parent, ts, session, {"role": "user", "content": content}, **extra)


def _assistant(uuid, parent, ts, session, msg_id, model, content, usage, **extra):
    message = {"id": msg_id, "type": "message", "role": "assistant", "model": model,
               "content": content, "stop_reason": None, "stop_sequence": None, "usage": usage}
    return _line("assistant", uuid, parent, ts, session, message, **extra)


def claude_code() -> None:
    root = HERE / "claude-code" / "projects"
    proj = root / "-home-ana-src-my-app"
    opus_usage = {
        "input_tokens": 10, "cache_creation_input_tokens": 3000, "cache_read_input_tokens": 5000,
        "output_tokens": 200, "service_tier": "standard",
        "cache_creation": {"ephemeral_5m_input_tokens": 1000, "ephemeral_1h_input_tokens": 2000},
    }
    s1 = [
        {"type": "file-history-snapshot", "messageId": "u1", "snapshot": {"messageId": "u1",
         "trackedFileBackups": {}, "timestamp": "2026-01-10T10:00:00.000Z"}, "isSnapshotUpdate": False},
        _user("u1", None, "2026-01-10T10:00:00.000Z", "s1", "Fix the flaky bug in parser.py"),
        _assistant("a1", "u1", "2026-01-10T10:00:05.000Z", "s1", "msg_A1", "claude-opus-4-5-20251101", [
            {"type": "thinking", "thinking": "The test fails on Windows line endings.", "signature": "sig"},
            {"type": "text", "text": "Let me run the tests."},
            {"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {"command": "pytest -q"}},
        ], opus_usage, requestId="req_A1"),
        # The same API response written as a second line: its usage must count once.
        _assistant("a1b", "a1", "2026-01-10T10:00:05.500Z", "s1", "msg_A1", "claude-opus-4-5-20251101", [
            {"type": "tool_use", "id": "toolu_2", "name": "Read", "input": {"file_path": "parser.py"}},
        ], opus_usage, requestId="req_A1"),
        {"type": "progress", "uuid": "p1", "parentUuid": "a1b", "sessionId": "s1",
         "timestamp": "2026-01-10T10:00:06.000Z", "data": {"type": "bash_progress", "output": "..."},
         "toolUseID": "toolu_1"},
        _user("r1", "a1b", "2026-01-10T10:00:08.000Z", "s1", [
            {"type": "tool_result", "tool_use_id": "toolu_1", "content": "1 failed, 47 passed"},
            {"type": "tool_result", "tool_use_id": "toolu_2",
             "content": [{"type": "text", "text": "def parse(line):\n    return line.split(',')"}]},
        ], toolUseResult={"stdout": "1 failed, 47 passed", "stderr": "", "interrupted": False}),
        {"type": "attachment", "uuid": "att1", "parentUuid": "r1", "sessionId": "s1",
         "timestamp": "2026-01-10T10:00:08.100Z", "attachment": {"type": "todo", "content": []}},
        {"type": "queue-operation", "operation": "enqueue", "timestamp": "2026-01-10T10:00:09.000Z",
         "sessionId": "s1", "content": "also check the docs"},
        _assistant("a2", "r1", "2026-01-10T10:00:20.000Z", "s1", "msg_A2", "claude-sonnet-4-5-20250929",
                   [{"type": "text", "text": "Fixed: strip '\\r' before splitting."}],
                   {"input_tokens": 50, "output_tokens": 30, "cache_creation_input_tokens": 0,
                    "cache_read_input_tokens": 0}, requestId="req_A2", costUSD=0.5),
        {"parentUuid": "a2", "isSidechain": False, "userType": "external", "cwd": CWD, "sessionId": "s1",
         "version": "2.0.50", "gitBranch": "main", "type": "system", "subtype": "compact_boundary",
         "content": "Conversation compacted", "isMeta": False, "timestamp": "2026-01-10T10:01:00.000Z",
         "uuid": "sys1", "level": "info", "compactMetadata": {"trigger": "auto", "preTokens": 150000}},
        {"type": "ai-title", "aiTitle": "Fix the flaky parser bug", "sessionId": "s1"},
        _assistant("a3", "sys1", "2026-01-10T10:01:10.000Z", "s1", "msg_A3", "claude-experimental-9",
                   [{"type": "text", "text": "Anything else?"}],
                   {"input_tokens": 7, "output_tokens": 3}, requestId="req_A3"),
        '{"type": "user", "uuid": "broken", "timestamp": ',
        _user("u2", "a3", "2026-01-10T10:02:00.000Z", "s1", "Thanks, that's all."),
    ]
    _jsonl(proj / "s1.jsonl", s1)
    agent = [
        _user("sa-u1", None, "2026-01-10T10:00:30.000Z", "s1", "Search for CRLF handling",
              isSidechain=True, agentId="abc"),
        _assistant("sa-a1", "sa-u1", "2026-01-10T10:00:31.000Z", "s1", "msg_SA1", "claude-haiku-4-5-20251001",
                   [{"type": "tool_use", "id": "toolu_9", "name": "Grep", "input": {"pattern": "\\r\\n"}}],
                   {"input_tokens": 100, "output_tokens": 50}, requestId="req_SA1", isSidechain=True,
                   agentId="abc"),
        _user("sa-r1", "sa-a1", "2026-01-10T10:00:32.000Z", "s1",
              [{"type": "tool_result", "tool_use_id": "toolu_9", "content": "parser.py:12"}],
              isSidechain=True, agentId="abc"),
    ]
    _jsonl(proj / "s1" / "subagents" / "agent-abc.jsonl", agent)
    s2 = [
        {"type": "summary", "summary": "Fixed the flaky parser bug", "leafUuid": "u2"},
        {"type": "summary", "summary": "Orphan summary", "leafUuid": "no-such-uuid"},
        _user("s2-u1", None, "2026-02-01T09:00:00.000Z", "s2", "Write the changelog"),
        _assistant("s2-a1", "s2-u1", "2026-02-01T09:00:10.000Z", "s2", "msg_S2A1", "claude-sonnet-4-5-20250929",
                   [{"type": "text", "text": "Done: CHANGELOG.md updated."}],
                   {"input_tokens": 1000, "output_tokens": 100, "cache_creation_input_tokens": 0,
                    "cache_read_input_tokens": 20000}, requestId="req_S2A1"),
        {"type": "ai-title", "aiTitle": "Changelog update", "sessionId": "s2"},
        {"type": "custom-title", "customTitle": "Release notes", "sessionId": "s2"},
        {"type": "last-prompt", "lastPrompt": "Write the changelog", "sessionId": "s2"},
        {"type": "summary", "summary": "Changelog written", "leafUuid": "s2-a1"},
    ]
    _jsonl(proj / "s2.jsonl", s2)
    win = [
        _user("w-u1", None, "2026-03-05T12:00:00.000Z", "w1", "hola", cwd=WIN_CWD),
        _assistant("w-a1", "w-u1", "2026-03-05T12:00:01.000Z", "w1", "msg_W1", "<synthetic>",
                   [{"type": "text", "text": "No response requested."}],
                   {"input_tokens": 0, "output_tokens": 0, "cache_creation_input_tokens": 0,
                    "cache_read_input_tokens": 0}, cwd=WIN_CWD),
    ]
    _jsonl(root / "C--Users-ana-proj-win" / "w1.jsonl", win)


def _node(nid, parent, children, message):
    return {"id": nid, "message": message, "parent": parent, "children": children}


def _msg(mid, role, t, content, *, model=None, hidden=False, recipient="all", name=None):
    meta = {}
    if model:
        meta["model_slug"] = model
    if hidden:
        meta["is_visually_hidden_from_conversation"] = True
    return {"id": mid, "author": {"role": role, "name": name, "metadata": {}}, "create_time": t,
            "update_time": None, "content": content, "status": "finished_successfully",
            "end_turn": None, "weight": 1.0, "metadata": meta, "recipient": recipient, "channel": None}


def _text(*parts):
    return {"content_type": "text", "parts": list(parts)}


def chatgpt() -> None:
    t0 = 1700000000.0
    nodes = [
        _node("root", None, ["sys0"], None),
        _node("sys0", "root", ["ctx"], _msg("sys0", "system", None, _text("Be concise."))),
        _node("ctx", "sys0", ["u1"], _msg("ctx", "user", None, {
            "content_type": "user_editable_context", "user_profile": "I am Ana.",
            "user_instructions": "Answer briefly."}, hidden=True)),
        _node("u1", "ctx", ["a1", "a1b"], _msg("u1", "user", t0 + 0.123456, _text("What's 2+2?"))),
        _node("a1", "u1", ["u2x"], _msg("a1", "assistant", t0 + 5.5, _text("5"), model="gpt-4")),
        _node("u2x", "a1", [], _msg("u2x", "user", t0 + 7.25, _text("That is wrong"))),
        _node("a1b", "u1", ["t1"], _msg("a1b", "assistant", t0 + 10.25, {
            "content_type": "code", "language": "python", "text": "print(2+2)"},
            model="gpt-4o", recipient="python")),
        _node("t1", "a1b", ["a2"], _msg("t1", "tool", t0 + 11.0, {
            "content_type": "execution_output", "text": "4"}, name="python")),
        _node("a2", "t1", ["u3", "u3b"], _msg("a2", "assistant", t0 + 12.75, _text("It's 4."), model="gpt-4o")),
        _node("u3", "a2", [], _msg("u3", "user", t0 + 30.0, _text("Thanks"))),
        _node("u3b", "a2", ["sysE"], _msg("u3b", "user", t0 + 40.0, _text("And 3+3?"))),
        _node("sysE", "u3b", ["a3"], _msg("sysE", "system", t0 + 40.5, _text(""))),
        _node("a3", "sysE", [], _msg("a3", "assistant", t0 + 41.5, _text("6"), model="gpt-4o")),
    ]
    conv_a = {
        "title": "Arithmetic with branches", "create_time": t0, "update_time": t0 + 41.5,
        "mapping": {n["id"]: n for n in nodes}, "moderation_results": [], "current_node": "a3",
        "plugin_ids": None, "conversation_id": "chat-a", "conversation_template_id": None,
        "gizmo_id": None, "is_archived": False, "safe_urls": [], "default_model_slug": "gpt-4o",
        "id": "chat-a",
    }
    t1 = 1710000000.5
    nodes_b = [
        _node("rb", None, ["ub"], None),
        _node("ub", "rb", ["ab"], _msg("ub", "user", t1, {"content_type": "multimodal_text", "parts": [
            {"content_type": "image_asset_pointer", "asset_pointer": "file-service://file-1",
             "width": 100, "height": 80}, "What is in this picture?"]})),
        _node("ab", "ub", [], _msg("ab", "assistant", t1 + 3.0, _text("A cat on a mat."),
                                   model="gpt-4o-mini")),
    ]
    conv_b = {"title": "", "create_time": t1, "update_time": t1 + 3.0,
              "mapping": {n["id"]: n for n in nodes_b}, "conversation_id": "chat-b", "id": "chat-b"}
    conv_c = {"title": "Nothing here", "create_time": t1, "update_time": t1,
              "mapping": {"rc": _node("rc", None, [], None)}, "current_node": "rc",
              "conversation_id": "chat-c", "id": "chat-c"}
    out = HERE / "chatgpt" / "conversations.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps([conv_a, conv_b, conv_c], indent=1, ensure_ascii=False), encoding="utf-8")


def _cmsg(uuid, sender, ts, text, parent=None, content=None, attachments=(), files=()):
    msg = {"uuid": uuid, "text": text, "content": content or [{"type": "text", "text": text}],
           "sender": sender, "created_at": ts, "updated_at": ts,
           "attachments": list(attachments), "files": list(files)}
    if parent is not None:
        msg["parent_message_uuid"] = parent
    return msg


def claude_ai() -> None:
    root = "00000000-0000-4000-8000-000000000000"
    conv1 = {
        "uuid": "cai-1", "name": "Poems", "summary": "", "created_at": "2025-03-01T08:00:00.000000Z",
        "updated_at": "2025-03-01T08:10:00.000000Z", "account": {"uuid": "acc-1"},
        "chat_messages": [
            _cmsg("m1", "human", "2025-03-01T08:00:01.000000Z", "Hi, see the notes", root,
                  attachments=[{"file_name": "notes.txt", "file_size": 12, "file_type": "txt",
                                "extracted_content": "buy milk"}]),
            _cmsg("m2", "assistant", "2025-03-01T08:00:02.000000Z", "Hello!", "m1", content=[
                {"type": "thinking", "thinking": "Greet back."}, {"type": "text", "text": "Hello!"}]),
            _cmsg("m3", "human", "2025-03-01T08:01:00.000000Z", "Write a poem", "m2"),
            _cmsg("m4", "assistant", "2025-03-01T08:01:05.000000Z", "Roses are red", "m3"),
            _cmsg("m3b", "human", "2025-03-01T08:05:00.000000Z", "Write a haiku", "m2"),
            _cmsg("m4b", "assistant", "2025-03-01T08:05:09.000000Z", "Old pond", "m3b", content=[
                {"type": "text", "text": "Old pond"},
                {"type": "tool_use", "name": "artifacts", "input": {"id": "haiku", "content": "frog jumps"}}]),
        ],
    }
    conv2 = {"uuid": "cai-2", "name": "Empty", "created_at": "2025-03-02T08:00:00Z",
             "updated_at": "2025-03-02T08:00:00Z", "chat_messages": []}
    conv3 = {"uuid": "cai-3", "name": "", "created_at": "2025-03-03T08:00:00Z",
             "updated_at": "2025-03-03T08:00:30Z", "project": {"uuid": "proj-9", "name": "Research"},
             "chat_messages": [
                 _cmsg("p1", "human", "2025-03-03T08:00:10Z", "Summarise the paper",
                       files=[{"file_name": "paper.pdf"}]),
                 _cmsg("p2", "assistant", "2025-03-03T08:00:20Z", "It argues X."),
             ]}
    out = HERE / "claude-ai-export.zip"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in (
            ("conversations.json", [conv1, conv2, conv3]),
            ("users.json", [{"uuid": "acc-1", "full_name": "Ana", "email_address": "ana@example.com"}]),
            ("projects.json", [{"uuid": "proj-9", "name": "Research"}]),
        ):
            info = zipfile.ZipInfo(name, date_time=(2025, 3, 4, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, json.dumps(data, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    claude_code()
    chatgpt()
    claude_ai()
