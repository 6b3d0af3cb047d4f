"""The PDF writer, checked through poppler: text per page, contents, page numbers, metadata."""

from __future__ import annotations

import importlib
import re
import subprocess
from pathlib import Path

import pytest
from export_samples import SPECIAL_TITLE, demo_records, meta, special_record
from pypdf import PdfReader

from claudelens_nb.exports import fonts, read
from claudelens_nb.exports.pdf import PdfWriter

TOC_ROW = re.compile(r"^\s*(\d+)\.\s+(.+?)\s*(?:\.\s*){3,}(\d+)\s*$")


def _run(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def _pages(path: Path) -> list[str]:
    """Text of every page (pdftotext -layout; pages end with a form feed)."""
    return _run("pdftotext", "-layout", str(path), "-").split("\f")[:-1]


def _info(path: Path) -> dict[str, str]:
    out = _run("pdfinfo", str(path))
    return {k.strip(): v.strip() for k, v in (line.split(":", 1) for line in out.splitlines())}


def _write(path: Path, chunks: list[list[dict]], **meta_extra) -> Path:
    convs = [c for chunk in chunks for c in chunk]
    writer = PdfWriter(path, meta(convs, **meta_extra))
    for chunk in chunks:
        writer.write(chunk)
    writer.close()
    return path


def _toc(pages: list[str], front: int) -> list[tuple[int, str, int]]:
    rows = []
    for text in pages[1:front]:
        rows += [(int(m[1]), m[2], int(m[3])) for m in map(TOC_ROW.match, text.splitlines()) if m]
    return rows


def _check_toc_and_pages(pages: list[str], convs: list[dict], front: int) -> None:
    rows = _toc(pages, front)
    assert [n for n, _, _ in rows] == list(range(1, len(convs) + 1))
    for (n, shown, page), conv in zip(rows, convs, strict=True):
        title = " ".join(conv["title"].split())
        assert title.startswith(shown.rstrip("…").rstrip())
        assert page > front
        body = pages[page - 1]
        head = " ".join(body.split())
        assert f"{n}. {title[:25]}" in head, (n, title, page)
        if page - 1 > front:  # the conversation does not start earlier
            assert f"{n}. {title[:25]}" not in " ".join(pages[page - 2].split())


def test_title_contents_pages_and_metadata(seeded_db, tmp_path: Path, output_dir: Path) -> None:
    chunks = list(read.iter_conversations(None, chunk_size=4, db=seeded_db))[:2]
    chunks[1] = chunks[1] + [special_record()]
    convs = [c for chunk in chunks for c in chunk]
    path = _write(tmp_path / "export.pdf", chunks)
    pages = _pages(path)
    info = _info(path)

    assert info["Title"] == "ClaudeLens Export - 2026-11-29"
    assert info["Author"] == "claudelens_nb"
    assert info["Subject"].startswith("ClaudeLens conversations export: 9 conversations")
    assert info["Creator"] == "claudelens_nb 0.1.0"
    assert info["CreationDate"].startswith("Sun Nov 29 16:00:00 2026")
    assert int(info["Pages"]) == len(pages) > 10

    title_page = " ".join(pages[0].split())
    for expected in ("ClaudeLens Export", "Conversations 9",
                     f"Messages {sum(len(c['messages']) for c in convs)}",
                     "Date range 2026-05-01T00:00:00.000Z to 2026-11-01T00:00:00.000Z",
                     'projects: ["café-menu"]', "Generator claudelens_nb 0.1.0"):
        assert expected in title_page
    assert "Contents" in pages[1]
    for n, text in enumerate(pages, start=1):
        lines = [line.strip() for line in text.strip().splitlines()]
        assert lines[0].startswith("ClaudeLens Export - 2026-11-29"), n
        assert lines[-1] == f"Page {n}", n
    # Contents rows are links to the page they name (poppler's own reading of /Annots).
    xml = _run("pdftohtml", "-xml", "-i", "-stdout", "-f", "2", "-l", "2", str(path))
    targets = {int(t) for t in re.findall(r'<a href="[^"#]*#(\d+)"', xml)}
    assert targets == {page for _, _, page in _toc(pages, 2)}
    # pdftotext on one page agrees with the split.
    assert "Page 3" in _run("pdftotext", "-layout", "-f", "3", "-l", "3", str(path), "-")
    _check_toc_and_pages(pages, convs, front=2)

    for old in output_dir.glob("export_pdf_sample-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "3", str(path),
                    str(output_dir / "export_pdf_sample")], check=True)
    pngs = sorted(output_dir.glob("export_pdf_sample-*.png"))
    assert len(pngs) == 3 and all(p.stat().st_size > 1000 for p in pngs)


