"""The import kind registry: names, flags, the external sources' entries, and a kind added
from outside."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from claudelens_nb import sources
from claudelens_nb.errors import ErrorCode, ImportFileError
from claudelens_nb.imports import import_file, kinds, readers, validate_file
from claudelens_nb.imports.items import Items, RawItem
from claudelens_nb.reading import ReadReport
from claudelens_nb.security import DEFAULT_LIMITS
from claudelens_nb.store import collections as names


def test_registry_names_and_flags() -> None:
    assert list(kinds.REGISTRY) == ["json", "claudelens_json", "json_array", "jsonl", "csv",
                                    "parquet", "claude_code", "claude_ai", "chatgpt"]
    assert tuple(k.name for k in kinds.REGISTRY.values() if not k.ours) == sources.KINDS
    assert [k.name for k in kinds.REGISTRY.values() if k.family == "csv"] == ["csv"]
    assert {k.family for k in kinds.REGISTRY.values()} == {"json", "csv"}
    assert all(k.read is kinds.external for k in kinds.REGISTRY.values() if not k.ours)
    assert kinds.get("claudelens_json").ours and not kinds.get("chatgpt").ours
    with pytest.raises(ImportFileError, match="unknown import kind 'xml'") as err:
        kinds.get("xml")
    assert err.value.code == ErrorCode.UNKNOWN_FORMAT


def test_sources_are_external_by_their_entries() -> None:
    def source(kind: str) -> kinds.Source:
        return kinds.Source(kind, "json", "n", 0, "")

    assert not source("jsonl").external and not source("parquet").external
    assert source("claude_code").external and source("chatgpt").external
    assert source("not-registered").external  # a reader the registry does not know


def test_external_entries_read_through_sources(tmp_path, monkeypatch) -> None:
    calls: list[tuple[str, Path]] = []

    def fake_read(kind: str, path: Path, report: ReadReport, *, limits: Any) -> Iterator[dict]:
        calls.append((kind, path))
        yield {"id": "from-source"}

    monkeypatch.setattr(sources, "read", fake_read)
    src = kinds.get("claude_ai").source(kinds.Given(tmp_path, DEFAULT_LIMITS), "export", 1, "ab")
    assert (src.kind, src.fmt, src.external) == ("claude_ai", "json", True)
    assert list(src.items(ReadReport())) == [RawItem({"id": "from-source"})]
    assert calls == [("claude_ai", tmp_path)]


def read_titles(kind: kinds.Kind, given: kinds.Given) -> Items:
    """A kind outside the package: one JSON string (a title) per line, each a conversation."""
    def items(report: ReadReport) -> Iterator[RawItem]:
        for path, _info, name in given.texts:
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                yield RawItem({
                    "id": f"title-{n}", "title": json.loads(line),
                    "created_at": "2026-03-01T10:00:00.000Z",
                    "messages": [{"id": f"title-{n}-u", "type": "user", "content": "Hi",
                                  "timestamp": "2026-03-01T10:00:00.000Z"}],
                }, n, name)
    return items


@pytest.fixture
def titles_kind(monkeypatch) -> None:
    """'titles' registered, and detected for files whose name ends in .titles.jsonl."""
    monkeypatch.setitem(kinds.REGISTRY, "titles", kinds.Kind("titles", "json", read_titles))
    detect = readers.detect_text

    def detect_titles(path: Path, info: Any, name: str) -> str:
        return "titles" if name.endswith(".titles.jsonl") else detect(path, info, name)

    monkeypatch.setattr(readers, "detect_text", detect_titles)


def _titles_file(tmp_path: Path) -> Path:
    p = tmp_path / "t.titles.jsonl"
    p.write_text('"First"\n"Second"\n"Third"\n', encoding="utf-8")
    return p


def test_a_registered_kind_imports(db, tmp_path, titles_kind) -> None:
    p = _titles_file(tmp_path)
    report = validate_file(p, db=db)
    assert report.kind == "titles" and report.ok
    result = import_file(p, db=db)
    assert (result.kind, result.status, result.inserted) == ("titles", "completed", 3)
    stored = {s["sessionId"]: s.get("title") for s in db[names.SESSIONS].find()}
    assert stored == {"title-1": "First", "title-2": "Second", "title-3": "Third"}


def test_a_registered_kind_is_read_in_a_zip(db, tmp_path, titles_kind) -> None:
    z = tmp_path / "titles.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.write(_titles_file(tmp_path), "t.titles.jsonl")
    result = import_file(z, db=db)
    assert (result.kind, result.inserted) == ("titles", 3)
