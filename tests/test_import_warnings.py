"""`claudelens-nb import` prints the warning count and the first warnings (file:line, unpriced
models), and the import job record keeps every one."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from claude_code_lines import assistant, usage, user, write

from claudelens_nb.cli import main
from claudelens_nb.imports import validate_file
from claudelens_nb.store import collections as names


def _folder(fixtures_dir: Path, tmp_path: Path) -> Path:
    root = tmp_path / "projects"
    shutil.copytree(fixtures_dir / "claude-code-log", root / "-tmp")
    sid, t = "mystery", "2025-09-01T10:00:0{}.000Z"
    write(root / "-tmp" / "mystery.jsonl", [
        user("q1", sid, t.format(0)),
        assistant("r1", sid, t.format(1), usage(10, 20), model="claude-9-mystery"),
        assistant("r2", sid, t.format(2), usage(10, 20), model="claude-9-mystery"),
    ])
    with (root / "-tmp" / "mystery.jsonl").open("a") as fh:
        fh.write("{not json\n")
    return root


def test_import_prints_and_keeps_warnings(db, fixtures_dir: Path, tmp_path: Path, capsys) -> None:
    root = _folder(fixtures_dir, tmp_path)
    expected = validate_file(root, db=db)
    assert expected.warning_count > 10
    assert main(["import", str(root), "--quiet"]) == 0
    out = capsys.readouterr().out
    m = re.search(r"^(\d+) warnings, the first 10:$", out, re.M)
    assert m and int(m.group(1)) == expected.warning_count
    shown = out[m.end():].splitlines()[1:11]
    assert shown == [f"  {w}" for w in expected.warnings[:10]]
    assert f"... and {expected.warning_count - 10} more" in out
    # skipped lines point at file:line; the unpriced model is named once with its count
    assert any(re.search(r"^  -tmp/edge_cases\.jsonl:\d+: .*; line skipped$", w) for w in shown)
    job = db[names.IMPORT_JOBS].find_one()
    assert job["warning_count"] == expected.warning_count
    assert job["warnings"] == [str(w) for w in expected.warnings]
    unpriced = [w for w in job["warnings"] if "no price for model 'claude-9-mystery'" in w]
    assert len(unpriced) == 2 and "(record mystery, field message r1: cost_usd)" in unpriced[0]
    assert any(w.startswith("-tmp/mystery.jsonl:4: not valid JSON") for w in job["warnings"])
    session = db[names.SESSIONS].find_one({"sessionId": "mystery"})
    assert session is not None and session["messageCount"] == 3


def test_no_warnings_prints_none(db, tmp_path: Path, capsys) -> None:
    write(tmp_path / "projects" / "-p" / "s.jsonl", [
        user("u1", "s", "2025-09-01T10:00:00.000Z"),
        assistant("a1", "s", "2025-09-01T10:00:01.000Z", usage(1, 2)),
    ])
    assert main(["import", str(tmp_path / "projects"), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "warning" not in out
    assert db[names.IMPORT_JOBS].find_one()["warning_count"] == 0
