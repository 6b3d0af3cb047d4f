"""The command line without rough edges: every option is described in --help, import --history
names its columns, and each kind of error has its own code (an ErrorCode set where it is raised)."""

from __future__ import annotations

import argparse
import json
import zipfile

import pytest
from test_import_helpers import write_json

from claudelens_nb.cli import build_parser, main
from claudelens_nb.errors import ErrorCode, ImportFileError
from claudelens_nb.exports import export


def _conv(cid: str = "c-1") -> dict:
    return {"id": cid, "title": "Hello", "created_at": "2026-03-01T10:00:00.000Z",
            "messages": [{"id": f"{cid}-u", "type": "user", "content": "Question?",
                          "timestamp": "2026-03-01T10:00:00.000Z"}]}


def _undescribed(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> list[str]:
    missing = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                missing += _undescribed(sub, (*prefix, name))
        elif not isinstance(action, argparse._HelpAction) and not (action.help or "").strip():
            missing.append(" ".join((*prefix, *(action.option_strings or [action.dest]))))
    return missing


def test_every_option_of_every_verb_is_described():
    assert _undescribed(build_parser()) == []


@pytest.mark.parametrize("verb, expected", [
    ("validate", ["Writes nothing", "--map SOURCE=TARGET", "message.NAME", "--password-file FILE",
                  "anything 'import' accepts"]),
    ("export", ["--format", "parquet: typed tables", "--tables", "a folder of that name",
                "--since DATE", "--message-type TYPE", "--compress", "--chunk-size N", "examples:"]),
    ("import", ["--strategy", "--on-conflict ID=STRATEGY", "--history", "Every import can be undone"]),
])
def test_help_describes_the_options(verb, expected, capsys):
    with pytest.raises(SystemExit) as done:
        main([verb, "--help"])
    assert done.value.code == 0
    out = " ".join(capsys.readouterr().out.split())  # argparse wraps to the terminal's width
    for text in expected:
        assert text in out, f"{verb} --help lacks {text!r}"


def test_import_history_has_a_legend(db, tmp_path, capsys):
    p = write_json(tmp_path / "in.json", [_conv("a"), _conv("b")])
    assert main(["import", str(p), "--quiet"]) == 0
    assert main(["import", str(p), "--quiet"]) == 0  # everything skipped the second time
    capsys.readouterr()
    assert main(["import", "--history"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "inserted (new), replaced, merged" in lines[0]
    assert lines[1].split() == ["job", "started", "(UTC)", "status", "source", "inserted", "replaced",
                                "merged", "skipped", "failed"]
    newest, oldest = lines[2].split(), lines[3].split()
    assert newest[-5:] == ["0", "0", "0", "2", "0"] and oldest[-5:] == ["2", "0", "0", "0", "0"]
    assert "in.json" in lines[2] and not any(ch in lines[2] for ch in "+~&=!")


def _error(capsys, argv: list[str]) -> str:
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err


def test_each_kind_of_error_has_its_own_code(db, tmp_path, capsys):
    assert _error(capsys, ["import", str(tmp_path / "nope.json"), "--quiet"]).startswith(
        "error [FILE_NOT_FOUND]: nope.json: no such file or folder")
    assert "error [FILE_NOT_FOUND]" in _error(capsys, ["validate", str(tmp_path / "gone.zip")])
    assert "error [UNKNOWN_JOB]" in _error(capsys, ["import", "--undo", "0123456789abcdef01234567"])
    assert "error [UNKNOWN_JOB]" in _error(capsys, ["history", "--delete", "abcdef12"])
    txt = tmp_path / "notes.txt"
    txt.write_text("hi")
    assert "error [UNSUPPORTED_FILE_TYPE]" in _error(capsys, ["validate", str(txt)])
    empty = tmp_path / "empty.json"
    empty.write_bytes(b"")
    assert "error [EMPTY_FILE]" in _error(capsys, ["validate", str(empty)])
    broken = tmp_path / "broken.json"
    broken.write_text('{"conversations": [')
    assert "error [INVALID_FORMAT]" in _error(capsys, ["validate", str(broken)])
    dup = write_json(tmp_path / "dup.json", [_conv("same"), _conv("same")])
    assert "error [DUPLICATE_IDS]" in _error(capsys, ["import", str(dup), "--quiet"])
    assert "error [INVALID_ARGUMENT]" in _error(capsys, ["import", str(dup), "--on-conflict", "oops"])
    assert "error [FILE_NOT_FOUND]" in _error(
        capsys, ["import", str(dup), "--password-file", str(tmp_path / "no-pw.txt")])
    assert "error [UNKNOWN_FORMAT]" not in capsys.readouterr().err


def test_encrypted_archives_tell_a_missing_from_a_wrong_password(seeded_db, tmp_path, capsys):
    res = export(None, "json", tmp_path / "secret.zip", options={"password": "right"}, db=seeded_db)
    assert "error [PASSWORD_REQUIRED]" in _error(capsys, ["validate", str(res.path)])
    assert "error [WRONG_PASSWORD]" in _error(capsys, ["validate", str(res.path), "--password", "wrong"])
    assert main(["validate", str(res.path), "--password", "right"]) == 0


def test_an_unsafe_archive_and_a_damaged_one(db, tmp_path, capsys):
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as z:
        z.writestr("../../escape.json", json.dumps([_conv()]))
    assert "error [UNSAFE_ARCHIVE]" in _error(capsys, ["validate", str(evil)])
    res = export(None, "json", tmp_path / "ok.zip", db=db)
    with zipfile.ZipFile(res.path) as z:
        members = {n: z.read(n) for n in z.namelist()}
    members["ok.json"] = members["ok.json"].replace(b'"version"', b'"versioN"')
    altered = tmp_path / "altered.zip"
    with zipfile.ZipFile(altered, "w") as z:
        for n, data in members.items():
            z.writestr(n, data)
    assert "error [DAMAGED_FILE]" in _error(capsys, ["validate", str(altered)])


def test_codes_are_a_str_enum_so_text_comparisons_keep_working():
    exc = ImportFileError("x", code="QUOTA_EXCEEDED")
    assert exc.code is ErrorCode.QUOTA_EXCEEDED and exc.code == "QUOTA_EXCEEDED"
    assert f"[{exc.code}]" == "[QUOTA_EXCEEDED]"
    assert ImportFileError("y").code == "INVALID_FORMAT"
