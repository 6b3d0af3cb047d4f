"""A sync after transcripts grew adds the new messages' figures to the stored session's
(without reading its stored messages); the sessions and messages equal a full import of the
same folder into another database, also where the figures must be recomputed instead."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from pymongo.database import Database

from claudelens_nb import sync_claude_code
from claudelens_nb.imports.writer import Writer
from claudelens_nb.sources.sample import write_projects
from claudelens_nb.store import collections as names

FIGURES = ("messageCount", "totalCost", "startedAt", "endedAt", "inputTokens", "outputTokens",
           "totalTokens", "toolsUsed")


def _sessions(db: Database) -> dict[str, dict[str, Any]]:
    """Session documents by id, the project named by its path (ids differ between databases)."""
    paths = {p["_id"]: p["path"] for p in db[names.PROJECTS].find()}
    return {s["sessionId"]: {**{k: v for k, v in s.items() if k not in ("_id", "projectId")},
                             "project": paths[s["projectId"]]}
            for s in db[names.SESSIONS].find()}


def _messages(db: Database) -> dict[str, dict[str, Any]]:
    return {d["uuid"]: {"coll": c.name, **{k: v for k, v in d.items() if k != "_id"}}
            for c in names.message_collections(db) for d in c.find()}


def _cut(full: Path, root: Path, keep: float) -> None:
    """`root`: a copy of `full` with every transcript cut to its first `keep` of lines."""
    shutil.copytree(full, root)
    for f in root.rglob("*.jsonl"):
        lines = f.read_bytes().splitlines(keepends=True)
        f.write_bytes(b"".join(lines[:int(len(lines) * keep)]))


def _grow(full: Path, root: Path) -> None:
    """Append to each transcript of `root` the rest of its lines in `full`."""
    for f in root.rglob("*.jsonl"):
        have = f.stat().st_size
        with f.open("ab") as fh:
            fh.write((full / f.relative_to(root)).read_bytes()[have:])


def _append(root: Path, per_file: int) -> list[str]:
    """New prompt/answer pairs (usage, cost, a tool call) at the end of every main transcript."""
    sids = []
    for k, f in enumerate(sorted(p for p in root.rglob("*.jsonl") if p.parent.name != "subagents")):
        sid, lines = f.stem, []
        for i in range(per_file):
            ts = f"2026-06-0{1 + k % 9}T10:{i // 60:02d}:{i % 60:02d}.500Z"
            base = {"parentUuid": None, "isSidechain": False, "userType": "external",
                    "cwd": "/home/dev/src/appended", "sessionId": sid, "version": "2.0.50",
                    "uuid": f"{sid}-new-{i}", "timestamp": ts}
            if i % 2 == 0:
                lines.append({**base, "type": "user",
                              "message": {"role": "user", "content": f"appended prompt {i}"}})
                continue
            lines.append({**base, "type": "assistant", "requestId": f"req_{sid}_{i}", "costUSD": 0.0123,
                          "message": {
                              "id": f"msg_{sid}_{i}", "role": "assistant", "type": "message",
                              "model": "claude-opus-4-5-20251101",
                              "content": [{"type": "text", "text": f"answer {i}"},
                                          {"type": "tool_use", "id": f"toolu_{sid}_{i}",
                                           "name": "Bash", "input": {"command": "ls"}}],
                              "usage": {"input_tokens": 7, "output_tokens": 30 + i,
                                        "cache_creation_input_tokens": 100,
                                        "cache_read_input_tokens": 900}}})
        with f.open("a", encoding="utf-8") as fh:
            fh.writelines(json.dumps(x, separators=(",", ":")) + "\n" for x in lines)
        sids.append(sid)
    return sids


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    full = tmp_path / "full"
    write_projects(full, sessions=6, lines=900)
    return full


def _no_stored_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: Writer, ids: list[str]) -> dict[str, list[dict[str, Any]]]:
        raise AssertionError(f"the stored messages of {ids} were read")

    monkeypatch.setattr(Writer, "_stored_stats_docs", refuse)


def test_appended_lines_add_their_figures(db, other_db, folder: Path, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "projects"
    shutil.copytree(folder, root)
    assert sync_claude_code(root, db=db).status == "completed"
    before = _sessions(db)
    sids = _append(root, 24)
    _no_stored_reads(monkeypatch)
    grown = sync_claude_code(root, db=db)
    assert (grown.status, grown.merged, grown.messages_written) == ("completed", 6, 6 * 24 + 6 * 12)
    monkeypatch.undo()
    assert sync_claude_code(root, db=other_db).inserted == 6  # the whole folder at once
    after, full = _sessions(db), _sessions(other_db)
    assert after == full
    assert _messages(db) == _messages(other_db)
    for sid in sids:
        assert after[sid]["messageCount"] == before[sid]["messageCount"] + 36
        assert after[sid]["toolsUsed"] == before[sid]["toolsUsed"] + 12
        assert after[sid]["endedAt"] > before[sid]["endedAt"]


def test_grown_transcripts_equal_a_full_import(db, other_db, folder: Path, tmp_path: Path) -> None:
    """Every transcript cut, synced, then grown to its whole length: responses streamed across
    the cut, tool results, sub-agent files."""
    root = tmp_path / "projects"
    _cut(folder, root, 0.6)
    sync_claude_code(root, db=db)
    _grow(folder, root)
    grown = sync_claude_code(root, db=db)
    assert grown.files == {"grown": 8} and grown.merged == 6
    sync_claude_code(root, db=other_db)  # the grown folder read whole
    after, full = _sessions(db), _sessions(other_db)
    assert after == full  # titles too: the ai-title lines are in the new part
    mine, theirs = _messages(db), _messages(other_db)
    assert mine.keys() == theirs.keys()
    for uuid, doc in theirs.items():
        assert mine[uuid] == doc, uuid  # tool results cut from their call point to it too


def test_figures_are_recomputed_when_new_lines_were_stored_already(
        db, other_db, folder: Path, tmp_path: Path) -> None:
    """A killed sync wrote the new messages but not the session nor the checkpoint: the next
    sync finds them stored and counts the session's stored messages again."""
    root = tmp_path / "projects"
    shutil.copytree(folder, root)
    sync_claude_code(root, db=db)
    sids = _append(root, 10)
    sync_claude_code(root, db=other_db)
    sid = sids[0]
    orphans = {u: d for u, d in _messages(other_db).items() if d["sessionId"] == sid and "-new-" in u}
    for d in orphans.values():
        db[d.pop("coll")].insert_one(d)
    stale = db[names.SESSIONS].find_one({"sessionId": sid})
    grown = sync_claude_code(root, db=db)
    assert grown.messages_written == (len(sids) - 1) * 15
    after, full = _sessions(db), _sessions(other_db)
    assert after == full
    assert after[sid]["messageCount"] == stale["messageCount"] + len(orphans)
    assert _messages(db) == _messages(other_db)


