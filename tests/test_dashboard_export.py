"""The Export tab in headless Chromium: six formats downloaded and read back, filters vs the database."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from e2e.fixtures import *  # noqa: F403
from e2e.harness import banner, download, stat, wait_stat

from claudelens_nb.filters import Filter, matching_session_ids
from claudelens_nb.store import collections as names

FORMATS = ["json", "csv", "markdown", "pdf", "jsonl", "parquet"]


def _db_counts(db, flt: Filter) -> tuple[set[str], int, float]:
    ids = set(matching_session_ids(db, flt))
    msgs = sum(c.count_documents({"sessionId": {"$in": sorted(ids)}}) for c in names.message_collections(db))
    cost = sum(float(s["totalCost"].to_decimal()) for s in db[names.SESSIONS].find({"sessionId": {"$in": sorted(ids)}}))
    return ids, msgs, cost


def _export_via_ui(page, fmt: str, dest: Path) -> Path:
    page.click(f".cl-format-{fmt}")
    page.wait_for_selector(f".cl-format-{fmt}.cl-selected")
    page.click(".cl-start-export")
    text = banner(page, "cl-export-banner", "ok", timeout=120_000)
    assert "Exported" in text
    return download(page, ".cl-download-link", dest)


def _check_file(fmt: str, path: Path, ids: set[str], messages: int) -> None:
    data = path.read_bytes()
    if fmt == "json":
        doc = json.loads(data)
        assert {c["id"] for c in doc["conversations"]} == ids
        assert sum(len(c["messages"]) for c in doc["conversations"]) == messages
        assert doc["metadata"]["total_conversations"] == len(ids)
    elif fmt == "jsonl":
        rows = [json.loads(line) for line in data.decode().splitlines() if line.strip()]
        convs = [r for r in rows if "_meta" not in r]
        assert {c["id"] for c in convs} == ids
        assert sum(len(c["messages"]) for c in convs) == messages
    elif fmt == "csv":
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            conv = list(csv.DictReader(io.StringIO(z.read("conversations.csv").decode("utf-8-sig"))))
            msgs = list(csv.DictReader(io.StringIO(z.read("messages.csv").decode("utf-8-sig"))))
        assert {r["conversation_id"] for r in conv} == ids
        assert len(msgs) == messages
    elif fmt == "parquet":
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            conv = pq.read_table(io.BytesIO(z.read("conversations.parquet")))
            msgs = pq.read_table(io.BytesIO(z.read("messages.parquet")))
        assert set(conv.column("conversation_id").to_pylist()) == ids
        assert msgs.num_rows == messages
    elif fmt == "markdown":
        text = data.decode("utf-8")
        assert text.startswith("# ClaudeLens Export")
        for cid in ids:
            assert cid in text
    elif fmt == "pdf":
        assert data.startswith(b"%PDF-")
        assert b"%%EOF" in data[-1024:]


@pytest.mark.parametrize("fmt", FORMATS)
def test_export_each_format_through_the_browser(app_page, e2e_db, tmp_path, fmt):
    page = app_page
    page.click(".cl-tabs .lm-TabBar-tab:has-text('Export Data')")
    ids, messages, _ = _db_counts(e2e_db.db, Filter())
    assert stat(page, "conversations") == str(len(ids))
    path = _export_via_ui(page, fmt, tmp_path)
    _check_file(fmt, path, ids, messages)


def test_filter_by_dates_and_project_matches_the_database(app_page, e2e_db, tmp_path):
    page = app_page
    db = e2e_db.db
    starts = sorted(s["startedAt"] for s in db[names.SESSIONS].find({}, {"startedAt": 1}))
    since, until = starts[2].date(), starts[-3].date()
    project = "my-app"
    flt = Filter(since=since, until=until, projects=[project])
    ids, messages, cost = _db_counts(db, flt)
    assert 0 < len(ids) < 20

    page.fill(".cl-since input", since.isoformat())
    page.fill(".cl-until input", until.isoformat())
    page.select_option(".cl-projects select", [project])
    wait_stat(page, "conversations", len(ids))
    assert page.is_checked(".cl-mode input[type=radio] >> nth=1")  # switched to "Currently Filtered"
    assert stat(page, "messages") == str(messages)
    assert float(stat(page, "cost")) == pytest.approx(cost, abs=1e-6)
    assert f"Currently Filtered ({len(ids)})" in page.inner_text(".cl-mode")
    rows = page.locator(".cl-conv-row:visible")
    assert rows.count() == min(len(ids), 8)

    path = _export_via_ui(page, "json", tmp_path)
    _check_file("json", path, ids, messages)
    page.click(".cl-clear-filters")
    wait_stat(page, "conversations", 20)
