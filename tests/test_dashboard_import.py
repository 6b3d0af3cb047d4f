"""The Import and History tabs in headless Chromium: conflicts resolved per conversation, undo, a 30 MB upload."""

from __future__ import annotations

import copy
import json
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from e2e.fixtures import *  # noqa: F403
from e2e.harness import banner, tab, upload

from claudelens_nb.exports import export
from claudelens_nb.store import collections as names


def _message_count(db, sid: str) -> int:
    return sum(c.count_documents({"sessionId": sid}) for c in names.message_collections(db))


def _title(db, sid: str) -> str | None:
    return db[names.SESSIONS].find_one({"sessionId": sid}).get("title")


@pytest.fixture(scope="module")
def edited_export(e2e_db, tmp_path_factory) -> tuple[Path, list[str]]:
    """Our JSON export of the whole database with three conversations edited."""
    folder = tmp_path_factory.mktemp("import-src")
    src = folder / "src.json"
    export(None, "json", path=src, db=e2e_db.db)
    doc = json.loads(src.read_text())
    convs = doc["conversations"]
    a, b, c = convs[0], convs[1], convs[2]
    a["title"] = "Replaced by the import"
    c["title"] = "Skipped edit"
    extra = copy.deepcopy(b["messages"][-1])
    extra["id"] = str(uuid.uuid4())
    extra["parent_id"] = b["messages"][-1]["id"]
    extra["content"] = "A message only the import file has."
    ts = datetime.fromisoformat(extra["timestamp"].replace("Z", "+00:00")) + timedelta(seconds=5)
    extra["timestamp"] = ts.isoformat().replace("+00:00", "Z")
    if isinstance(extra.get("metadata"), dict):
        extra["metadata"].pop("contentHash", None)
    b["messages"].append(extra)
    b["message_count"] = len(b["messages"])
    path = folder / "conversations_edited.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path, [a["id"], b["id"], c["id"]]


def test_import_with_conflicts_per_conversation_then_undo_from_history(app_page, e2e_db, edited_export):
    page, db = app_page, e2e_db.db
    path, (a, b, c) = edited_export
    before = {sid: (_title(db, sid), _message_count(db, sid)) for sid in (a, b, c)}
    total_before = db[names.SESSIONS].count_documents({})

    tab(page, "Import Data")
    upload(page, path)
    assert "is valid" in banner(page, "cl-validation", "ok")
    info = page.inner_text(".cl-file-info")
    assert "conversations_edited.json" in info and "20 conversations" in info
    assert "Found 20 conversations that already exist" in page.inner_text(".cl-conflict-count")
    assert page.locator(".cl-map-select").count() > 0  # the field mapping table is shown

    page.click(".cl-apply-all-strategy button:has-text('Skip')")
    page.click(f".cl-conflict-{a} .cl-conflict-strategy button:has-text('Replace')")
    page.click(f".cl-conflict-{b} .cl-conflict-strategy button:has-text('Merge')")
    page.wait_for_selector(f".cl-conflict-{b} .cl-conflict-strategy button.mod-active:has-text('Merge')")
    page.wait_for_timeout(300)
    page.click(".cl-start-import")
    text = banner(page, "cl-import-banner", "ok", timeout=120_000)
    assert "1 replaced" in text and "1 merged" in text and "18 skipped" in text, text
    assert page.get_attribute(".cl-result-replaced", "data-value") == "1"
    assert page.get_attribute(".cl-result-merged", "data-value") == "1"
    assert "20 of 20 conversations imported" in page.inner_text(".cl-import-progress")

    assert _title(db, a) == "Replaced by the import"
    assert _message_count(db, b) == before[b][1] + 1
    assert _title(db, c) == before[c][0]  # skipped: untouched
    assert db[names.SESSIONS].count_documents({}) == total_before

    tab(page, "Export History")
    page.wait_for_selector(".cl-import-table .cl-history-undo:not([disabled])")
    page.locator(".cl-import-table .cl-history-undo").first.click()
    undone = banner(page, "cl-history-banner", "ok")
    # In words, and only what the import changed: B's added message, A's and B's sessions.
    assert "undone: removed 0 conversations and 1 message it had added; put back 2 conversations" in undone
    assert "_" not in undone.split("undone:")[1], undone  # no raw keys such as restored_messages
    assert _title(db, a) == before[a][0]
    assert _message_count(db, b) == before[b][1]
    assert db[names.SESSIONS].count_documents({}) == total_before
    page.wait_for_selector(".cl-import-table .cl-import-status:has-text('Undone')")


