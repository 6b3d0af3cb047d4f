"""Tokens and cost per session agree with ccusage, the tool Claude Code users trust for cost.

ccusage (pinned 20.0.24, installed by scripts/bootstrap.sh test) runs on the real Claude Code
fixtures laid out as Claude Code writes them, and on synthetic streamed responses, every
priced model and cache lifetimes; our numbers are the documents our import stored.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from ccusage_run import (
    ccusage_binary,
    ccusage_sessions,
    claude_code_layout,
    disagreements,
    our_sessions,
)
from claude_code_lines import assistant, streamed, usage, user, write
from test_pricing import MODELS

from claudelens_nb import import_file, pricing

REAL_SESSIONS = {"test_session", "edge_cases", "session_b", "todowrite_session",
                 "88a8d761-7b9a-4bf1-a8ca-c1febe6bf358"}


@pytest.fixture(scope="module")
def ccusage() -> str:
    binary = ccusage_binary()
    if binary is None:
        pytest.fail("ccusage 20.0.24 not found: run scripts/bootstrap.sh test (it installs it "
                    "into .venv/ccusage), or set CCUSAGE to its path")
    return binary


def _compare(db, ccusage: str, config: Path, tmp_path: Path) -> tuple[dict, dict]:
    result = import_file(config / "projects", db=db)
    assert result.status == "completed" and not result.failed
    ours = our_sessions(db)
    theirs = ccusage_sessions(ccusage, config, tmp_path / "home")
    assert disagreements(ours, theirs) == {}
    return ours, theirs


def test_real_fixtures_agree(db, ccusage: str, fixtures_dir: Path, tmp_path: Path) -> None:
    files = sorted((fixtures_dir / "claude-code-log").glob("*.jsonl"))
    assert len(files) == 5
    claude_code_layout(files, tmp_path / "cc" / "projects")
    ours, theirs = _compare(db, ccusage, tmp_path / "cc", tmp_path)
    assert set(ours) == set(theirs) == REAL_SESSIONS
    assert ours["88a8d761-7b9a-4bf1-a8ca-c1febe6bf358"]["outputTokens"] == 738
    assert ours["test_session"]["totalCost"] == Decimal("0.007329")  # claude-3-sonnet is priced
    assert ours["todowrite_session"]["totalCost"] == Decimal("0.007569")


def test_streamed_responses_and_every_model_agree(db, ccusage: str, tmp_path: Path) -> None:
    folder = tmp_path / "cc" / "projects" / "-home-u-app"
    write(folder / "s1.jsonl", streamed("s1"))
    # a sub-agent's file joins its session; its copy of a main-line response loses to it
    write(folder / "s1" / "subagents" / "agent-7.jsonl", [
        assistant("s1-sa1", "s1", "2025-07-01T10:05:00.000Z", usage(4, 900, 1200, 0),
                  mid="msg_s1_1", rid="req_s1_1", sidechain=True),
        assistant("s1-sa2", "s1", "2025-07-01T10:05:10.000Z", usage(7, 11, 0, 300), sidechain=True),
    ])
    models = [user("m-u", "models", "2025-08-01T09:00:00.000Z")]
    for n, (model, *_rates) in enumerate(MODELS):
        ts = f"2025-08-01T09:{n + 1:02d}:00.000Z"
        for k, out in enumerate((2, 300, 1234)):  # each response streamed over three lines
            models.append(assistant(f"m{n}-{k}", "models", ts.replace(":00.000Z", f":{k:02d}.000Z"),
                                    usage(1000 + n, out, 40_000, 90_000 + n, w1h=15_000),
                                    mid=f"msg_m{n}", rid=f"req_m{n}", model=model))
    write(folder / "models.jsonl", models)
    ours, theirs = _compare(db, ccusage, tmp_path / "cc", tmp_path)
    assert set(ours) == {"s1", "models"}
    assert ours["s1"]["outputTokens"] == 273 + 120 + 30 + 11
    assert ours["models"]["outputTokens"] == 1234 * len(MODELS)
    by_model = {b["modelName"]: b for b in theirs["models"]["modelBreakdowns"]}
    assert set(by_model) == {m for m, *_ in MODELS}
    for model, *_rates in MODELS:
        n = [m for m, *_ in MODELS].index(model)
        mine = pricing.cost_from_usage(model, usage(1000 + n, 1234, 40_000, 90_000 + n, w1h=15_000))
        assert abs(mine - Decimal(str(by_model[model]["cost"]))) < Decimal("0.000000001"), model


def test_long_context_is_where_ccusage_differs(db, ccusage: str, tmp_path: Path) -> None:
    """Above 200k input tokens ccusage bills only each kind's part beyond 200k at the higher
    rate; Anthropic (and we) bill the whole request at the long-context rates."""
    use = usage(150_000, 10_000, 20_000, 100_000)  # 270k input in all, no kind above 200k
    write(tmp_path / "cc" / "projects" / "-p" / "lc.jsonl",
          [assistant("lc1", "lc", "2025-10-01T10:00:00.000Z", use)])
    import_file(tmp_path / "cc" / "projects", db=db)
    ours = our_sessions(db)["lc"]
    theirs = ccusage_sessions(ccusage, tmp_path / "cc", tmp_path / "home")["lc"]
    assert ours["inputTokens"] == theirs["inputTokens"] == 150_000
    assert ours["totalCost"] == Decimal("1.335")  # 150k*6 + 10k*22.5 + 20k*7.5 + 100k*0.6 per M
    assert Decimal(str(theirs["totalCost"])) == Decimal("0.705")  # the base rates
