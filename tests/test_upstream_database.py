"""Writing into a database upstream ClaudeLens set up: its validators, its users, its job
records. Upstream's own code (db_init, UserService, its Pydantic job models) makes them."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from bson import ObjectId
from pymongo.database import Database

import claudelens_nb
from claudelens_nb.cli import main
from claudelens_nb.errors import ImportFileError
from claudelens_nb.store import collections as names
from tests.conftest import fresh_database
from tests.upstream import harness


@pytest.fixture()
def up_db(mongo_uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    """A database upstream's db_init prepared (validators, indexes, empty `messages`)."""
    name = f"u_{uuid.uuid4().hex[:12]}"
    # db_init first: it creates the validated collections only where none exist yet.
    harness.db_init(mongo_uri, name, tmp_path / "up-home")
    with fresh_database(mongo_uri, name=name) as database:
        assert "validator" in database.sessions.options()
        monkeypatch.setenv("CLAUDELENS_MONGODB_URI", mongo_uri)
        monkeypatch.setenv("CLAUDELENS_DB", database.name)
        monkeypatch.setenv("CLAUDELENS_HOME", str(tmp_path / "home"))
        monkeypatch.setenv("CLAUDELENS_EXPORT_DIR", str(tmp_path / "exports"))
        yield database


def _conv(cid: str, **extra: object) -> dict:
    return {"id": cid, "title": f"about {cid}", "created_at": "2026-03-01T10:00:00.000Z",
            "messages": [{"id": f"{cid}-u", "type": "user", "content": "Question?",
                          "timestamp": "2026-03-01T10:00:00.000Z"},
                         {"id": f"{cid}-a", "type": "assistant", "content": "Answer.",
                          "timestamp": "2026-03-01T10:00:05.000Z"}], **extra}


def _write(path: Path, convs: list[dict]) -> Path:
    path.write_text(json.dumps({"version": "1.0.0", "conversations": convs}))
    return path


def _messages(db: Database) -> dict[str, str]:
    out = {}
    for name in names.message_collection_names(db):
        for d in db[name].find({}, {"uuid": 1, "sessionId": 1}):
            out[d["uuid"]] = d["sessionId"]
    return out


def test_import_passes_upstreams_validators(up_db: Database, tmp_path: Path) -> None:
    # No summary, no project description: upstream's validators want text or no field.
    p = _write(tmp_path / "in.json", [_conv("c1"), _conv("c2", summary=None)])
    result = claudelens_nb.import_file(p, db=up_db)
    assert (result.status, result.inserted, result.failed) == ("completed", 2, 0)
    assert up_db.sessions.count_documents({}) == 2
    assert "summary" not in up_db.sessions.find_one({"sessionId": "c2"})
    assert "description" not in up_db.projects.find_one({})
    # Upstream's empty legacy `messages` is not where its data goes: monthly collections are.
    assert up_db["messages"].count_documents({}) == 0
    assert up_db["messages_2026_03"].count_documents({}) == 4


def test_a_refused_session_writes_none_of_its_messages(up_db: Database, tmp_path: Path) -> None:
    # `metadata` must be an object for upstream's sessions validator.
    p = _write(tmp_path / "in.json", [_conv("good"), _conv("bad", metadata={"metadata": "oops"})])
    result = claudelens_nb.import_file(p, db=up_db)
    assert (result.inserted, result.failed) == (1, 1)
    assert len(result.errors) == 1
    error = result.errors[0]
    assert "'bad'" in error and "session" in error and "'metadata' must be object, not string" in error
    assert _messages(up_db) == {"good-u": "good", "good-a": "good"}
    assert up_db.sessions.find_one({"sessionId": "bad"}) is None


def test_a_refused_replace_keeps_what_was_stored(up_db: Database, tmp_path: Path) -> None:
    claudelens_nb.import_file(_write(tmp_path / "a.json", [_conv("c1")]), db=up_db)
    before = {d["uuid"]: d for d in up_db["messages_2026_03"].find()}
    bad = _conv("c1", metadata={"metadata": "oops"})
    bad["messages"] = bad["messages"][:1]
    result = claudelens_nb.import_file(_write(tmp_path / "b.json", [bad]), strategy="replace",
                                       db=up_db)
    assert (result.replaced, result.failed) == (0, 1)
    assert {d["uuid"]: d for d in up_db["messages_2026_03"].find()} == before


