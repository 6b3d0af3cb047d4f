"""Helpers shared by the import tests (no tests here): files from records, DB snapshots."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from pymongo.database import Database

from claudelens_nb import records
from claudelens_nb.exports.read import iter_conversations
from claudelens_nb.store import collections as names

BOOKKEEPING = {"import_jobs", "import_undo", "export_jobs"}


def conversations(db: Database) -> list[dict[str, Any]]:
    """Every stored conversation as JSON-ready dicts (what our JSON export holds)."""
    return [records.record_to_json(c) for chunk in iter_conversations(db=db) for c in chunk]


def write_json(path: Path, convs: list[dict[str, Any]], *, envelope: bool = True) -> Path:
    data: Any = (
        {"version": "1.0.0", "export_date": "2026-11-29T00:00:00.000Z", "metadata": {},
         "conversations": convs}
        if envelope else {"conversations": convs}
    )
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def write_jsonl(path: Path, convs: list[dict[str, Any]], meta: bool = True) -> Path:
    with open(path, "w", encoding="utf-8") as fh:
        if meta:
            fh.write(json.dumps({"_meta": {"version": "1.0.0"}}) + "\n")
        for c in convs:
            fh.write(json.dumps(c, ensure_ascii=False) + "\n")
    return path


def snapshot(db: Database, *, bookkeeping: bool = False) -> dict[str, list[dict[str, Any]]]:
    """Every document of every collection (sorted by _id), for exact comparisons."""
    out = {}
    for name in sorted(db.list_collection_names()):
        if name in BOOKKEEPING and not bookkeeping:
            continue
        docs = list(db[name].find({}).sort("_id", 1))
        if docs:
            out[name] = docs
    return out


def message_docs(db: Database, session_id: str) -> list[dict[str, Any]]:
    docs = []
    for coll in names.message_collections(db):
        docs.extend(coll.find({"sessionId": session_id}))
    return sorted(docs, key=lambda d: (d["timestamp"], d["uuid"]))


def session(db: Database, session_id: str) -> dict[str, Any]:
    return db[names.SESSIONS].find_one({"sessionId": session_id})


def deep(value: Any) -> Any:
    return copy.deepcopy(value)
