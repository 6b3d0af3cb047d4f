"""Incremental sync: an unchanged folder is not read, a grown file is read from its
checkpoint, a truncated or rewritten one whole; the result equals a full import."""

from __future__ import annotations

import json
import os
from pathlib import Path

from claude_code_lines import assistant, streamed, usage, user, write

from claudelens_nb import import_file, sync_claude_code
from claudelens_nb.sources import checkpoints
from claudelens_nb.store import collections as names


def _line(obj: dict) -> str:
    return json.dumps(obj, separators=(",", ":")) + "\n"


def _messages(db) -> dict[str, dict]:
    return {d["uuid"]: d for c in names.message_collections(db) for d in c.find()}


def _tokens(db, sid: str) -> dict:
    s = db[names.SESSIONS].find_one({"sessionId": sid})
    return {k: s[k] for k in ("messageCount", "inputTokens", "outputTokens", "totalCost")}


def _project(tmp_path: Path) -> tuple[Path, Path]:
    root = tmp_path / "projects"
    f = write(root / "-home-u-app" / "s1.jsonl", streamed("s1")[:3])  # a response half streamed
    write(root / "-home-u-app" / "s2.jsonl", [user("s2-u1", "s2", "2025-07-02T10:00:00.000Z"),
                                               assistant("s2-a1", "s2", "2025-07-02T10:00:01.000Z",
                                                         usage(5, 6))])
    return root, f


def test_unchanged_folder_is_not_read(db, tmp_path: Path) -> None:
    root, f = _project(tmp_path)
    first = sync_claude_code(root, db=db)
    assert (first.status, first.inserted, first.files) == ("completed", 2, {"new": 2})
    assert db[checkpoints.COLLECTION].count_documents({}) == 2
    jobs = db[names.IMPORT_JOBS].count_documents({})
    assert len(_messages(db)) == 5
    # Same size and mtime, other bytes: a sync that read the file would import them.
    st = f.stat()
    f.write_bytes(b"x" * st.st_size)
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))
    again = sync_claude_code(root, db=db)
    assert (again.status, again.files, again.bytes_read) == ("unchanged", {"unchanged": 2}, 0)
    assert db[names.IMPORT_JOBS].count_documents({}) == jobs
    assert len(_messages(db)) == 5


def test_grown_file_is_read_from_its_checkpoint(db, other_db, tmp_path: Path) -> None:
    root, f = _project(tmp_path)
    sync_claude_code(root, db=db)
    db[names.SESSIONS].update_one({"sessionId": "s1"}, {"$set": {"title": "Kept title"}})
    before = f.stat().st_size
    rest = streamed("s1")[3:]  # the rest of the streamed response, then more of the session
    with f.open("a") as fh:
        fh.writelines(_line(x) for x in rest)
    grown = sync_claude_code(root, db=db)
    assert grown.status == "completed" and grown.files == {"grown": 1, "unchanged": 1}
    assert grown.bytes_read == f.stat().st_size - before
    assert grown.messages_written == len(rest) and grown.merged == 1
    # The response streamed across the two syncs carries its usage once, on its last line.
    msgs = _messages(db)
    assert "usage" not in msgs["s1-a2"] and msgs["s1-a3"]["usage"]["output_tokens"] == 273
    import_file(root, db=other_db)  # everything read at once
    assert _tokens(db, "s1") == _tokens(other_db, "s1")
    assert _tokens(db, "s1")["outputTokens"] == 273 + 120 + 30
    assert db[names.SESSIONS].find_one({"sessionId": "s1"})["title"] == "Kept title"
    assert db[names.SESSIONS].find_one({"sessionId": "s1"})["startedAt"].minute == 0


