"""Upstream's text and field rules for Claude Code lines (claude_code_shape.py)."""

from __future__ import annotations

from claudelens_nb.sources import claude_code_shape as shape


def test_tool_use_result_is_an_object_and_a_list_is_kept() -> None:
    assert shape.tool_use_result("done") == {"output": "done"}
    assert shape.tool_use_result({"stdout": "1 passed"}) == {"stdout": "1 passed"}
    assert shape.tool_use_result([{"type": "text", "text": "x"}]) == {"output": [{"type": "text", "text": "x"}]}
    assert shape.tool_use_result(3) == {"output": "3"}


def test_project_name_as_upstream_derives_it() -> None:
    assert shape.project_name("/h/.claude/projects/-Users-me-code-my-app") == "app"
    assert shape.project_name("claude-code-log") == "claude-code-log"
    assert shape.project_name("C--Users-ana-proj-win") == "C--Users-ana-proj-win"
    assert shape.project_description("app") == "Claude project: app"


def test_assistant_text_and_tool_lines() -> None:
    text, thinking, tools = shape.assistant_text([
        {"type": "thinking", "thinking": "hmm"}, {"type": "text", "text": "Reading."},
        {"type": "tool_use", "name": "Read", "input": {"file_path": "a.py"}},
        {"type": "tool_use", "name": "Bash", "input": {"command": "x" * 70}},
        {"type": "tool_use", "name": "TodoWrite", "input": {"todos": [1, 2]}},
        {"type": "tool_use", "name": "Mystery", "input": None}, "not a block"])
    assert thinking == "hmm" and len(tools) == 4
    assert text == ("[Thinking]\nhmm\n\nReading.\n\n📄 Reading file: a.py\n💻 Running command: "
                    + "x" * 60 + "...\n📝 Updating todo list (2 items)\n🔧 Using tool: Mystery")
    assert shape.block_json({"type": "tool_use", "name": "é"}) == '{"type": "tool_use", "name": "é"}'
    assert shape.tool_result_text([{"type": "text", "text": "ok"}]) == '[{"type": "text", "text": "ok"}]'
