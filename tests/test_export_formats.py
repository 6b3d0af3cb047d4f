"""The export format registry: names, flags, and a format added from outside."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import claudelens_nb
from claudelens_nb.errors import ErrorCode, ExportError
from claudelens_nb.exports import formats, options


def test_registry_names_and_flags() -> None:
    assert options.FORMATS == ("json", "jsonl", "csv", "markdown", "pdf", "parquet")
    assert formats.get(" MD ").name == "markdown" and formats.get("Parquet").tables
    assert [f.name for f in formats.REGISTRY.values() if f.per_conversation] == ["pdf"]
    assert {f.name: f.order for f in formats.REGISTRY.values() if f.order != "any"} == {
        "markdown": "placed", "pdf": "oldest_first"}
    assert {f.name for f in formats.REGISTRY.values() if f.sanitize == "records"} == {"markdown", "pdf"}
    assert [f.name for f in formats.REGISTRY.values() if f.zips_alongside] == ["json", "jsonl"]
    with pytest.raises(ExportError, match="unknown export format 'xml'") as err:
        formats.get("xml")
    assert err.value.code == ErrorCode.UNKNOWN_FORMAT


class TitlesWriter:
    """A format of one title per line, written by a class outside the package."""

    def __init__(self, path: Path, meta: dict[str, Any]) -> None:
        self.fh = open(path, "w", encoding="utf-8")  # noqa: SIM115

    def write(self, conversations: list[dict[str, Any]]) -> None:
        self.fh.writelines(json.dumps(c["title"], ensure_ascii=False) + "\n" for c in conversations)

    def close(self) -> None:
        self.fh.close()

    def abort(self) -> None:
        self.fh.close()


def test_a_registered_format_exports(seeded_db, tmp_path, monkeypatch) -> None:
    fmt = formats.Format("titles", "txt", f"{__name__}:TitlesWriter", formats.one_file,
                         sanitize="records", per_conversation=True)
    monkeypatch.setitem(formats.REGISTRY, "titles", fmt)
    monkeypatch.setitem(options.EXTENSIONS, "titles", "txt")
    monkeypatch.setattr(options, "FORMATS", (*options.FORMATS, "titles"))
    out = claudelens_nb.export(None, "titles", tmp_path / "t.txt", db=seeded_db)
    lines = out.path.read_text(encoding="utf-8").splitlines()
    assert out.conversations == len(lines) == 20
    assert all(isinstance(json.loads(x), str) for x in lines)