def test_owner_is_the_only_user_or_the_one_named(up_db: Database, mongo_uri: str,
                                                 tmp_path: Path) -> None:
    home = tmp_path / "up-home"
    alice = harness.make_user(mongo_uri, up_db.name, home, "alice")
    claudelens_nb.import_file(_write(tmp_path / "a.json", [_conv("c1", project_path="/p/one")]),
                              db=up_db)
    one = up_db.projects.find_one({"path": "/p/one"})
    assert one["user_id"] == ObjectId(alice["user_id"])
    bob = harness.make_user(mongo_uri, up_db.name, home, "bob")
    # Two users: no default; named by user name, id, email or API key.
    for n, who in enumerate(["bob", bob["user_id"], "bob@example.com", bob["api_key"]]):
        path = f"/p/bob{n}"
        claudelens_nb.import_file(_write(tmp_path / f"b{n}.json", [_conv(f"b{n}", project_path=path)]),
                                  db=up_db, owner=who)
        assert up_db.projects.find_one({"path": path})["user_id"] == ObjectId(bob["user_id"])
    claudelens_nb.import_file(_write(tmp_path / "n.json", [_conv("n", project_path="/p/none")]),
                              db=up_db)
    assert "user_id" not in up_db.projects.find_one({"path": "/p/none"})
    with pytest.raises(ImportFileError, match="owner 'carol': no user"):
        claudelens_nb.import_file(tmp_path / "n.json", db=up_db, owner="carol")


def test_cli_owner(up_db: Database, mongo_uri: str, tmp_path: Path, capsys) -> None:
    bob = harness.make_user(mongo_uri, up_db.name, tmp_path / "up-home", "bob")
    harness.make_user(mongo_uri, up_db.name, tmp_path / "up-home", "alice")
    p = _write(tmp_path / "a.json", [_conv("c1", project_path="/p/cli")])
    assert main(["import", str(p), "--owner", "bob", "--quiet"]) == 0
    assert up_db.projects.find_one({"path": "/p/cli"})["user_id"] == ObjectId(bob["user_id"])
    assert main(["import", str(p), "--owner", "nobody", "--quiet"]) != 0
    assert "owner 'nobody'" in capsys.readouterr().err


def _upstream_job(mongo_uri: str, db: Database, home: Path, model: str, **fields: object) -> None:
    """A job record made by upstream's own Pydantic model, stored as upstream stores it."""
    args = ", ".join(f"{k}={v!r}" for k, v in fields.items())
    harness.run_backend_script(
        "from pymongo import MongoClient\n"
        "from app.core.config import settings\n"
        f"from app.models.{model.lower()}_job import {model}Job\n"
        f"job = {model}Job({args})\n"
        "MongoClient(settings.MONGODB_URL)[settings.DATABASE_NAME]"
        f"['{model.lower()}_jobs'].insert_one(job.model_dump(by_alias=True))\n",
        mongo_uri, db.name, home)


def test_job_records_share_the_collections(up_db: Database, mongo_uri: str, tmp_path: Path,
                                           capsys) -> None:
    home = tmp_path / "up-home"
    _upstream_job(mongo_uri, up_db, home, "Export", user_id="u1", format="json", status="completed",
                  file_path="/backups/x.json")
    _upstream_job(mongo_uri, up_db, home, "Import", user_id="u1", file_id="f1", status="completed")
    theirs = {c: up_db[c].find_one() for c in ("export_jobs", "import_jobs")}
    claudelens_nb.import_file(_write(tmp_path / "a.json", [_conv("c1")]), db=up_db)
    out = claudelens_nb.export(None, "json", tmp_path / "all.json", db=up_db)
    assert main(["history"]) == 0
    listed = capsys.readouterr().out
    assert out.job_id[:8] in listed and listed.count("\n") == 2  # header and our one export
    assert [r["job_id"] for r in claudelens_nb.history()] == [out.job_id]
    assert main(["import", "--history"]) == 0
    assert "a.json" in capsys.readouterr().out
    assert len(claudelens_nb.import_history(db=up_db)) == 1
    claudelens_nb.cleanup_exports(db=up_db)
    # Upstream's records are left exactly as upstream wrote them.
    assert {c: up_db[c].find_one({"_id": theirs[c]["_id"]}) for c in theirs} == theirs