def test_any_script_code_and_unrenderable_characters(tmp_path: Path) -> None:
    conv = special_record()
    path = _write(tmp_path / "scripts.pdf", [[conv]])
    text = "\n".join(_pages(path))
    assert SPECIAL_TITLE[:20] in text
    for fragment in ("Peux-tu vérifier ce café ? Привет, мир!", "このコードのバグを見つけてください。",
                     "def greet(name: str) -> str:", 'return f"こんにちは {name}" # Grüße',
                     "SELECT name FROM café WHERE id = 1;", "<b>not markup</b> & more",
                     '"description": "Chercher « café » 日本"', "Résumé: テスト with Привет",
                     "crème brûlée", "Tool Use Bash", "Tool Result", "System"):
        assert fragment in " ".join(text.split()) or fragment in text, fragment
    if "CL-Symbols" in fonts.available_fallbacks():
        assert "🚀" in text and "✅" in text
    # U+10FFFD and an emoji newer than any font here are replaced, not fatal.
    assert "\U0010fffd" not in text
    assert "Weird: \ufffd and \ufffd and" in text
    # Long unbroken text is wrapped, not cut: every repetition survives.
    assert " ".join(text.split()).count("long line without breaks") == 30


def test_contents_stay_right_when_more_conversations_arrive(tmp_path: Path) -> None:
    convs = demo_records(45, messages=2, seed=11)
    # The engine announced 1 conversation: one contents page is reserved, rows get packed.
    path = tmp_path / "more.pdf"
    writer = PdfWriter(path, meta(convs, total_conversations=1))
    writer.write(convs[:20])
    writer.write(convs[20:])
    writer.close()
    pages = _pages(path)
    assert len(pages) == 2 + 45
    _check_toc_and_pages(pages, convs, front=2)


@pytest.mark.parametrize("close", [True, False])
def test_empty_export_and_abort(tmp_path: Path, close: bool) -> None:
    path = tmp_path / "empty.pdf"
    writer = PdfWriter(path, meta([]))
    writer.write([])
    if close:
        writer.close()
        pages = _pages(path)
        assert len(pages) == 2 and "No conversations match this export." in pages[1]
    else:
        writer.write(demo_records(1, messages=2))
        writer.abort()
        writer.abort()
        assert path.exists()  # the engine deletes it


def test_oversized_messages_flow_across_pages(tmp_path: Path) -> None:
    conv = special_record()
    msgs = conv["messages"]
    msgs[0] = dict(msgs[0], content="\n".join(f"line {i} ちょっと" for i in range(200)))
    msgs[1] = dict(msgs[1], content="x" * 4000 + "\n\n" + "日本" * 1500)
    code = "\n".join(f"print({i})  # 行 {i}" for i in range(150))
    msgs[2] = dict(msgs[1], id="m-code", content=f"```python\n{code}\n```")
    conv["messages"] = msgs[:3]
    path = _write(tmp_path / "big.pdf", [[conv]])
    pages = _pages(path)
    text = "\n".join(pages)
    assert len(pages) > 5
    assert all(f"line {i} ちょっと" in text for i in range(200))
    assert "".join(re.findall(r"x+", text)).count("x") >= 4000
    assert all(f"print({i}) # 行 {i}" in " ".join(text.split()) for i in range(150))


def test_joined_parts_are_one_valid_pdf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Body parts rendered apart and copied into one file make one PDF that pypdf reads
    strictly: its pages, bookmarks and contents links land where the conversations start."""
    pdf_module = importlib.import_module("claudelens_nb.exports.pdf")
    monkeypatch.setattr(pdf_module, "PART_CHARS", 15_000)  # several parts to join
    convs = demo_records(60, messages=8, seed=21)
    path = _write(tmp_path / "joined.pdf", [convs[:25], convs[25:]])
    front = 1 + 2  # title page, then ceil(60 / 38) contents pages

    reader = PdfReader(path, strict=True)
    pages = _pages(path)
    assert len(reader.pages) == len(pages) == int(_info(path)["Pages"]) > front + 60
    kids = reader.trailer["/Root"]["/Pages"]["/Kids"]
    assert len(kids) >= 4  # the front matter and at least three body parts, in page order
    for n, text in enumerate(pages, start=1):  # numbering runs on across the parts
        assert text.strip().splitlines()[-1].strip() == f"Page {n}", n

    rows = _toc(pages, front)
    starts = [page for _, _, page in rows]
    _check_toc_and_pages(pages, convs, front)  # pdftotext finds each one on its page
    assert [item.title for item in reader.outline] == [
        f"{n}. {' '.join(c['title'].split())}" for n, c in enumerate(convs, start=1)]
    assert [reader.get_destination_page_number(item) + 1 for item in reader.outline] == starts

    number = {page.indirect_reference.idnum: i for i, page in enumerate(reader.pages, start=1)}
    links = [number[annot.get_object()["/Dest"][0].idnum]
             for page in reader.pages[1:front] for annot in page.get("/Annots", [])]
    assert links == starts
    assert reader.metadata.title == "ClaudeLens Export - 2026-11-29"
    assert "60 conversations" in reader.metadata.subject
