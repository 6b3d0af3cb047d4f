"""CSV and Parquet exports: exact columns, counts, formula-safe cells, typed Parquet."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, datetime

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pymongo.database import Database

from claudelens_nb import records
from claudelens_nb.exports import export
from claudelens_nb.exports.archive import MANIFEST
from claudelens_nb.exports.csv_safety import neutralise, unneutralise
from claudelens_nb.exports.table_columns import CONVERSATION_COLUMNS, MESSAGE_COLUMNS
from claudelens_nb.store import collections as names
from claudelens_nb.store.schema import collection_for_write

HOSTILE = ["=HYPERLINK(\"http://x\")", "+1+2", "-2", "@SUM(A1)", "\tTab", "\rCR", "'=quoted",
           "''+twice", "plain", "'apostrophe", "", "=", "- item"]


@pytest.mark.parametrize("value", HOSTILE)
def test_neutralise_round_trips(value: str) -> None:
    out = neutralise(value)
    assert unneutralise(out) == value
    if value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        assert out.startswith("'")


def _read_zip_csv(path, name: str) -> pd.DataFrame:
    with zipfile.ZipFile(path) as zf:
        return pd.read_csv(io.BytesIO(zf.read(name)), dtype=str, keep_default_na=False)


def test_csv_zip_tables(seeded_db: Database) -> None:
    res = export(None, "csv", db=seeded_db)
    assert res.path.suffix == ".zip" and res.compressed
    with zipfile.ZipFile(res.path) as zf:
        assert sorted(zf.namelist()) == ["conversations.csv", "manifest.json", "messages.csv"]
        raw = zf.read("messages.csv").decode("utf-8")
    assert raw.splitlines()[0] == ",".join(MESSAGE_COLUMNS) and "\r\n" in raw
    convs = _read_zip_csv(res.path, "conversations.csv")
    msgs = _read_zip_csv(res.path, "messages.csv")
    assert list(convs.columns) == CONVERSATION_COLUMNS and list(msgs.columns) == MESSAGE_COLUMNS
    assert len(convs) == 20 and len(msgs) == 600
    assert set(msgs["conversation_id"]) == set(convs["conversation_id"])
    # multi-line code blocks and non-Latin text survive RFC 4180 quoting
    assert msgs["content"].str.contains("```python\ndef total", regex=False).any()
    assert msgs["content"].str.contains("日本語", regex=False).any()
    stored = {s["sessionId"]: s for s in seeded_db.sessions.find()}
    for row in convs.itertuples():
        assert int(row.message_count) == stored[row.conversation_id]["messageCount"]
        assert row.tags == ";".join(stored[row.conversation_id].get("tags", []))
    assert set(msgs["role"]) <= {"user", "assistant", "system"}
    assert (msgs.loc[msgs["type"] == "tool_use", "role"] == "assistant").all()
    assert (msgs.loc[msgs["type"] == "tool_use", "tool_name"] != "").all()
    # secrets removed by default in CSV too
    assert not msgs["content"].str.contains("sk-ant-api03", regex=False).any()


def test_csv_cells_are_neutralised(db: Database) -> None:
    ts = datetime(2026, 4, 2, 12, 0, tzinfo=UTC)
    docs = []
    for i, text in enumerate(HOSTILE):
        msg = {"id": f"h{i}", "parent_id": None, "type": "user", "content": text,
               "timestamp": ts.replace(second=i), "tokens": {}, "metadata": {}}
        docs.append(records.message_document("hostile", msg))
    for d in docs:
        collection_for_write(db, d["timestamp"]).insert_one(d)
    pid = db[names.PROJECTS].insert_one({"name": "=cmd|' /C calc'!A0", "path": "/x"}).inserted_id
    session = records.session_document({"id": "hostile", "created_at": ts, "title": "@evil",
                                         "tags": ["-rm", "ok"], "messages": []}, pid)
    session.update(records.session_stats(docs))
    db[names.SESSIONS].insert_one(session)
    res = export(None, "csv", db=db)
    msgs = _read_zip_csv(res.path, "messages.csv")
    convs = _read_zip_csv(res.path, "conversations.csv")
    for text, cell in zip(HOSTILE, msgs["content"], strict=True):
        assert cell == neutralise(text) and unneutralise(cell) == text
        assert cell[:1] not in ("=", "+", "-", "@", "\t", "\r")
    assert convs.loc[0, "title"] == "'@evil" and convs.loc[0, "project_name"].startswith("'=")
    assert convs.loc[0, "tags"] == "'-rm;ok"


def test_csv_single_table(seeded_db: Database) -> None:
    res = export(None, "csv", options={"csv_tables": "messages"}, db=seeded_db)
    assert res.path.suffix == ".csv" and not res.compressed
    with open(res.path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == MESSAGE_COLUMNS and len(rows) == 601


def test_parquet_typed_tables(seeded_db: Database, monkeypatch) -> None:
    from claudelens_nb.exports.read import scan

    monkeypatch.setattr(scan, "YIELD_MESSAGES", 50)  # many small batches reach the writer
    res = export({"message_types": ["user", "assistant"]}, "parquet", db=seeded_db)
    with zipfile.ZipFile(res.path) as zf:
        assert sorted(zf.namelist()) == ["conversations.parquet", MANIFEST, "messages.parquet"]
        msgs = pq.read_table(io.BytesIO(zf.read("messages.parquet")))
        convs = pq.read_table(io.BytesIO(zf.read("conversations.parquet")))
        # Row groups of up to 10,000 rows, not one per chunk of conversations written.
        groups = [pq.ParquetFile(io.BytesIO(zf.read(n))).metadata.num_row_groups
                  for n in ("conversations.parquet", "messages.parquet")]
    assert groups == [1, 1]
    assert msgs.schema.field("timestamp").type == pa.timestamp("ms", tz="UTC")
    assert msgs.schema.field("cost_usd").type == pa.float64()
    assert msgs.schema.field("tokens_input").type == pa.int64()
    assert convs.schema.field("created_at").type == pa.timestamp("ms", tz="UTC")
    assert convs.schema.field("tags").type == pa.list_(pa.string())
    assert convs.num_rows == 20 == res.conversations
    assert msgs.num_rows == res.messages
    assert set(msgs.column("type").to_pylist()) == {"user", "assistant"}
    stored = sum(c.count_documents({"type": {"$in": ["user", "assistant"]}})
                 for c in names.message_collections(seeded_db))
    assert msgs.num_rows == stored
    df = msgs.to_pandas()
    cost = sum(float(d["costUsd"].to_decimal()) for c in names.message_collections(seeded_db)
               for d in c.find({"costUsd": {"$exists": True}}))
    assert df["cost_usd"].sum() == pytest.approx(cost, rel=1e-12)
