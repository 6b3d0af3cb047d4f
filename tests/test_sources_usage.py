"""Usage per API response: the most complete line of a streamed response carries it (ccusage's rule)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from claude_code_lines import assistant, streamed, usage, user, write

from claudelens_nb import import_file, pricing
from claudelens_nb.reading import ReadReport
from claudelens_nb.sources import read
from claudelens_nb.store import collections as names

S45 = "claude-sonnet-4-5-20250929"


def _read(path: Path) -> tuple[dict[str, dict], ReadReport]:
    report = ReadReport()
    return {c["id"]: c for c in read("claude_code", path, report)}, report


def _by_id(conv: dict) -> dict[str, dict]:
    return {m["id"]: m for m in conv["messages"]}


def test_streamed_response_keeps_the_largest_total(tmp_path: Path) -> None:
    write(tmp_path / "projects" / "-home-u-app" / "s1.jsonl", streamed("s1"))
    convs, report = _read(tmp_path / "projects")
    msgs = _by_id(convs["s1"])
    assert msgs["s1-a3"]["tokens"] == {"input": 4, "output": 273, "cache_creation": 1200, "cache_read": 0}
    assert msgs["s1-b2"]["tokens"] == {"input": 6, "output": 120, "cache_creation": 0, "cache_read": 1200}
    for partial in ("s1-a1", "s1-a2", "s1-b1"):
        assert msgs[partial]["tokens"] == {"input": None, "output": None, "cache_creation": None,
                                           "cache_read": None}
        assert msgs[partial]["cost_usd"] is None
    assert msgs["s1-a3"]["cost_usd"] == pricing.cost_from_usage(S45, usage(4, 273, 1200, 0))
    expected = (pricing.cost_from_usage(S45, usage(4, 273, 1200, 0))
                + pricing.cost_from_usage(S45, usage(6, 120, 0, 1200))
                + pricing.cost_from_usage("claude-opus-4-1-20250805", usage(10, 30, 500, 1200, w1h=300)))
    assert convs["s1"]["cost_usd"] == expected
    assert not report.unknown_models


def test_non_sidechain_line_wins_then_first_on_a_tie(tmp_path: Path) -> None:
    sid, t = "s2", "2025-07-01T11:00:0{}.000Z"
    write(tmp_path / "p" / "s2.jsonl", [
        user("u", sid, t.format(0)),
        # a sub-agent's copy with more tokens loses to the main line
        assistant("x1", sid, t.format(1), usage(10, 500), mid="m1", rid="r1", sidechain=True),
        assistant("x2", sid, t.format(2), usage(10, 5), mid="m1", rid="r1"),
        # equal totals: the earlier line keeps it
        assistant("y1", sid, t.format(3), usage(10, 7), mid="m2", rid="r2"),
        assistant("y2", sid, t.format(4), usage(9, 8), mid="m2", rid="r2"),
        # a line without usage never takes it over
        assistant("z1", sid, t.format(5), usage(3, 3), mid="m3", rid="r3", sidechain=True),
        assistant("z2", sid, t.format(6), None, mid="m3", rid="r3"),
    ])
    msgs = _by_id(_read(tmp_path / "p")[0][sid])
    got = {k: (m["tokens"]["input"], m["tokens"]["output"]) for k, m in msgs.items() if k[0] in "xyz"}
    assert got == {"x1": (None, None), "x2": (10, 5), "y1": (10, 7), "y2": (None, None),
                   "z1": (3, 3), "z2": (None, None)}


def test_unpriced_model_counted_once_per_response(tmp_path: Path) -> None:
    sid, t = "s3", "2025-07-01T12:00:0{}.000Z"
    write(tmp_path / "p" / "s3.jsonl", [
        assistant("a", sid, t.format(1), usage(1, 1), mid="m", rid="r", model="claude-9-mystery"),
        assistant("b", sid, t.format(2), usage(1, 9), mid="m", rid="r", model="claude-9-mystery"),
    ])
    _, report = _read(tmp_path / "p")
    assert report.unknown_models == {"claude-9-mystery": 1}


def test_import_stores_the_complete_usage(db, tmp_path: Path) -> None:
    write(tmp_path / "projects" / "-home-u-app" / "s1.jsonl", streamed("s1"))
    result = import_file(tmp_path / "projects", db=db)
    assert result.inserted == 1
    docs = {d["uuid"]: d for c in names.message_collections(db) for d in c.find({"sessionId": "s1"})}
    assert docs["s1-a3"]["usage"]["output_tokens"] == 273
    assert docs["s1-b2"]["usage"]["output_tokens"] == 120
    assert "usage" not in docs["s1-a1"] and "costUsd" not in docs["s1-a1"]
    session = db[names.SESSIONS].find_one({"sessionId": "s1"})
    assert session["outputTokens"] == 273 + 120 + 30
    total = sum((d["costUsd"].to_decimal() for d in docs.values() if "costUsd" in d), Decimal(0))
    assert session["totalCost"].to_decimal() == total