def test_upload_of_30_mb_through_the_browser(app_page, e2e_db, edited_export, tmp_path):
    page = app_page
    src, _ = edited_export
    doc = json.loads(src.read_text())
    pad = " lorem ipsum dolor sit amet" * 1900
    for conv in doc["conversations"]:
        conv["id"] = str(uuid.uuid4())
        for m in conv["messages"]:
            m["content"] = (m.get("content") or "") + pad
    big = tmp_path / "big_upload.json"
    big.write_text(json.dumps(doc), encoding="utf-8")
    size = big.stat().st_size
    assert size > 30 * 1024 * 1024

    tab(page, "Import Data")
    upload(page, big)
    banner(page, "cl-validation", "ok", timeout=180_000, contains="big_upload.json is valid")
    info = page.inner_text(".cl-file-info")
    assert "20 conversations" in info and "601 messages" in info  # 600 + the one added for the merge
    assert f"{size / 1024 / 1024:.1f} MB" in info
    # The bytes were written to a private temp file, not kept in the widget.
    uploads = list((e2e_db.home / "uploads").rglob("*.json"))
    assert [p.stat().st_size for p in uploads] == [size]
    assert oct(uploads[0].stat().st_mode & 0o777) == "0o600"


def test_a_bad_file_shows_a_red_banner_not_a_traceback(app_page, tmp_path):
    page = app_page
    bad = tmp_path / "broken.json"
    bad.write_text('{"conversations": [ {"id": "x", ', encoding="utf-8")
    tab(page, "Import Data")
    upload(page, bad)
    text = banner(page, "cl-validation", "error", contains="broken.json")
    assert "broken.json" in text
    assert "Traceback" not in page.inner_text(".cl-app")
    assert page.is_disabled(".cl-start-import")


_DROP = """([files, selector]) => {
  const dt = new DataTransfer();
  for (const [name, text] of files) dt.items.add(new File([text], name, {type: "application/json"}));
  const zone = document.querySelector(selector);
  for (const kind of ["dragenter", "dragover", "drop"]) {
    zone.dispatchEvent(new DragEvent(kind, {dataTransfer: dt, bubbles: true, cancelable: true}));
  }
}"""


def test_a_file_dropped_on_the_zone_is_validated(app_page, e2e_db, edited_export):
    page = app_page
    src, _ = edited_export
    text = src.read_text(encoding="utf-8")
    tab(page, "Import Data")
    assert "Drag and drop your file here" in page.inner_text(".cl-dropzone")
    page.evaluate(_DROP, [[["dropped_export.json", text]], ".cl-dropzone"])
    banner(page, "cl-validation", "ok", timeout=120_000, contains="dropped_export.json is valid")
    info = page.inner_text(".cl-file-info")
    assert "dropped_export.json" in info and "20 conversations" in info and "601 messages" in info
    saved = [p for p in (e2e_db.home / "uploads").rglob("*.json") if p.stat().st_size == len(text.encode())]
    assert saved and saved[0].read_text(encoding="utf-8") == text  # the dropped bytes, unchanged

    page.evaluate(_DROP, [[["a.json", "{}"], ["b.json", "{}"]], ".cl-dropzone"])
    assert "one file at a time (got 2)" in banner(page, "cl-validation", "error", contains="one file")
    # Above the upload limit: refused in the browser, before any byte is sent.
    page.evaluate("""() => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array(100 * 1024 * 1024 + 1)], "huge.json"));
      document.querySelector(".cl-dropzone").dispatchEvent(
        new DragEvent("drop", {dataTransfer: dt, bubbles: true, cancelable: true}));
    }""")
    text = banner(page, "cl-validation", "error", contains="huge.json")
    assert "100.0 MB" in text and "path on the server" in text
