"""The Markdown writer: docs/formats.md layout, roles from the type, quoting, tool fences."""

from __future__ import annotations

import json
import re
from pathlib import Path

from export_samples import ASSISTANT_TEXT, SPECIAL_TITLE, USER_TEXT, meta, special_record

from claudelens_nb.exports import read
from claudelens_nb.exports.markdown import MarkdownWriter

LABELS = {"user": "User", "assistant": "Assistant", "tool_use": "Tool Use",
          "tool_result": "Tool Result", "system": "System"}


def _sections(text: str) -> list[str]:
    return re.split(r"^### ", text, flags=re.M)[1:]


def test_layout_from_seeded_database(seeded_db, tmp_path: Path) -> None:
    chunks = list(read.iter_conversations(None, chunk_size=7, db=seeded_db))
    convs = [c for chunk in chunks for c in chunk]
    assert len(chunks) == 3 and len(convs) == 20
    path = tmp_path / "out.md"
    writer = MarkdownWriter(path, meta(convs))
    for chunk in chunks:
        writer.write(chunk)
        assert path.stat().st_size > 0  # streamed to disk, not held until close
    writer.close()
    text = path.read_text(encoding="utf-8")

    head = text.split("## Conversations")[0]
    assert text.startswith("# ClaudeLens Export - 2026-11-29\n\n## Metadata\n")
    assert "- **Total conversations:** 20" in head
    assert f"- **Total messages:** {sum(len(c['messages']) for c in convs)}" in head
    assert "- **Date range:** 2026-05-01T00:00:00.000Z to 2026-11-01T00:00:00.000Z" in head
    assert "- **Generator:** claudelens_nb 0.1.0" in head
    assert head.rstrip().endswith("---")

    sections = _sections(text)
    assert len(sections) == 20
    for n, (conv, sec) in enumerate(zip(convs, sections, strict=True), start=1):
        title = " ".join(conv["title"].split())
        assert sec.startswith(f"{n}. {title}\n")
        facts = sec.splitlines()[2]
        assert facts.startswith(f"- **ID:** {conv['id']} - **Project:** {conv['project_name']}")
        assert f"- **Model:** {conv['model']} - " in facts
        assert f"- **Date:** {conv['created_at']:%Y-%m-%d %H:%M:%S} UTC" in facts
        assert f"- **Messages:** {conv['message_count']} - **Cost:** ${conv['cost_usd']:.4f}" in facts
        assert ("#### Summary" in sec) == bool(conv["summary"])
        assert "#### Messages" in sec and sec.rstrip().endswith("---")
        for type_, label in LABELS.items():
            want = sum(m["type"] == type_ for m in conv["messages"])
            assert len(re.findall(rf"^\*\*{label}\*\* \(\d\d:\d\d:\d\d\):", sec, re.M)) == want
        # Each tool call's input comes back from its fence.
        fences = re.findall(r"^\*\*Tool Use\*\* \(\S+\): `(\w+)`\n(`{3,})json\n(.*?)\n\2$", sec,
                            re.M | re.S)
        tools = [m for m in conv["messages"] if m["type"] == "tool_use"]
        assert [(name, json.loads(body)) for name, _, body in fences] == \
               [(m["tool_name"], m["tool_input"]) for m in tools]


def test_quoting_roles_and_scripts(tmp_path: Path) -> None:
    conv = special_record()
    path = tmp_path / "special.md"
    writer = MarkdownWriter(path, meta([conv]))
    writer.write([conv])
    writer.close()
    text = path.read_text(encoding="utf-8")
    sec = _sections(text)[0]

    assert sec.startswith(f"1. {SPECIAL_TITLE}\n")
    assert "- **Project:** 翻訳ツール" in sec and "- **Tags:** bug, 日本" in sec
    assert "#### Summary\n\n> Résumé: テスト with Привет\n" in sec
    # Every line of the user's text is quoted; the code fence stays readable inside the quote.
    quoted = "\n".join(f"> {line}" if line else ">" for line in USER_TEXT.split("\n"))
    assert f"**User** (10:30:00):\n{quoted}\n" in sec
    assert "> ```python\n> def greet(name: str) -> str:\n>     return f\"こんにちは {name}\"" in sec
    assert "<b>not markup</b> & more" in sec  # nothing escaped
    assert "\U0010fffd" in sec and "🚀" in sec
    assert "**Assistant** (10:30:15):\n> Voilà — the **fix**:\n>\n> ```sql\n" in sec
    assert ASSISTANT_TEXT.split("\n")[-1] in sec
    tool = re.search(r"\*\*Tool Use\*\* \(10:30:30\): `Bash`\n```json\n(.*?)\n```\n", sec, re.S)
    assert tool and json.loads(tool.group(1)) == conv["messages"][2]["tool_input"]
    assert "**Tool Result** (10:30:45):\n> ```\n> src/menu.py:3: café = 'crème brûlée'\n" \
           ">   indented  output\n> ```\n" in sec
    # userType "assistant" on a system message: the label follows the type.
    assert "**System** (10:31:00):\n> Context compacted.\n> Second line.\n" in sec
    assert sec.count("**Assistant**") == 1
    # Blocks are separated so a quote never swallows the next label.
    assert re.search(r"^> .*\n\*\*", sec, re.M) is None


def test_fence_longer_than_backticks_in_tool_input_and_empty_export(tmp_path: Path) -> None:
    conv = special_record()
    conv["messages"] = [dict(conv["messages"][2], tool_input={"code": "```\nx\n````"})]
    path = tmp_path / "fence.md"
    writer = MarkdownWriter(path, meta([conv]))
    writer.write([conv])
    writer.close()
    body = path.read_text(encoding="utf-8")
    block = re.search(r"^(`{5})json\n(.*?)\n\1$", body, re.M | re.S)
    assert block and json.loads(block.group(2)) == {"code": "```\nx\n````"}

    empty = tmp_path / "empty.md"
    writer = MarkdownWriter(empty, meta([]))
    writer.write([])
    writer.close()
    text = empty.read_text(encoding="utf-8")
    assert "- **Total conversations:** 0" in text and "### " not in text
    aborted = MarkdownWriter(tmp_path / "aborted.md", meta([]))
    aborted.abort()
    aborted.abort()
