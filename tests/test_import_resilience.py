"""Re-runs change nothing; a killed import completes on re-run; cancel leaves whole conversations."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from bson import ObjectId
from test_import_helpers import conversations, snapshot, write_json

from claudelens_nb import demo, records
from claudelens_nb.imports import import_file, undo_import
from claudelens_nb.progress import CancelToken
from claudelens_nb.store import collections as names


def demo_file(path: Path, sessions: int, per_session: int, seed: int = 11) -> list[dict]:
    """Our JSON made straight from demo.generate (no database involved)."""
    convs = []
    projects = {p[1]: ObjectId() for p in demo.PROJECTS}
    for session, docs in demo.generate(sessions, per_session, seed):
        name, ppath, _ = session.pop("_project")
        project = {"_id": projects[ppath], "name": name, "path": ppath}
        convs.append(records.record_to_json(records.conversation_record(session, project, docs)))
    write_json(path, convs)
    return convs


def message_count(db) -> int:
    return sum(c.count_documents({}) for c in names.message_collections(db))


def assert_whole_conversations(db) -> None:
    """Every session's messageCount matches its stored messages; no message without a session."""
    sessions = {s["sessionId"]: s["messageCount"] for s in db.sessions.find({})}
    actual: dict[str, int] = {}
    for coll in names.message_collections(db):
        for d in coll.find({}, {"sessionId": 1}):
            actual[d["sessionId"]] = actual.get(d["sessionId"], 0) + 1
    assert actual == {k: v for k, v in sessions.items() if v}


@pytest.mark.parametrize("strategy", ["skip", "replace", "merge"])
def test_rerunning_the_same_import_changes_nothing(db, tmp_path, strategy):
    path = tmp_path / "same.json"
    demo_file(path, 6, 20)
    first = import_file(path, strategy=strategy, db=db)
    assert first.inserted == 6
    after_first = snapshot(db)
    second = import_file(path, strategy=strategy, db=db)
    assert second.inserted == 0
    assert snapshot(db) == after_first


def test_killed_import_completes_on_rerun_without_duplicates(db, tmp_path):
    path = tmp_path / "big.json"
    convs = demo_file(path, 60, 50)
    total = sum(len(c["messages"]) for c in convs)
    code = ("import sys; from claudelens_nb.imports import import_file; "
            "import_file(sys.argv[1])")
    proc = subprocess.Popen([sys.executable, "-c", code, str(path)], env=dict(os.environ))
    try:
        deadline = time.monotonic() + 120
        while message_count(db) < 600:
            assert proc.poll() is None, "the import finished before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    partial = message_count(db)
    assert 0 < partial < total
    killed = db.import_jobs.find_one({})
    assert killed["status"] == "running"
    result = import_file(path, db=db)
    assert result.status == "completed"
    assert message_count(db) == total
    assert db.sessions.count_documents({}) == 60
    assert_whole_conversations(db)
    def by_id(items):
        return sorted(items, key=lambda c: c["id"])

    assert by_id(conversations(db)) == by_id(convs)
    # Both jobs can be undone, the killed one too (its process is gone).
    undo_import(result.job_id, db=db)
    undo_import(str(killed["_id"]), db=db)
    assert message_count(db) == 0 and db.sessions.count_documents({}) == 0
    assert db.projects.count_documents({}) == 0


def test_cancel_leaves_whole_conversations_and_is_undoable(db, tmp_path):
    path = tmp_path / "cancel.json"
    demo_file(path, 20, 150)
    token = CancelToken()
    stages = []

    def progress(p):
        stages.append(p.stage)
        if p.stage == "Importing" and p.done > 0:
            token.cancel()

    result = import_file(path, progress=progress, cancel=token, db=db)
    assert result.status == "cancelled"
    assert 0 < result.inserted < 20
    assert db.sessions.count_documents({}) == result.inserted
    assert_whole_conversations(db)
    job = db.import_jobs.find_one({})
    assert job["status"] == "cancelled" and job["counts"]["inserted"] == result.inserted
    assert stages[0] == "Validating" and "Importing" in stages and stages[-1] == "Finalizing"
    undo_import(result.job_id, db=db)
    assert message_count(db) == 0 and db.sessions.count_documents({}) == 0


def test_cancel_during_validation_writes_nothing(db, tmp_path):
    from claudelens_nb.errors import Cancelled

    path = tmp_path / "v.json"
    demo_file(path, 3, 5)
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        import_file(path, cancel=token, db=db)
    assert snapshot(db, bookkeeping=True) == {}


def test_progress_stages_in_order(db, tmp_path):
    path = tmp_path / "p.json"
    demo_file(path, 4, 10)
    seen = []
    import_file(path, progress=lambda p: seen.append((p.stage, p.done, p.total)), db=db)
    order = [s for i, (s, _, _) in enumerate(seen) if i == 0 or seen[i - 1][0] != s]
    assert order == ["Validating", "Importing", "Processing messages", "Finalizing"]
    assert ("Importing", 4, 4) in seen and seen[-1] == ("Finalizing", 1, 1)


def test_cancel_mid_batch_acts_quickly_and_takes_the_batch_back(db, tmp_path):
    import threading

    path = tmp_path / "one-long.json"
    demo_file(path, 1, 1500)
    token = CancelToken()
    when: list[float] = []

    def watch():
        while message_count(db) == 0:
            time.sleep(0.01)
        when.append(time.monotonic())
        token.cancel()

    t = threading.Thread(target=watch, daemon=True)
    t.start()
    result = import_file(path, cancel=token, db=db)
    if result.status == "completed":
        pytest.skip("the server wrote the whole batch before the cancel could be seen")
    took = time.monotonic() - when[0]
    assert result.status == "cancelled" and result.inserted == 0
    # About a second on an idle machine (inserts are sized to ~0.4 s, then the batch's
    # messages are taken back); the bound is loose because test machines are shared.
    assert took < 5.0, took
    assert message_count(db) == 0 and db.sessions.count_documents({}) == 0
    assert db.import_jobs.find_one({})["status"] == "cancelled"
