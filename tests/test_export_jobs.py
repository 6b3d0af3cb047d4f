"""Export jobs: history, retention, download refusals, cancel, failure, preview."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from pymongo.database import Database

from claudelens_nb.errors import Cancelled, ExportError
from claudelens_nb.exports import (
    cleanup_exports,
    delete_export,
    export,
    export_file_path,
    history,
    preview,
)
from claudelens_nb.exports.jobs import resolve_job_id
from claudelens_nb.progress import CancelToken
from claudelens_nb.store import collections as names

if TYPE_CHECKING:
    from conftest import OwnServer


def _export_dir(tmp_path: Path) -> Path:
    return tmp_path / "exports"


def test_job_document_and_history(seeded_db: Database) -> None:
    events = []
    first = export(None, "json", progress=events.append, db=seeded_db)
    second = export({"projects": ["infra"]}, "csv", db=seeded_db)
    rows = history(db=seeded_db)
    assert [r["job_id"] for r in rows[:2]] == [second.job_id, first.job_id]
    row = rows[1]
    assert row["status"] == "completed" and row["format"] == "json"
    assert row["conversations"] == 20 and row["messages"] == 600
    assert row["size"] == first.size and row["sha256"] == first.sha256
    assert row["file_name"] == first.path.name and row["error"] is None
    assert row["expires_at"] - row["created_at"] == timedelta(days=30)
    assert row["completed_at"] >= row["created_at"]
    assert rows[0]["filters"] == {"projects": ["infra"]}
    stages = [e.stage for e in events]
    assert stages[0] == "Counting" and "Exporting" in stages and stages[-1] == "Finalizing"
    exporting = [e for e in events if e.stage == "Exporting"]
    assert exporting[-1].done == exporting[-1].total == 20
    assert history(page=1, page_size=1, db=seeded_db)[0]["job_id"] == first.job_id
    assert history(page=5, page_size=1, db=seeded_db) == []
    assert export_file_path(first.job_id, db=seeded_db) == first.path.resolve()
    assert resolve_job_id(first.job_id[:10], db=seeded_db) == first.job_id


def test_retention_expires_file_keeps_record(seeded_db: Database) -> None:
    res = export(None, "jsonl", db=seeded_db)
    keep = export(None, "json", db=seeded_db)
    seeded_db[names.EXPORT_JOBS].update_one(
        {"_id": res.job_id}, {"$set": {"created_at": res_created(seeded_db, res.job_id) - timedelta(days=31)}}
    )
    assert cleanup_exports(db=seeded_db) == 1
    assert not res.path.exists() and keep.path.exists()
    rows = {r["job_id"]: r for r in history(db=seeded_db)}
    assert rows[res.job_id]["status"] == "expired" and rows[keep.job_id]["status"] == "completed"
    with pytest.raises(ExportError, match="expired"):
        export_file_path(res.job_id, db=seeded_db)
    # twice the retention: the record goes too
    seeded_db[names.EXPORT_JOBS].update_one(
        {"_id": res.job_id}, {"$set": {"created_at": res_created(seeded_db, res.job_id) - timedelta(days=30)}}
    )
    assert cleanup_exports(db=seeded_db) == 1
    assert res.job_id not in {r["job_id"] for r in history(db=seeded_db)}


def res_created(db: Database, job_id: str):
    return db[names.EXPORT_JOBS].find_one({"_id": job_id})["created_at"]


def test_download_refusals(seeded_db: Database, tmp_path: Path) -> None:
    outside = export(None, "json", tmp_path / "elsewhere.json", db=seeded_db)
    with pytest.raises(ExportError, match="outside the export folder"):
        export_file_path(outside.job_id, db=seeded_db)
    owned = export(None, "jsonl", db=seeded_db, owner="ana")
    assert export_file_path(owned.job_id, db=seeded_db, owner="ana").exists()
    with pytest.raises(ExportError, match="another user"):
        export_file_path(owned.job_id, db=seeded_db, owner="bob")
    assert [r["job_id"] for r in history(db=seeded_db, owner="bob")] == [outside.job_id]
    # a record pointing through a link to a file outside the folder is refused
    link_target = tmp_path / "secret.txt"
    link_target.write_text("not yours")
    link = _export_dir(tmp_path) / "link.json"
    link.symlink_to(link_target)
    seeded_db[names.EXPORT_JOBS].update_one({"_id": owned.job_id}, {"$set": {"path": str(link)}})
    with pytest.raises(ExportError, match="outside the export folder"):
        export_file_path(owned.job_id, db=seeded_db)
    owned.path.unlink()
    seeded_db[names.EXPORT_JOBS].update_one({"_id": owned.job_id}, {"$set": {"path": str(owned.path)}})
    with pytest.raises(ExportError, match="missing"):
        export_file_path(owned.job_id, db=seeded_db)
    with pytest.raises(ExportError, match="no export job"):
        export_file_path("0" * 32, db=seeded_db)


def test_delete_export(seeded_db: Database) -> None:
    res = export(None, "json", db=seeded_db)
    assert delete_export(res.job_id, db=seeded_db) is True
    assert not res.path.exists()
    assert res.job_id not in {r["job_id"] for r in history(db=seeded_db)}
    assert delete_export(res.job_id, db=seeded_db) is False


def test_cancel_from_another_thread(seeded_db: Database, tmp_path: Path) -> None:
    token = CancelToken()
    started = threading.Event()
    outcome: dict = {}

    def on_progress(event) -> None:
        if event.stage == "Exporting" and event.done >= 2:
            started.set()
        time.sleep(0.05)  # keep the export going long enough to be cancelled mid-way

    def run() -> None:
        try:
            export(None, "json", options={"chunk_size": 1}, progress=on_progress, cancel=token,
                   db=seeded_db)
        except Cancelled as exc:
            outcome["error"] = exc
        outcome["ended"] = time.monotonic()

    worker = threading.Thread(target=run)
    worker.start()
    assert started.wait(30)
    asked = time.monotonic()
    token.cancel()
    worker.join(10)
    assert isinstance(outcome.get("error"), Cancelled)
    assert outcome["ended"] - asked < 1.0
    assert list(_export_dir(tmp_path).iterdir()) == []
    job = seeded_db[names.EXPORT_JOBS].find_one({}, sort=[("created_at", -1)])
    assert job["status"] == "cancelled" and job["error"] == "cancelled by the user"
    assert history(db=seeded_db)[0]["status"] == "cancelled"


def test_write_failure_marks_job_failed_and_removes_partial(seeded_db: Database, tmp_path: Path) -> None:
    """A disk that fills up mid-way (a 64 KB file size limit in a child process)."""
    script = textwrap.dedent("""
        import resource, signal, sys
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (65536, 65536))
        from claudelens_nb.errors import ExportError
        from claudelens_nb.exports import export
        try:
            export(None, "json", options={"chunk_size": 2, "auto_compress_bytes": 10**9})
        except ExportError as exc:
            print("ExportError:", exc)
            sys.exit(3)
        sys.exit(0)
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, env=os.environ.copy())
    assert proc.returncode == 3, proc.stderr
    assert "File too large" in proc.stdout
    assert list(_export_dir(tmp_path).iterdir()) == []
    job = seeded_db[names.EXPORT_JOBS].find_one({})
    assert job["status"] == "failed" and "File too large" in job["error"]
    assert history(db=seeded_db)[0]["status"] == "failed"


