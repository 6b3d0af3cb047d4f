"""The embedded server, connecting, the schema, and where messages live."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from claudelens_nb.errors import DatabaseUnavailable
from claudelens_nb.store import collections as names
from claudelens_nb.store import connection, schema, server


def test_unreachable_uri_names_host_hides_password() -> None:
    start = time.monotonic()
    with pytest.raises(DatabaseUnavailable) as err:
        connection.connect("mongodb://alice:s3cretpw@127.0.0.1:9/claudelens")
    elapsed = time.monotonic() - start
    text = str(err.value)
    assert "127.0.0.1:9" in text
    assert "s3cretpw" not in text
    assert "alice:***@" in text
    assert elapsed < 7


def test_redact_uri() -> None:
    assert connection.redact_uri("mongodb://u:p@h:1/db") == "mongodb://u:***@h:1/db"
    assert connection.redact_uri("mongodb+srv://u:p%40x@cluster/db") == "mongodb+srv://u:***@cluster/db"
    assert connection.redact_uri("mongodb://h:1/db") == "mongodb://h:1/db"


def test_hosts_named_by_pymongos_parser() -> None:
    assert connection._hosts("mongodb://alice:pw@127.0.0.1:9/claudelens") == "127.0.0.1:9"
    assert connection._hosts("mongodb://a:1,b/?replicaSet=r") == "a:1,b"
    assert connection._hosts("mongodb+srv://u:p@cluster0.example.net/db") == "cluster0.example.net"
    assert connection._hosts("mongodb://[::1]:5/x") == "[::1]:5"


def test_pid_alive_sees_zombies_and_strangers_as_gone() -> None:
    child = subprocess.Popen(["true"])
    try:
        deadline = time.monotonic() + 10
        while server.pid_alive(child.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not server.pid_alive(child.pid)  # exited, not yet reaped: a zombie
    finally:
        child.wait()
    assert server.pid_alive(os.getpid())
    assert not server.pid_alive(-1) and not server.pid_alive("12") and not server.pid_alive(2**22 + 1)


def test_uri_argument_wins_over_environment(db, mongo_uri, monkeypatch) -> None:
    monkeypatch.setenv("CLAUDELENS_MONGODB_URI", "mongodb://127.0.0.1:9")
    handle = connection.connect(mongo_uri, db.name)
    assert handle.name == db.name
    with pytest.raises(DatabaseUnavailable):
        connection.connect(None, db.name)


def test_schema_is_idempotent(db) -> None:
    db["messages_2026_01"].insert_one({"uuid": "a", "sessionId": "s", "timestamp": datetime.now(UTC)})
    schema.ensure_schema(db, force=True)
    schema.ensure_schema(db, force=True)
    sess = db[names.SESSIONS].index_information()
    assert sess["sessionId_1"]["unique"] is True
    assert db[names.PROJECTS].index_information()["path_1"]["unique"] is True
    msg = db["messages_2026_01"].index_information()
    assert msg["uuid_1"]["unique"] is True
    assert msg["sessionId_1_timestamp_1"]["key"] == [("sessionId", 1), ("timestamp", 1)]
    assert "created_at_-1" in db[names.EXPORT_JOBS].index_information()
    assert "created_at_-1" in db[names.IMPORT_JOBS].index_information()


def test_message_collections_monthly_and_legacy(db) -> None:
    ts = datetime(2026, 3, 31, 23, 59, 59, tzinfo=UTC)
    assert names.monthly_name(ts) == "messages_2026_03"
    assert names.collection_for(db, ts).name == "messages_2026_03"
    db["messages"].insert_one({"uuid": "old", "sessionId": "s", "timestamp": ts})
    assert names.uses_single_collection(db)
    assert names.collection_for(db, ts).name == "messages"
    db["messages_2026_04"].insert_one({"uuid": "new", "sessionId": "s", "timestamp": ts})
    db["messages_notamonth"].insert_one({"x": 1})
    assert names.message_collection_names(db) == ["messages", "messages_2026_04"]
    assert not names.uses_single_collection(db)


def test_client_is_tz_aware(db) -> None:
    ts = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    db.t.insert_one({"ts": ts})
    got = db.t.find_one()["ts"]
    assert got.tzinfo is not None and got == ts


def _run_cli(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLAUDELENS_")}
    env["CLAUDELENS_HOME"] = str(home)
    return subprocess.run(
        [sys.executable, "-m", "claudelens_nb.cli", *args], env=env, capture_output=True, text=True,
        timeout=120,
    )


def test_embedded_server_shared_stale_and_cli(tmp_path: Path) -> None:
    home = tmp_path / "home"
    try:
        first = server.ensure_server(home)
        state = json.loads((home / "server.json").read_text())
        assert state["pid"] == first.pid and state["port"] == first.port
        # A second process on the same data folder reuses the running server.
        out = _run_cli(home, "db", "start")
        assert out.returncode == 0, out.stderr
        assert f"pid {first.pid}" in out.stdout
        status = _run_cli(home, "db", "status")
        assert status.returncode == 0 and f":{first.port}/" in status.stdout
        # Data written by one client is seen through the next server on the same folder.
        client = connection.client_for(first.uri)
        client.persist.t.insert_one({"k": "kept"})
        assert _run_cli(home, "db", "stop").stdout.strip() == "stopped"
        connection.close_all()
        assert server.status(home) is None
        # A stale state file (dead pid) is detected and replaced.
        (home / "server.json").write_text(json.dumps({"pid": 999999, "port": 9, "storage_path": "x"}))
        second = server.ensure_server(home)
        assert second.pid != 999999 and server.status(home) == second
        assert connection.client_for(second.uri).persist.t.find_one({}, {"_id": 0}) == {"k": "kept"}
    finally:
        connection.close_all()
        server.stop_server(home)
    assert _run_cli(home, "db", "status").returncode == 3
