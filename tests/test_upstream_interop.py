"""Interop with the real ClaudeLens, proven by running its own code (tests/upstream/).

Upstream's `claudelens sync` CLI posts a Claude config folder (the real fixtures plus a
synthetic session dated this week) to its FastAPI backend on 127.0.0.1, which ingests into
one database; our import reads the same folder into another database that upstream's
db_init prepared. The two are compared document by document; every difference must be one
of the deliberate ones in docs/upstream.md.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from bson import Decimal128
from pymongo import MongoClient
from pymongo.database import Database

import claudelens_nb
from claudelens_nb import pricing
from claudelens_nb.store import connection
from tests.upstream import compare, harness, transcripts

FIXTURE_FOLDER = "-home-alice-code-demo-app"


@dataclass
class World:
    claude: Path  # a Claude config folder (holding projects/)
    up: Database  # what upstream's sync wrote
    ours: Database  # what our import wrote, on a database upstream's db_init prepared
    uri: str
    home: Path
    line_sidechain: dict[str, bool]  # uuid -> the line's own isSidechain
    counted: set[str]  # uuids whose usage counts (one line per API response)


def _lines(claude: Path) -> Iterator[dict[str, Any]]:
    for f in sorted((claude / "projects").rglob("*.jsonl")):
        for raw in f.read_text(encoding="utf-8").splitlines():
            try:
                obj = json.loads(raw)
            except ValueError:
                continue
            if isinstance(obj, dict) and isinstance(obj.get("uuid"), str):
                yield obj


@pytest.fixture(scope="module")
def world(mongo_uri: str, fixtures_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    base = tmp_path_factory.mktemp("interop")
    claude = base / "claude"
    shutil.copytree(fixtures_dir / "claude-code-log", claude / "projects" / FIXTURE_FOLDER)
    transcripts.write(claude / "projects" / transcripts.FOLDER)
    home = base / "home"
    tag = uuid.uuid4().hex[:8]
    client: MongoClient = MongoClient(mongo_uri)
    up, ours = client[f"up_{tag}"], client[f"ours_{tag}"]
    app = harness.App(mongo_uri, up.name, home)
    try:
        harness.sync(app, "unused-on-localhost", claude, home)
    finally:
        app.stop()
    harness.db_init(mongo_uri, ours.name, home)
    # Upstream's app, reached from 127.0.0.1, acts as its user "admin": made by its own code.
    harness.make_user(mongo_uri, ours.name, home, "admin")
    result = claudelens_nb.import_file(claude / "projects", strategy=None,
                                       db=connection.connect(mongo_uri, ours.name))
    assert (result.status, result.failed) == ("completed", 0)
    sidechain = {o["uuid"]: bool(o.get("isSidechain")) for o in _lines(claude)}
    counted = set()
    for name in compare.message_collections(ours):
        counted |= {d["uuid"] for d in ours[name].find({"usage": {"$exists": True}}, {"uuid": 1})}
    yield World(claude, up, ours, mongo_uri, home, sidechain, counted)
    client.drop_database(up.name)
    client.drop_database(ours.name)
    client.close()


def _money(value: Any) -> Decimal | None:
    return value.to_decimal() if isinstance(value, Decimal128) else None


def _line_of(doc_uuid: str) -> str:
    for mark in ("_tool_", "_result_"):
        if mark in doc_uuid:
            return doc_uuid.split(mark)[0]
    return doc_uuid


def _deliberate(w: World, key: str, theirs: Mapping[str, Any], ours: Mapping[str, Any]) -> str | None:
    """Which deliberate difference (docs/upstream.md) explains `key`, or None."""
    a, b = theirs.get(key), ours.get(key)
    split = ours["type"] in ("tool_use", "tool_result")
    line = _line_of(ours["uuid"])
    if key == "isSidechain" and b == w.line_sidechain.get(line) and a is True:
        return "isSidechain from the line"
    if key in ("costUsd", "usage") and ours["uuid"] not in w.counted and key not in ours:
        return "usage counted once per API response"
    if key == "costUsd" and a is not None and b is not None:
        if abs(_money(a) - _money(b)) < Decimal("1e-12"):
            return "same cost, exact decimals (upstream sums floats)"
        if _money(b) == pricing.cost_from_usage(ours.get("model"), ours.get("usage") or {}):
            return "cost from our price table"
    if key == "metadata" and isinstance(a, Mapping) and isinstance(b, Mapping):
        theirs_kept = dict(a)
        if split or ours["uuid"] not in w.counted:
            theirs_kept.pop("usage", None)
        if all(b.get(k) == v for k, v in theirs_kept.items()):
            return "metadata keeps the line's other fields" if set(b) - set(theirs_kept) else (
                "usage counted once per API response")
    if key == "parentUuid" and ours["type"] == "tool_result" and isinstance(a, str) \
            and a.split("_tool_")[0] in ("None", theirs.get("parentUuid", "").split("_tool_")[0]):
        return "tool result linked to the tool call it answers"
    if key in ("summary", "leafUuid") and key not in theirs:
        return "summary on its leaf wherever the summary line is"
    if key == "content" and ours["type"] == "system" and key not in theirs:
        return "system line's text kept"
    if line == "assistant_004" and key in ("messageData", "contentHash", "content"):
        return "a uuid's line in its own session's file wins"
    return None


def test_every_document_matches_upstreams_sync(w_table: Counter) -> None:
    assert not w_table.get("UNEXPLAINED"), w_table


@pytest.fixture(scope="module")
def w_table(world: World) -> Counter:
    theirs = compare.messages_by_uuid(world.up)
    ours = compare.messages_by_uuid(world.ours)
    assert set(theirs) == set(ours), (set(theirs) ^ set(ours))
    table: Counter = Counter()
    unexplained = []
    for uid in sorted(theirs):
        (c1, a), (c2, b) = theirs[uid], ours[uid]
        assert c1 == c2, (uid, c1, c2)  # the same monthly collection
        a, b = compare.plain(a), compare.plain(b)
        for key in compare.field_diff(a, b):
            reason = _deliberate(world, key, a, b)
            if reason is None:
                unexplained.append((uid, key, a.get(key), b.get(key)))
            table[reason or "UNEXPLAINED"] += 1
        table["documents"] += 1
    print("\ndifferences by reason:", dict(table))
    assert not unexplained, unexplained[:10]
    return table


def test_document_counts_and_collections(world: World) -> None:
    assert len(compare.messages_by_uuid(world.ours)) == len(compare.messages_by_uuid(world.up)) == 64
    # Upstream's db_init left an empty legacy `messages`: we write monthly collections as its
    # ingest does.
    assert world.ours["messages"].count_documents({}) == 0
    assert compare.message_collections(world.ours) == compare.message_collections(world.up)


def test_indexes_match_upstreams(world: World) -> None:
    for name in compare.message_collections(world.up):
        if name == "messages":
            continue
        assert set(world.ours[name].index_information()) == set(world.up[name].index_information())
        assert len(world.ours[name].index_information()) == 10  # _id and upstream's nine


def test_recent_session_figures_match_upstream(world: World) -> None:
    a = compare.session_view(world.up, transcripts.SESSION)
    b = compare.session_view(world.ours, transcripts.SESSION)
    for key in ("messageCount", "startedAt", "endedAt", "toolsUsed", "summary"):
        assert a[key] == b[key], key
    assert b["messageCount"] == 13 and b["toolsUsed"] == 3
    assert b["summary"] == "Added the price filter to the orders API"
    # Upstream sums usage on every document of a line and on both lines of one streamed
    # response; we count each API response once (docs/upstream.md).
    assert (b["inputTokens"], b["outputTokens"]) == (3012 + 3004 + 3230, 240 + 180 + 95)
    assert a["inputTokens"] > b["inputTokens"]
    a2 = compare.messages_by_uuid(world.up)["a2"][1]
    assert abs(_money(a["totalCost"]) - _money(a2["costUsd"]) - _money(b["totalCost"])) < Decimal("1e-12")
    assert a["project"][:2] == b["project"][:2] == (
        str(world.claude / "projects" / transcripts.FOLDER), "api")


def test_projects_match_upstreams(world: World) -> None:
    def view(db: Database) -> list[tuple]:
        users = {u["_id"]: u["username"] for u in db.users.find()}
        return sorted((p["name"], p["path"], p.get("description"), users.get(p.get("user_id")))
                      for p in db.projects.find())
    assert view(world.ours) == view(world.up) == [
        ("api", str(world.claude / "projects" / transcripts.FOLDER), "Claude project: api", "admin"),
        ("app", str(world.claude / "projects" / FIXTURE_FOLDER), "Claude project: app", "admin")]


def test_upstreams_old_sessions_have_no_figures(world: World) -> None:
    # Upstream's ingest counts a session's messages over the last 365 days only: sessions
    # older than that keep messageCount 0. We count them all (docs/upstream.md).
    old = world.up.sessions.find_one({"sessionId": "test_session"})
    assert old["messageCount"] == 0
    assert world.ours.sessions.find_one({"sessionId": "test_session"})["messageCount"] == 13


def test_importing_what_upstream_synced_adds_nothing(world: World) -> None:
    before = {k: v[1] for k, v in compare.messages_by_uuid(world.up).items()}
    result = claudelens_nb.import_file(world.claude / "projects", strategy=None,
                                       db=connection.connect(world.uri, world.up.name))
    assert (result.status, result.messages_written) == ("completed", 0)
    assert {k: v[1] for k, v in compare.messages_by_uuid(world.up).items()} == before
    assert world.up.projects.count_documents({}) == 2


def test_upstreams_sync_after_our_import_adds_nothing(world: World) -> None:
    before = len(compare.messages_by_uuid(world.ours))
    sessions = world.ours.sessions.count_documents({})
    app = harness.App(world.uri, world.ours.name, world.home)
    try:
        harness.sync(app, "unused-on-localhost", world.claude, world.home)
    finally:
        app.stop()
    assert len(compare.messages_by_uuid(world.ours)) == before
    assert world.ours.sessions.count_documents({}) == sessions
    assert world.ours.projects.count_documents({}) == 2


def _shown(app: harness.App) -> dict[str, Any]:
    """What upstream's app shows of the recent session: list row, its messages, projects."""
    with app.client("unused-on-localhost") as http:
        listed = http.get("/sessions/", params={"limit": 100}).json()
        rows = {s["session_id"]: s for s in listed["items"]}
        row = rows[transcripts.SESSION]
        detail = http.get(f"/sessions/{row['_id']}").json()
        msgs = http.get("/messages/", params={"session_id": transcripts.SESSION, "limit": 100}).json()
        projects = http.get("/projects/").json()
        summary = http.get("/analytics/summary", params={"time_range": "all"})
        assert summary.status_code == 200, summary.text
        totals = summary.json()
    return {
        "summary": {k: totals.get(k) for k in ("total_sessions", "total_messages", "total_projects")},
        "sessions": sorted(rows),
        "row": {k: row[k] for k in ("message_count", "tools_used", "summary", "started_at", "ended_at")},
        "rows": rows,
        "detail": {k: detail[k] for k in ("message_count", "models_used", "working_directory")},
        "messages": {m["uuid"]: (m["type"], m["content"], m.get("parent_uuid")) for m in msgs["items"]},
        "projects": sorted((p["name"], p["path"]) for p in projects["items"]),
    }