def test_database_lost_mid_export(own_server: OwnServer, tmp_path: Path) -> None:
    def stop_after_first_chunk(event) -> None:
        if event.stage == "Exporting" and event.done >= 1:
            own_server.stop()

    with pytest.raises(ExportError, match="database was lost"):
        export(None, "json", options={"chunk_size": 1}, progress=stop_after_first_chunk,
               db=own_server.db)
    assert list((tmp_path / "exports").iterdir()) == []
    db = own_server.restart()
    job = db[names.EXPORT_JOBS].find_one({})
    if job["status"] == "running":  # the server was gone when the failure was recorded
        cleanup_exports(db=db)
        job = db[names.EXPORT_JOBS].find_one({})
    assert job["status"] == "failed" and job["error"]


def test_preview_counts_from_the_database(seeded_db: Database) -> None:
    p = preview(None, db=seeded_db)
    assert p.conversations == 20 and p.messages == 600
    stored = sum(float(s["totalCost"].to_decimal()) for s in seeded_db.sessions.find())
    assert p.total_cost == pytest.approx(stored, rel=1e-12)
    assert len(p.items) == 20 and all(i["title"] for i in p.items)
    assert [i["created_at"] for i in p.items] == sorted(i["created_at"] for i in p.items)
    assert set(p.items[0]) == {"id", "title", "project_name", "created_at", "message_count", "cost_usd"}
    assert set(p.estimated_bytes) == {"json", "jsonl", "csv", "markdown", "pdf", "parquet"}
    actual = export(None, "json", db=seeded_db).size
    assert 0.5 * actual < p.estimated_bytes["json"] < 2 * actual
    page = preview({"projects": ["my-app"]}, db=seeded_db, page=1, page_size=2)
    assert len(page.items) <= 2 and all(i["project_name"] == "my-app" for i in page.items)
    typed = preview({"message_types": ["tool_use"]}, db=seeded_db)
    stored_tools = sum(c.count_documents({"type": "tool_use"}) for c in names.message_collections(seeded_db))
    assert typed.messages == stored_tools and typed.conversations == 20
    assert json.dumps(p.date_range)


def test_bad_requests_are_clear_errors(seeded_db: Database) -> None:
    with pytest.raises(ExportError, match="unknown export format"):
        export(None, "xlsx", db=seeded_db)
    with pytest.raises(ExportError, match="unknown export option"):
        export(None, "json", options={"colour": "red"}, db=seeded_db)
    from claudelens_nb.errors import InvalidFilter

    with pytest.raises(InvalidFilter):
        export({"since": "2026-05-10", "until": "2026-05-01"}, "json", db=seeded_db)


def test_cleanup_fails_jobs_left_running_by_a_dead_process(seeded_db: Database, tmp_path: Path) -> None:
    res = export(None, "jsonl", db=seeded_db)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    job_id = "f" * 32
    doc = dict(seeded_db[names.EXPORT_JOBS].find_one({"_id": res.job_id}))
    doc.update(_id=job_id, job_id=job_id, status="running", pid=int(dead.stdout), path=None)
    seeded_db[names.EXPORT_JOBS].insert_one(doc)
    work = _export_dir(tmp_path) / f".claudelens-export-x.json.{job_id[:8]}.work"
    work.mkdir()
    (work / "partial.json").write_text("{")
    assert cleanup_exports(db=seeded_db) == 1
    job = seeded_db[names.EXPORT_JOBS].find_one({"_id": job_id})
    assert job["status"] == "failed" and "stopped before finishing" in job["error"]
    assert not work.exists() and res.path.exists()
