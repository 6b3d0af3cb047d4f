"""Round trips: demo data -> export -> import into an empty database -> export again."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from test_import_helpers import snapshot

from claudelens_nb.exports import export
from claudelens_nb.imports import import_file, validate_file

PLAIN = {"remove_secrets": False}


def _without_export_date(data: bytes) -> bytes:
    return re.sub(rb'"export_date":\s*"[^"]*"', b'"export_date": ""', data)


def _zip_members(path: Path, password: str | None = None) -> dict[str, bytes]:
    import pyzipper

    with pyzipper.AESZipFile(path) as zf:
        if password:
            zf.setpassword(password.encode())
        return {n: zf.read(n) for n in zf.namelist()}


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_json_and_jsonl_round_trip_byte_for_byte(seeded_db, other_db, tmp_path, fmt):
    first = export(None, fmt, tmp_path / f"first.{fmt}", options=PLAIN, db=seeded_db)
    result = import_file(first.path, db=other_db)
    assert result.status == "completed" and result.inserted == 20 and result.messages_written == 600
    second = export(None, fmt, tmp_path / f"second.{fmt}", options=PLAIN, db=other_db)
    a, b = first.path.read_bytes(), second.path.read_bytes()
    assert _without_export_date(a) == _without_export_date(b)
    if fmt == "json":
        assert a != b or b'"export_date"' not in a  # the date was the only thing allowed to differ
    # The stored documents are ClaudeLens's, not ours: same ids, same collections.
    src, dst = snapshot(seeded_db), snapshot(other_db)
    assert sorted(src) == sorted(dst)
    for name in src:
        if name.startswith("messages"):
            def strip(docs):
                return sorted(({k: v for k, v in d.items() if k != "_id"} for d in docs),
                              key=lambda d: d["uuid"])

            assert strip(src[name]) == strip(dst[name])


@pytest.mark.parametrize("password", [None, "correct horse 🐎"])
def test_zip_archives_round_trip(seeded_db, other_db, tmp_path, password):
    opts = {**PLAIN, "compress": True, "password": password}
    first = export(None, "json", tmp_path / "first.zip", options=opts, db=seeded_db)
    assert first.compressed and first.encrypted == bool(password)
    report = validate_file(first.path, password=password, db=other_db)
    assert report.ok and report.archive and report.encrypted == bool(password)
    assert report.kind == "json" and report.stats["messages"] == 600
    import_file(first.path, password=password, db=other_db)
    second = export(None, "json", tmp_path / "second.zip", options=opts, db=other_db)
    m1, m2 = _zip_members(first.path, password), _zip_members(second.path, password)
    (name,) = [n for n in m1 if n != "manifest.json"]
    assert _without_export_date(m1[name]) == _without_export_date(m2[n2 := next(
        n for n in m2 if n != "manifest.json")]), n2


def test_csv_round_trip_gives_the_same_tables(seeded_db, other_db, tmp_path):
    first = export(None, "csv", tmp_path / "first.zip", options=PLAIN, db=seeded_db)
    report = validate_file(first.path, db=other_db)
    assert report.ok and report.kind == "csv" and report.stats["messages"] == 600
    import_file(first.path, db=other_db)
    second = export(None, "csv", tmp_path / "second.zip", options=PLAIN, db=other_db)
    t1, t2 = _zip_members(first.path), _zip_members(second.path)
    for table in ("conversations.csv", "messages.csv"):
        assert t1[table] == t2[table], table


def test_messages_csv_alone_imports(seeded_db, other_db, tmp_path):
    first = export(None, "csv", tmp_path / "messages.csv", options={**PLAIN, "csv_tables": "messages"},
                   db=seeded_db)
    assert first.path.suffix == ".csv"
    result = import_file(first.path, db=other_db)
    assert result.inserted == 20 and result.messages_written == 600
    second = export(None, "csv", tmp_path / "again.csv", options={**PLAIN, "csv_tables": "messages"},
                    db=other_db)
    assert first.path.read_bytes() == second.path.read_bytes()


def test_project_ids_survive_the_round_trip(seeded_db, other_db, tmp_path):
    first = export(None, "json", tmp_path / "p.json", options=PLAIN, db=seeded_db)
    import_file(first.path, db=other_db)
    src = {p["path"]: p["_id"] for p in seeded_db.projects.find({})}
    dst = {p["path"]: p["_id"] for p in other_db.projects.find({})}
    assert dst == src


def test_zip_member_names_do_not_decide_the_kind(seeded_db, other_db, tmp_path):
    first = export(None, "jsonl", tmp_path / "x.jsonl", options=PLAIN, db=seeded_db)
    disguised = tmp_path / "disguised.zip"
    with zipfile.ZipFile(disguised, "w") as zf:
        zf.write(first.path, "export.json")  # JSONL content under a .json name
    report = validate_file(disguised, db=other_db)
    assert report.kind == "jsonl" and report.stats["conversations"] == 20
