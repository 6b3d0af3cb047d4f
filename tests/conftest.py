"""Test fixtures: one real SecantusDB server per test run, a fresh database per test.

Set CLAUDELENS_TEST_MONGODB_URI to run the same suite against another MongoDB server.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from pymongo.database import Database

from claudelens_nb import state
from claudelens_nb.store import connection, server

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(os.environ.get("CLAUDELENS_FIXTURES", REPO.parent / "shared" / "fixtures"))
OUTPUT = Path(os.environ.get("CLAUDELENS_TEST_OUTPUT", REPO / "test-output"))


@pytest.fixture(scope="session")
def mongo_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    uri = os.environ.get("CLAUDELENS_TEST_MONGODB_URI")
    if uri:
        yield uri
        return
    home = tmp_path_factory.mktemp("secantus-home")
    info = server.ensure_server(home)
    yield info.uri
    state.reset()
    server.stop_server(home)


def wait_until(pred, timeout: float = 30.0) -> None:
    """Poll `pred` until it is true; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


@contextmanager
def fresh_database(mongo_uri: str, prefix: str = "t", name: str | None = None) -> Iterator[Database]:
    """An empty database with a unique name (or `name`), dropped afterwards."""
    name = name or f"{prefix}_{uuid.uuid4().hex[:12]}"
    database = connection.connect(mongo_uri, name)
    try:
        yield database
    finally:
        database.client.drop_database(name)
        state.forget(database)


@pytest.fixture()
def db(mongo_uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    """A fresh, empty database; library calls without an explicit db land here too."""
    with fresh_database(mongo_uri) as database:
        monkeypatch.setenv("CLAUDELENS_MONGODB_URI", mongo_uri)
        monkeypatch.setenv("CLAUDELENS_DB", database.name)
        monkeypatch.setenv("CLAUDELENS_HOME", str(tmp_path / "home"))
        monkeypatch.setenv("CLAUDELENS_EXPORT_DIR", str(tmp_path / "exports"))
        yield database


@pytest.fixture()
def other_db(mongo_uri: str) -> Iterator[Database]:
    """A second fresh database beside `db` (round trips from one database into another)."""
    with fresh_database(mongo_uri, "t2") as database:
        yield database


@pytest.fixture()
def seeded_db(db: Database) -> Database:
    """20 demo conversations of 30 messages over six monthly collections."""
    from claudelens_nb.demo import seed_demo

    seed_demo(db, sessions=20, messages_per_session=30, seed=7)
    return db


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    if not FIXTURES.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"fixtures folder {FIXTURES} is missing; CI must run these tests")
        pytest.skip(f"fixtures folder {FIXTURES} not found (set CLAUDELENS_FIXTURES)")
    return FIXTURES


@pytest.fixture(scope="session")
def output_dir() -> Path:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    return OUTPUT


@dataclass
class OwnServer:
    """A server of the test's own, to stop mid-way; `db` holds a small demo."""

    home: Path
    db: Database

    def stop(self) -> None:
        server.stop_server(self.home)

    def restart(self) -> Database:
        info = server.ensure_server(self.home)
        return connection.connect(info.uri, self.db.name)


@pytest.fixture()
def own_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[OwnServer]:
    from claudelens_nb.demo import seed_demo

    home = tmp_path / "own-server"
    info = server.ensure_server(home)
    monkeypatch.setenv("CLAUDELENS_EXPORT_DIR", str(tmp_path / "exports"))
    own = OwnServer(home, connection.connect(info.uri, "lost"))
    try:
        seed_demo(own.db, sessions=8, messages_per_session=10, seed=3)
        yield own
    finally:
        own.stop()