def test_figures_not_as_we_write_them_are_recomputed(db, other_db, folder: Path,
                                                     tmp_path: Path) -> None:
    root = tmp_path / "projects"
    shutil.copytree(folder, root)
    sync_claude_code(root, db=db)
    sids = _append(root, 4)
    broken = {sids[0]: {"$unset": {"toolsUsed": ""}},
              sids[1]: {"$set": {"totalTokens": 1}},
              sids[2]: {"$set": {"messageCount": 2.5}}}
    for sid, change in broken.items():
        db[names.SESSIONS].update_one({"sessionId": sid}, change)
    sync_claude_code(root, db=db)
    sync_claude_code(root, db=other_db)
    after, full = _sessions(db), _sessions(other_db)
    for sid in broken:
        assert {k: after[sid][k] for k in FIGURES} == {k: full[sid][k] for k in FIGURES}


def _lines(sid: str, spec: list[tuple[str, ...]]) -> list[dict[str, Any]]:
    """Transcript lines from (kind, ...) specs, a minute apart unless a spec says hours."""
    from datetime import UTC, datetime, timedelta

    t, out, parent = datetime(2026, 3, 1, 9, tzinfo=UTC), [], None
    for n, (kind, *args) in enumerate(spec):
        if kind in ("ai-title", "custom-title"):
            key = "aiTitle" if kind == "ai-title" else "customTitle"
            out.append({"type": kind, key: args[0], "sessionId": sid})
            continue
        t += timedelta(hours=int(args[1])) if len(args) > 1 else timedelta(minutes=1)
        uid = f"{sid}-{n}"
        base = {"parentUuid": parent, "isSidechain": False, "userType": "external",
                "cwd": "/home/dev/src/titles", "sessionId": sid, "version": "2.0.50",
                "uuid": uid, "timestamp": t.strftime("%Y-%m-%dT%H:%M:%S.000Z")}
        parent = uid
        if kind == "prompt":
            out.append({**base, "type": "user", "message": {"role": "user", "content": args[0]}})
        elif kind == "call":
            out.append({**base, "type": "assistant", "message": {
                "id": f"msg_{uid}", "role": "assistant", "type": "message", "model": "claude-opus-4-5-20251101",
                "content": [{"type": "tool_use", "id": args[0], "name": "Bash", "input": {"command": "ls"}}],
                "usage": {"input_tokens": 3, "output_tokens": 9}}})
        elif kind == "result":
            out.append({**base, "type": "user", "message": {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": args[0], "content": "done"}]}})
    return out


def _write(f: Path, lines: list[dict[str, Any]], mode: str = "w") -> None:
    f.parent.mkdir(parents=True, exist_ok=True)
    with f.open(mode, encoding="utf-8") as fh:
        fh.writelines(json.dumps(x) + "\n" for x in lines)


MORE = ("prompt", "another question")


@pytest.mark.parametrize(("first", "then", "title"), [
    ([], [("ai-title", "Later AI title")], "Later AI title"),  # a title line alone
    ([], [MORE, ("ai-title", "Later AI title")], "Later AI title"),
    ([("ai-title", "First AI title")], [("custom-title", "Named")], "Named"),
    ([("ai-title", "First AI title")], [("custom-title", "Named"), MORE], "Named"),
    ([("custom-title", "Named")], [("ai-title", "Later AI title")], "Named"),
    ([("custom-title", "Named")], [MORE, ("ai-title", "Later AI title")], "Named"),
    ([("ai-title", "First AI title")], [MORE], "First AI title"),
    ([], [MORE], None),
])
def test_a_title_in_new_lines_is_taken_as_a_full_read_ranks_it(
        db, other_db, tmp_path: Path, first: list[tuple[str, ...]], then: list[tuple[str, ...]],
        title: str | None) -> None:
    sid = "a0000000-0000-4000-8000-000000000001"
    root = tmp_path / "projects"
    f = root / "-home-dev-src-titles" / f"{sid}.jsonl"
    spec = [("prompt", "how do I list files"), *first, ("prompt", "and hidden ones"), *then]
    lines = _lines(sid, spec)
    cut = 2 + len(first)
    _write(f, lines[:cut])
    sync_claude_code(root, db=db)
    _write(f, lines[cut:], "a")
    assert sync_claude_code(root, db=db).status == "completed"
    sync_claude_code(root, db=other_db)
    mine, full = _sessions(db)[sid], _sessions(other_db)[sid]
    assert mine == full
    assert mine.get("title") == title


def test_a_tool_result_points_to_its_stored_call_hours_back(db, other_db, tmp_path: Path) -> None:
    """The stored tool_use is found however far back (the search widens from an hour); a
    result whose call is nowhere in the session keeps the fallback parent, as in a full read."""
    sid = "a0000000-0000-4000-8000-000000000002"
    root = tmp_path / "projects"
    f = root / "-home-dev-src-titles" / f"{sid}.jsonl"
    lines = _lines(sid, [("prompt", "run it"), ("call", "toolu_far"), ("call", "toolu_near"),
                         ("prompt", "wait", "30"), ("result", "toolu_near"), ("result", "toolu_far"),
                         ("result", "toolu_nowhere")])
    _write(f, lines[:4])
    sync_claude_code(root, db=db)
    _write(f, lines[4:], "a")
    sync_claude_code(root, db=other_db)
    assert sync_claude_code(root, db=db).merged == 1
    mine, full = _messages(db), _messages(other_db)
    assert mine == full
    assert mine[f"{sid}-5_result_0"]["parentUuid"] == f"{sid}-1_tool_0"
    assert mine[f"{sid}-4_result_0"]["parentUuid"] == f"{sid}-2_tool_0"
    assert mine[f"{sid}-6_result_0"]["parentUuid"] == f"{sid}-5"
