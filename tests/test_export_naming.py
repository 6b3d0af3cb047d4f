"""Export outputs are what their names say (a zip only as .zip; CSV/Parquet tables as a folder
or one file per table asked for), pandas and DuckDB read the Parquet export directly, and
import reads back everything export writes, as named."""

from __future__ import annotations

import csv
import json
import zipfile
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from pymongo.database import Database

from claudelens_nb.cli import main
from claudelens_nb.exports import export
from claudelens_nb.imports import import_file
from claudelens_nb.store import collections as names

ZIP_MAGIC = b"PK\x03\x04"


def _is_zip(path: Path) -> bool:
    return path.is_file() and path.read_bytes()[:4] == ZIP_MAGIC


def _no_zip_under_another_name(root: Path) -> None:
    for p in root.rglob("*"):
        if p.is_file() and not p.name.endswith(".zip"):
            assert not _is_zip(p), f"{p} is a zip under another extension"


def _stored(db: Database) -> tuple[int, int]:
    msgs = sum(db[c].count_documents({}) for c in db.list_collection_names() if c.startswith("messages"))
    return db[names.SESSIONS].count_documents({}), msgs


def _cli_export(tmp_path: Path, *args: str) -> int:
    return main(["export", "-q", *args])


def test_csv_named_out_csv_is_a_folder_of_tables_that_import_reads(seeded_db, other_db, tmp_path, capsys):
    out = tmp_path / "out.csv"
    assert _cli_export(tmp_path, "--format", "csv", "-o", str(out)) == 0
    said = capsys.readouterr().out
    assert out.is_dir() and "(a folder: conversations.csv, manifest.json, messages.csv)" in said
    assert sorted(p.name for p in out.iterdir()) == ["conversations.csv", "manifest.json", "messages.csv"]
    # Owner-only, like a single export file (the folder 0700, its files 0600).
    assert (out.stat().st_mode & 0o777, {p.stat().st_mode & 0o777 for p in out.iterdir()}) == (0o700, {0o600})
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["format"] == "csv" and manifest["counts"]["conversations"] == 20
    assert {f["name"] for f in manifest["files"]} == {"conversations.csv", "messages.csv"}
    with open(out / "messages.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][:2] == ["conversation_id", "message_id"] and len(rows) == 601
    _no_zip_under_another_name(tmp_path)
    res = import_file(out, db=other_db)
    assert (res.status, res.inserted) == ("completed", 20)
    assert _stored(other_db) == (20, 600)


def test_csv_with_one_table_is_that_csv_file(seeded_db, other_db, tmp_path):
    out = tmp_path / "messages.csv"
    assert _cli_export(tmp_path, "--format", "csv", "--tables", "messages", "-o", str(out)) == 0
    assert out.is_file() and not _is_zip(out)
    assert out.read_text(encoding="utf-8").startswith("conversation_id,message_id,")
    assert import_file(out, db=other_db).inserted == 20


def test_csv_named_zip_and_compressed_names_are_zips(seeded_db, other_db, tmp_path):
    zipped = export(None, "csv", tmp_path / "team.zip", db=seeded_db)
    assert zipped.path == tmp_path / "team.zip" and _is_zip(zipped.path)
    with zipfile.ZipFile(zipped.path) as z:
        assert sorted(z.namelist()) == ["conversations.csv", "manifest.json", "messages.csv"]
    asked = export(None, "csv", tmp_path / "team.csv", options={"compress": True}, db=seeded_db)
    assert asked.path.name == "team.csv.zip" and _is_zip(asked.path)
    assert import_file(zipped.path, db=other_db).inserted == 20
    _no_zip_under_another_name(tmp_path)


def test_json_named_zip_is_a_zip_holding_the_json(seeded_db, other_db, tmp_path):
    res = export(None, "json", tmp_path / "backup.zip", db=seeded_db)
    assert res.path == tmp_path / "backup.zip" and res.compressed
    with zipfile.ZipFile(res.path) as z:
        assert sorted(z.namelist()) == ["backup.json", "manifest.json"]
        assert json.loads(z.read("backup.json"))["metadata"]["total_conversations"] == 20
    assert import_file(res.path, db=other_db).inserted == 20


def test_parquet_named_x_parquet_is_a_folder_pandas_and_duckdb_read(seeded_db, other_db, tmp_path, capsys):
    duckdb = pytest.importorskip("duckdb")
    out = tmp_path / "x.parquet"
    assert _cli_export(tmp_path, "--format", "parquet", "-o", str(out)) == 0
    assert "(a folder: conversations.parquet, manifest.json, messages.parquet)" in capsys.readouterr().out
    _no_zip_under_another_name(tmp_path)
    msgs = pd.read_parquet(out / "messages.parquet")
    convs = pd.read_parquet(out / "conversations.parquet")
    assert (len(convs), len(msgs)) == (20, 600)
    assert str(msgs["timestamp"].dtype) == "datetime64[ms, UTC]"
    assert str(pq.read_schema(out / "messages.parquet").field("tokens_input").type) == "int64"
    con = duckdb.connect()
    n, cost = con.execute(f"select count(*), round(sum(cost_usd), 6) from '{out / 'messages.parquet'}'").fetchone()
    assert n == 600
    per_conv = con.execute(
        f"select c.conversation_id, c.message_count, count(m.message_id) from '{out / 'conversations.parquet'}' c "
        f"join '{out / 'messages.parquet'}' m using (conversation_id) group by all").fetchall()
    assert len(per_conv) == 20 and all(mc == counted for _, mc, counted in per_conv)
    assert cost == pytest.approx(round(float(convs["cost_usd"].sum()), 6), abs=1e-5)
    # ... and import reads the folder back, the same conversations and messages.
    res = import_file(out, db=other_db)
    assert (res.status, res.inserted, res.messages_written) == ("completed", 20, 600)
    src = {s["sessionId"]: s["messageCount"] for s in seeded_db[names.SESSIONS].find()}
    dst = {s["sessionId"]: s["messageCount"] for s in other_db[names.SESSIONS].find()}
    assert src == dst


def test_parquet_with_one_table_is_one_parquet_file(seeded_db, other_db, tmp_path):
    duckdb = pytest.importorskip("duckdb")
    out = tmp_path / "m.parquet"
    res = export(None, "parquet", out, options={"tables": "messages"}, db=seeded_db)
    assert res.path == out and out.is_file() and out.read_bytes()[:4] == b"PAR1"
    assert pq.read_table(out).num_rows == 600
    assert duckdb.connect().execute(f"select count(distinct conversation_id) from '{out}'").fetchone()[0] == 20
    imported = import_file(out, db=other_db)
    assert (imported.inserted, imported.messages_written) == (20, 600)


def test_default_parquet_export_is_a_zip_import_reads(seeded_db, other_db):
    res = export(None, "parquet", db=seeded_db)
    assert res.path.name.endswith(".zip") and _is_zip(res.path)
    assert import_file(res.path, db=other_db).inserted == 20


def test_a_name_without_suffix_is_a_folder_and_exporting_again_replaces_it(seeded_db, tmp_path):
    first = export(None, "parquet", tmp_path / "tables", db=seeded_db)
    assert first.path.is_dir() and (first.path / "messages.parquet").is_file()
    again = export({"tags": ["bug"]}, "parquet", tmp_path / "tables", db=seeded_db)
    assert again.path == first.path and again.conversations < 20
    assert pq.read_table(again.path / "conversations.parquet").num_rows == again.conversations
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".work")]


def test_a_damaged_folder_table_is_refused(seeded_db, other_db, tmp_path):
    out = export(None, "csv", tmp_path / "out.csv", db=seeded_db).path
    with open(out / "messages.csv", "a", encoding="utf-8") as fh:
        fh.write("x,y\r\n")
    from claudelens_nb.errors import ImportFileError

    with pytest.raises(ImportFileError, match="does not match its manifest"):
        import_file(out, db=other_db)