def test_upstreams_app_shows_what_we_imported(world: World) -> None:
    shown = {}
    for db in (world.up, world.ours):
        app = harness.App(world.uri, db.name, world.home)
        try:
            shown[db.name] = _shown(app)
        finally:
            app.stop()
    theirs, ours = shown[world.up.name], shown[world.ours.name]
    assert ours["sessions"] == theirs["sessions"] and len(ours["sessions"]) == 6
    assert ours["row"] == theirs["row"] and ours["row"]["message_count"] == 13
    assert ours["detail"] == theirs["detail"]
    assert ours["projects"] == theirs["projects"]
    assert ours["summary"] == theirs["summary"]  # its analytics: the same figures as for its own
    assert set(ours["messages"]) == set(theirs["messages"]) and len(ours["messages"]) == 13
    for uid, (kind, content, _parent) in ours["messages"].items():
        if kind != "system":  # upstream drops a system line's text; we keep it
            assert (kind, content) == theirs["messages"][uid][:2], uid
    # Every listed session shows the counts and costs we stored (upstream's own old
    # sessions show 0 messages: docs/upstream.md).
    for sid, row in ours["rows"].items():
        stored = world.ours.sessions.find_one({"sessionId": sid})
        assert row["message_count"] == stored["messageCount"] > 0
        assert Decimal(str(row["total_cost"])) == stored["totalCost"].to_decimal()


