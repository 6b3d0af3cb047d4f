"""Canonical conversation records for the Markdown and PDF writer tests (real demo data
plus one conversation with every awkward case: scripts, emoji, code, tool calls)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from bson import Decimal128

from claudelens_nb import demo, records

EXPORT_DATE = datetime(2026, 11, 29, 16, 0, tzinfo=UTC)
SPECIAL_TITLE = "Café résumé — Привет — 日本語のテスト 🙏"
USER_TEXT = (
    "Peux-tu vérifier ce café ? Привет, мир!\n"
    "このコードのバグを見つけてください。🚀\n"
    "\n"
    "```python\n"
    "def greet(name: str) -> str:\n"
    "    return f\"こんにちは {name}\"  # Grüße\n"
    "```\n"
    "Weird: \U0010fffd and \U0001fae0 and <b>not markup</b> & more"
)
ASSISTANT_TEXT = (
    "Voilà — the **fix**:\n\n```sql\nSELECT name FROM café WHERE id = 1;\n```\n\n"
    "Done ✅ " + "long line without breaks " * 30
)


def meta(conversations: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    out = {
        "export_date": EXPORT_DATE,
        "total_conversations": len(conversations),
        "total_messages": sum(len(c["messages"]) for c in conversations),
        "total_cost_usd": float(sum(c["cost_usd"] or 0 for c in conversations)),
        "date_range": {"start": "2026-05-01T00:00:00.000Z", "end": "2026-11-01T00:00:00.000Z"},
        "filters": {"projects": ["café-menu"], "since": "2026-05-01"},
        "generator": "claudelens_nb 0.1.0",
    }
    out.update(extra)
    return out


def demo_records(n: int, messages: int = 12, seed: int = 5) -> list[dict[str, Any]]:
    out = []
    for session, docs in demo.generate(n, messages, seed=seed):
        name, path, _ = session.pop("_project")
        out.append(records.conversation_record(session, {"_id": None, "name": name, "path": path},
                                               docs))
    return out


def special_record() -> dict[str, Any]:
    """One conversation built like ClaudeLens stores it, with every awkward case."""
    t0 = datetime(2026, 6, 2, 10, 30, tzinfo=UTC)
    sid = "5e0c7d1e-0000-4000-8000-00000000abcd"
    tool_input = {"command": "grep -rn 'café' src/", "description": "Chercher « café » 日本"}

    def doc(i: int, type_: str, content: str, data: Any, **extra: Any) -> dict[str, Any]:
        ts = t0 + timedelta(seconds=15 * i)
        d = {"uuid": f"m-{i}", "sessionId": sid, "type": type_, "timestamp": ts,
             "parentUuid": f"m-{i - 1}" if i else None, "content": content, "messageData": data,
             "isSidechain": False, "userType": "external", **extra}
        if type_ not in records.SPLIT_TYPES:
            d["contentHash"] = records.content_hash(d["uuid"], type_, ts, data)
        return d

    docs = [
        doc(0, "user", USER_TEXT, {"role": "user", "content": USER_TEXT}),
        doc(1, "assistant", ASSISTANT_TEXT, {"role": "assistant", "content": []},
            model="claude-sonnet-4-5-20250929", costUsd=Decimal128("0.0123")),
        doc(2, "tool_use", "Tool: Bash", {"type": "tool_use", "id": "toolu_1", "name": "Bash",
                                          "input": tool_input}),
        doc(3, "tool_result", "src/menu.py:3: café = 'crème brûlée'\n  indented  output",
            {"type": "tool_result", "tool_use_id": "toolu_1"}),
        # userType says assistant; the role must still come from the type.
        doc(4, "system", "Context compacted.\nSecond line.", None, userType="assistant"),
    ]
    session = {"sessionId": sid, "summary": "Résumé: テスト with Привет", "title": SPECIAL_TITLE,
               "tags": ["bug", "日本"], **records.session_stats(docs)}
    rec = records.conversation_record(session, {"_id": None, "name": "翻訳ツール",
                                                "path": "/home/ana/src/honyaku"}, docs)
    assert rec["cost_usd"] == Decimal("0.0123")
    return rec
