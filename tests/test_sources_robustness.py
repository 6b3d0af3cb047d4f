"""Source files with their shapes broken at random (wrong types, missing keys) never raise:
the readers yield well-typed records that become documents, and report the rest."""

from __future__ import annotations

import contextlib
import copy
import json
import random
import zipfile
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from claudelens_nb import records
from claudelens_nb.reading import ReadReport
from claudelens_nb.sources import detect, read

DATA = Path(__file__).parent / "data" / "sources"
JUNK: list[Any] = [None, 1, 1.5, "x", [], {}, [1, "a", None], {"a": 1}, True,
                   "2024-01-01T00:00:00Z", 1700000000.5, -1e300, "NaN"]


def _mangle(obj: Any, rng: random.Random, rate: float) -> Any:
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            r = rng.random()
            if r < rate / 3:
                continue
            out[k] = rng.choice(JUNK) if r < rate else _mangle(v, rng, rate)
        return out
    if isinstance(obj, list):
        return [rng.choice(JUNK) if rng.random() < rate else _mangle(v, rng, rate) for v in obj]
    return obj


def _check(convs: list[dict]) -> None:
    for c in convs:
        assert isinstance(c["id"], str) and c["messages"]
        assert c["title"] is None or isinstance(c["title"], str)
        assert isinstance(c["project_name"], str) and isinstance(c["cost_usd"], Decimal)
        json.dumps(records.to_json_value(c))
        for m in c["messages"]:
            assert isinstance(m["id"], str) and m["type"] in records.MESSAGE_TYPES
            assert isinstance(m["content"], str) and isinstance(m["timestamp"], datetime)
            assert m["parent_id"] is None or isinstance(m["parent_id"], str)
            assert m["tool_name"] is None or isinstance(m["tool_name"], str)
            assert all(v is None or type(v) is int for v in m["tokens"].values())
            assert m["cost_usd"] is None or m["cost_usd"].is_finite()
            records.message_document(c["id"], m)


def _cc_lines(fixtures_dir: Path) -> list[dict]:
    lines = []
    files = sorted((fixtures_dir / "claude-code-log").glob("*.jsonl"))
    files += sorted((DATA / "claude-code" / "projects").rglob("*.jsonl"))
    for f in files:
        for raw in f.read_text(encoding="utf-8").splitlines():
            with contextlib.suppress(ValueError):
                lines.append(json.loads(raw))
    return lines


@pytest.mark.parametrize("seed", range(40))
def test_mangled_inputs_never_raise(seed, tmp_path, fixtures_dir):
    rng = random.Random(seed)
    rate = 0.05 + 0.3 * rng.random()
    gpt = json.loads((DATA / "chatgpt" / "conversations.json").read_text())
    with zipfile.ZipFile(DATA / "claude-ai-export.zip") as zf:
        cai = json.loads(zf.read("conversations.json"))
    cai += json.loads((fixtures_dir / "claude-ai" / "conversations.json").read_text())
    for kind, data in (("chatgpt", gpt), ("claude_ai", cai)):
        path = tmp_path / f"{kind}.json"
        path.write_text(json.dumps(_mangle(copy.deepcopy(data), rng, rate)))
        detect(path)
        _check(list(read(kind, path, ReadReport())))
    folder = tmp_path / "cc"
    folder.mkdir()
    lines = [json.dumps(_mangle(line, rng, rate)) for line in _cc_lines(fixtures_dir)]
    (folder / "s.jsonl").write_text("\n".join(lines) + "\n")
    detect(folder)
    _check(list(read("claude_code", folder, ReadReport())))


def test_given_costs_that_are_not_money_fall_back_to_the_price_table(tmp_path):
    base = {"type": "assistant", "sessionId": "s", "cwd": "/a/b", "timestamp": "2026-01-01T00:00:00Z",
            "message": {"id": "m", "role": "assistant", "model": "claude-sonnet-4-5",
                        "content": [{"type": "text", "text": "hi"}],
                        "usage": {"input_tokens": 1000, "output_tokens": 100}}}
    lines = [dict(base, uuid=f"u{i}", costUSD=cost, requestId=f"r{i}",
                  message=dict(base["message"], id=f"m{i}"))
             for i, cost in enumerate(["abc", -1, "NaN", 0.25, "0.5"])]
    (tmp_path / "s.jsonl").write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    conv = next(read("claude_code", tmp_path, ReadReport()))
    assert [m["cost_usd"] for m in conv["messages"]] == [
        Decimal("0.0045"), Decimal("0.0045"), Decimal("0.0045"), Decimal("0.25"), Decimal("0.5")]