def test_upstreams_importer_accepts_our_json_export(world: World, tmp_path: Path) -> None:
    out = claudelens_nb.export(None, "json", tmp_path / "ours.json", options={"remove_secrets": False},
                               db=connection.connect(world.uri, world.ours.name))
    target = f"{world.up.name}_imp"
    harness.db_init(world.uri, target, world.home)
    stats = json.loads(harness.run_backend_script(
        "import asyncio, json\n"
        "from bson import ObjectId\n"
        "from motor.motor_asyncio import AsyncIOMotorClient\n"
        "from app.core.config import settings\n"
        "from app.models.import_job import ImportJob\n"
        "from app.services.import_service import ImportService\n"
        "async def main():\n"
        "    db = AsyncIOMotorClient(settings.MONGODB_URL)[settings.DATABASE_NAME]\n"
        "    job = ImportJob(user_id='u1', file_id='f1', status='processing')\n"
        "    await db.import_jobs.insert_one(job.model_dump(by_alias=True) | {'_id': ObjectId()})\n"
        "    jid = str((await db.import_jobs.find_one())['_id'])\n"
        f"    stats = await ImportService(db).execute_import(jid, {str(out.path)!r}, {{}},\n"
        "        {'defaultStrategy': 'skip'}, options={'createBackup': False})\n"
        "    print(json.dumps(stats, default=str))\n"
        "asyncio.run(main())\n",
        world.uri, target, world.home).strip().splitlines()[-1])
    client: MongoClient = MongoClient(world.uri)
    try:
        imported = client[target]
        assert stats.get("failed", 0) == 0, stats
        assert imported.sessions.count_documents({}) == out.conversations == 6
        for s in imported.sessions.find():
            ours = world.ours.sessions.find_one({"sessionId": s["sessionId"]})
            assert s["projectId"] == ours["projectId"]
            assert s["messageCount"] == ours["messageCount"]
        assert imported.messages.count_documents({}) == out.messages
    finally:
        client.drop_database(target)
        client.close()