def test_half_written_line_waits_for_its_newline(db, tmp_path: Path) -> None:
    root, f = _project(tmp_path)
    sync_claude_code(root, db=db)
    line = _line(user("s1-late", "s1", "2025-07-01T10:09:00.000Z", "still typing"))
    with f.open("a") as fh:
        fh.write(line[:25])
    waiting = sync_claude_code(root, db=db)
    assert waiting.status == "unchanged" and waiting.files == {"waiting": 1, "unchanged": 1}
    with f.open("a") as fh:
        fh.write(line[25:])
    done = sync_claude_code(root, db=db)
    assert done.status == "completed" and done.messages_written == 1 and not done.warnings
    assert _messages(db)["s1-late"]["content"] == "still typing"


def test_truncated_and_rewritten_files_are_read_whole(db, tmp_path: Path) -> None:
    root, f = _project(tmp_path)
    sync_claude_code(root, db=db)
    # truncated: shorter than the checkpoint's offset
    lines = f.read_text().splitlines(keepends=True)
    f.write_text(lines[0])
    cut = sync_claude_code(root, db=db)
    assert cut.files == {"truncated": 1, "unchanged": 1}
    assert cut.bytes_read == len(lines[0].encode())
    # rewritten: longer, but with another head (Claude Code compacting a file)
    new = [user("s1-n1", "s1", "2025-07-01T11:00:00.000Z", "rewritten head")] + streamed("s1")
    write(f, new)
    rewritten = sync_claude_code(root, db=db)
    assert rewritten.files == {"rewritten": 1, "unchanged": 1}
    assert rewritten.bytes_read == f.stat().st_size and rewritten.messages_written == 6
    assert "s1-n1" in _messages(db)
    assert _tokens(db, "s1")["outputTokens"] == 273 + 120 + 30
    assert sync_claude_code(root, db=db).status == "unchanged"


def test_new_file_in_a_synced_folder(db, tmp_path: Path) -> None:
    root, _ = _project(tmp_path)
    sync_claude_code(root, db=db)
    write(root / "-home-u-other" / "s3.jsonl", [user("s3-u1", "s3", "2025-07-03T10:00:00.000Z")])
    res = sync_claude_code(root, db=db)
    assert (res.inserted, res.files) == (1, {"new": 1, "unchanged": 2})
    assert db[names.SESSIONS].count_documents({}) == 3


def test_last_line_without_newline(db, other_db, fixtures_dir: Path, tmp_path: Path) -> None:
    """session_b.jsonl ends without a newline: that whole last line is imported, and a line
    appended right after it (no newline between) is read from there."""
    root = tmp_path / "projects"
    (root / "-tmp").mkdir(parents=True)
    src = fixtures_dir / "claude-code-log" / "session_b.jsonl"
    f = root / "-tmp" / "session_b.jsonl"
    f.write_bytes(src.read_bytes())
    assert not src.read_bytes().endswith(b"\n")
    first = sync_claude_code(root, db=db)
    assert first.messages_written == import_file(src, db=other_db).messages_written == 3
    with f.open("a") as fh:
        fh.write(_line(user("b-more", "session_b", "2025-06-14T12:05:00Z", "more")))
    grown = sync_claude_code(root, db=db)
    assert (grown.files, grown.messages_written, grown.warnings) == ({"grown": 1}, 1, 0)
    assert db[names.SESSIONS].find_one({"sessionId": "session_b"})["messageCount"] == 4


def test_undone_sync_is_read_again(db, tmp_path: Path) -> None:
    from claudelens_nb import undo_import

    root, f = _project(tmp_path)
    first = sync_claude_code(root, db=db)
    with f.open("a") as fh:
        fh.write(_line(user("s1-more", "s1", "2025-07-01T10:09:00.000Z", "more")))
    grown = sync_claude_code(root, db=db)
    assert grown.messages_written == 1
    undo_import(grown.job_id, db=db)
    assert "s1-more" not in _messages(db)
    again = sync_claude_code(root, db=db)
    assert again.files == {"undone": 1, "unchanged": 1} and again.messages_written == 1
    assert "s1-more" in _messages(db)
    undo_import(first.job_id, db=db)
    undo_import(again.job_id, db=db)
    assert sync_claude_code(root, db=db).files == {"undone": 2}
    assert len(_messages(db)) == 6 and sync_claude_code(root, db=db).status == "unchanged"
