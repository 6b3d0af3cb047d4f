"""Markdown and PDF through the export engine: jobs, sanitising, cancel, archive."""

from __future__ import annotations

import shutil
import subprocess
import zipfile

import pytest
from pymongo.database import Database

from claudelens_nb.errors import Cancelled
from claudelens_nb.exports import export, history
from claudelens_nb.progress import CancelToken
from claudelens_nb.store import collections as names


def test_markdown_export(seeded_db: Database) -> None:
    res = export({"projects": ["翻訳ツール", "café-menu"]}, "markdown", db=seeded_db)
    text = res.path.read_text(encoding="utf-8")
    assert res.path.suffix == ".md" and res.conversations > 0
    assert text.startswith("# ClaudeLens Export - ")
    assert text.count("\n### ") == res.conversations
    assert "sk-ant-api03" not in text  # secrets removed before the writer sees the record
    titles = [d.get("title") for d in seeded_db.sessions.find() if d.get("title")]
    assert any(t in text for t in titles)
    assert history(db=seeded_db)[0]["status"] == "completed"


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_pdf_export_has_every_title(seeded_db: Database) -> None:
    res = export({"tags": ["docs"]}, "pdf", options={"include_tool_calls": False}, db=seeded_db)
    assert res.path.read_bytes()[:5] == b"%PDF-"
    text = subprocess.run(["pdftotext", "-layout", str(res.path), "-"], capture_output=True,
                          text=True, check=True).stdout
    data = seeded_db.sessions.find({"tags": "docs"})
    for s in data:
        title = s.get("title") or s.get("summary")
        if title:
            assert " ".join(title.split()[:2]) in " ".join(text.split())


def test_markdown_cancel_removes_partial(seeded_db: Database, tmp_path) -> None:
    token = CancelToken()

    def cancel_after_two(event) -> None:
        if event.stage == "Exporting" and event.done >= 2:
            token.cancel()

    with pytest.raises(Cancelled):
        export(None, "markdown", options={"chunk_size": 1}, progress=cancel_after_two,
               cancel=token, db=seeded_db)
    assert list((tmp_path / "exports").iterdir()) == []
    assert seeded_db[names.EXPORT_JOBS].find_one({})["status"] == "cancelled"


def test_markdown_compressed(seeded_db: Database) -> None:
    res = export(None, "markdown", options={"compress": True}, db=seeded_db)
    with zipfile.ZipFile(res.path) as zf:
        names_in = zf.namelist()
    assert "manifest.json" in names_in and any(n.endswith(".md") for n in names_in)
