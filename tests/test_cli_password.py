"""One reading of --password-file for export and import."""

from __future__ import annotations

from pymongo.database import Database

from claudelens_nb.cli import main
from claudelens_nb.store import collections as names


def test_one_password_file_for_export_and_import(seeded_db: Database, other_db: Database,
                                                 tmp_path, capsys, monkeypatch) -> None:
    pw = tmp_path / "pw.txt"
    pw.write_text("# not a comment: the whole first line \nsecond line\n", encoding="utf-8")
    out = tmp_path / "all.zip"
    assert main(["export", "--format", "json", "-o", str(out), "--password-file", str(pw), "-q"]) == 0
    monkeypatch.setenv("CLAUDELENS_DB", other_db.name)
    assert main(["import", str(out), "--password-file", str(pw), "--quiet"]) == 0
    assert other_db[names.SESSIONS].count_documents({}) == 20
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    assert main(["import", str(out), "--password-file", str(empty), "--quiet"]) != 0
    assert "[EMPTY_FILE]" in capsys.readouterr().err