def test_we_import_upstreams_own_json_export(world: World, tmp_path: Path) -> None:
    # Upstream's export reads the legacy `messages` collection (an older deployment): there
    # its sync's documents are put.
    legacy = f"{world.up.name}_legacy"
    client: MongoClient = MongoClient(world.uri)
    try:
        for name in compare.message_collections(world.up):
            docs = list(world.up[name].find())
            if docs:
                client[legacy]["messages"].insert_many(docs)
        for coll in ("projects", "sessions", "users"):
            client[legacy][coll].insert_many(list(world.up[coll].find()))
        path = tmp_path / "upstream-export.json"
        harness.run_backend_script(
            "import asyncio\n"
            "from motor.motor_asyncio import AsyncIOMotorClient\n"
            "from app.core.config import settings\n"
            "from app.services.export_service import ExportService\n"
            "async def main():\n"
            "    db = AsyncIOMotorClient(settings.MONGODB_URL)[settings.DATABASE_NAME]\n"
            "    ids = [str(s['_id']) async for s in db.sessions.find({}, {'_id': 1})]\n"
            f"    with open({str(path)!r}, 'wb') as fh:\n"
            "        async for part in ExportService(db).generate_json_export('job', ids):\n"
            "            fh.write(part)\n"
            "asyncio.run(main())\n",
            world.uri, legacy, world.home)
        exported = json.loads(path.read_text())
        assert len(exported["conversations"]) == 6
        target = connection.connect(world.uri, f"{world.up.name}_fromup")
        result = claudelens_nb.import_file(path, db=target)
        assert (result.status, result.inserted, result.failed) == ("completed", 6, 0)
        # Session ids and message uuids are upstream's, and every message is its session's.
        assert {s["sessionId"] for s in target.sessions.find()} == {
            s["sessionId"] for s in world.up.sessions.find()}
        stored = compare.messages_by_uuid(target)
        assert set(stored) == set(compare.messages_by_uuid(world.up))
        for uid, (_, doc) in stored.items():
            assert doc["sessionId"] == compare.messages_by_uuid(world.up)[uid][1]["sessionId"]
        client.drop_database(target.name)
    finally:
        client.drop_database(legacy)
        client.close()
