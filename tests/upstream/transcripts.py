"""A synthetic Claude Code transcript dated this week, so upstream's ingest (whose session
statistics look back one year from now) computes its session figures, with the shapes
that tell the two writers apart."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

SESSION = "5e55a0b1-0000-4000-8000-00000000c0de"
FOLDER = "-home-alice-code-shop-api"


def _stamp(base: datetime, seconds: float) -> str:
    return (base + timedelta(seconds=seconds)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def lines(base: datetime | None = None) -> list[dict]:
    base = base or (datetime.now(UTC) - timedelta(days=2)).replace(microsecond=0)
    common = {"sessionId": SESSION, "cwd": "/home/alice/code/shop-api", "version": "2.0.50",
              "gitBranch": "main", "userType": "external", "isSidechain": False}

    def line(uuid: str, kind: str, t: float, parent: str | None, message: dict, **extra) -> dict:
        return {**common, "parentUuid": parent, "type": kind, "uuid": uuid,
                "timestamp": _stamp(base, t), "message": message, **extra}

    model = "claude-sonnet-4-5-20250929"
    usage = {"input_tokens": 12, "cache_creation_input_tokens": 3000, "cache_read_input_tokens": 0,
             "output_tokens": 240, "service_tier": "standard"}
    return [
        {"type": "summary", "summary": "Added the price filter to the orders API", "leafUuid": "a3"},
        line("u1", "user", 0, None, {"role": "user", "content": "Add a price filter to GET /orders ünd test it"}),
        line("a1", "assistant", 5, "u1", {
            "id": "msg_a1", "type": "message", "role": "assistant", "model": model,
            "content": [{"type": "thinking", "thinking": "Find the handler first.", "signature": "x"},
                        {"type": "text", "text": "Let me look at the handler."},
                        {"type": "tool_use", "id": "toolu_r1", "name": "Read",
                         "input": {"file_path": "/home/alice/code/shop-api/orders.py"}},
                        {"type": "tool_use", "id": "toolu_b1", "name": "Bash",
                         "input": {"command": "pytest -q tests/test_orders.py -k price --maxfail=1 -x --no-header"}}],
            "stop_reason": "tool_use", "usage": usage}, requestId="req_a1", durationMs=4100),
        line("r1", "user", 9, "a1", {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_r1", "content": "def orders(): ..."},
            {"type": "tool_result", "tool_use_id": "toolu_b1",
             "content": [{"type": "text", "text": "1 failed"}], "is_error": True}]},
            toolUseResult="1 failed"),
        # One API response streamed as two lines: same message.id and requestId, growing output.
        line("a2", "assistant", 12, "r1", {
            "id": "msg_a2", "type": "message", "role": "assistant", "model": model,
            "content": [{"type": "text", "text": "The filter"}],
            "usage": {"input_tokens": 4, "cache_read_input_tokens": 3000, "output_tokens": 1}},
            requestId="req_a2"),
        line("a2b", "assistant", 13, "a2", {
            "id": "msg_a2", "type": "message", "role": "assistant", "model": model,
            "content": [{"type": "tool_use", "id": "toolu_e1", "name": "Edit",
                         "input": {"file_path": "orders.py", "old_string": "a", "new_string": "b"}}],
            "usage": {"input_tokens": 4, "cache_read_input_tokens": 3000, "output_tokens": 180}},
            requestId="req_a2"),
        line("r2", "user", 15, "a2b", {"role": "user", "content": [
            {"type": "text", "text": "Looks right, also run the linter"},
            {"type": "tool_result", "tool_use_id": "toolu_e1", "content": "edited"}]},
            toolUseResult={"filePath": "orders.py", "structuredPatch": []}),
        {**common, "type": "system", "uuid": "sys1", "parentUuid": "r2", "timestamp": _stamp(base, 16),
         "subtype": "compact_boundary", "content": "Conversation compacted", "level": "info"},
        line("a3", "assistant", 20, "sys1", {
            "id": "msg_a3", "type": "message", "role": "assistant", "model": model,
            "content": [{"type": "text", "text": "Done: `price_min` and `price_max` filter the orders."}],
            "usage": {"input_tokens": 30, "cache_read_input_tokens": 3200, "output_tokens": 95}},
            requestId="req_a3"),
    ]


def write(folder: Path, base: datetime | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{SESSION}.jsonl"
    path.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines(base)))
    return path
