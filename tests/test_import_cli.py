"""claudelens-nb import / validate: thin over the library, readable output, exit codes."""

from __future__ import annotations

import json
import shutil

from test_import_helpers import write_json

from claudelens_nb.cli import main


def _conv(cid="c-1", title="Hello"):
    return {"id": cid, "title": title, "created_at": "2026-03-01T10:00:00.000Z",
            "messages": [{"id": f"{cid}-u", "type": "user", "content": "Question?",
                          "timestamp": "2026-03-01T10:00:00.000Z"}]}


def test_validate_prints_the_report(db, tmp_path, capsys):
    p = write_json(tmp_path / "in.json", [_conv("a"), _conv("b")])
    assert main(["validate", str(p)]) == 0
    out = capsys.readouterr().out
    assert "File: in.json — json" in out and "2 conversations, 2 messages" in out
    assert "Field mapping" in out and "OK: ready to import" in out


def test_validate_with_errors_exits_non_zero(db, tmp_path, capsys):
    bad = _conv()
    bad["messages"][0]["cost_usd"] = -1
    p = write_json(tmp_path / "bad.json", [bad])
    assert main(["validate", str(p)]) == 1
    out = capsys.readouterr().out
    assert "Errors (1)" in out and "cost -1 is negative" in out and "NOT OK" in out


def test_bad_file_is_a_clear_error_not_a_traceback(db, tmp_path, capsys):
    p = tmp_path / "x.txt"
    p.write_text("hi")
    assert main(["validate", str(p)]) == 1
    err = capsys.readouterr().err
    assert "error [UNSUPPORTED_FILE_TYPE]" in err and "extension .txt is not accepted" in err
    assert "Traceback" not in err


def test_import_conflicts_map_dry_run_and_undo(db, tmp_path, capsys):
    p = write_json(tmp_path / "in.json", [_conv("a"), _conv("b")])
    assert main(["import", str(p), "--quiet"]) == 0
    assert "2 inserted" in capsys.readouterr().out
    q = write_json(tmp_path / "again.json", [_conv("a", "New A"), _conv("b", "New B")])
    assert main(["import", str(q), "--dry-run", "--quiet", "--strategy", "replace"]) == 0
    assert "would import: 0 inserted, 2 replaced" in capsys.readouterr().out
    assert db.sessions.find_one({"sessionId": "a"})["title"] == "Hello"
    code = main(["import", str(q), "--quiet", "--on-conflict", "a=replace",
                 "--map", "title=title"])
    out = capsys.readouterr().out
    assert code == 0 and "1 replaced" in out and "1 skipped" in out
    assert db.sessions.find_one({"sessionId": "a"})["title"] == "New A"
    job_id = out.split("job ")[1].split()[0]
    assert main(["import", "--undo", job_id]) == 0
    assert "undone: removed 0 conversations and 0 messages" not in (out := capsys.readouterr().out)
    assert "put back 1 conversation and 0 messages as they were" in out  # only its title changed
    assert db.sessions.find_one({"sessionId": "a"})["title"] == "Hello"
    assert main(["import", "--undo", job_id]) == 1
    assert "already undone" in capsys.readouterr().err
    assert main(["import", "--history"]) == 0
    assert "undone" in capsys.readouterr().out


def test_import_password_file(db, tmp_path, capsys):
    import pyzipper

    p = tmp_path / "enc.zip"
    with pyzipper.AESZipFile(p, "w", compression=pyzipper.ZIP_DEFLATED, encryption=pyzipper.WZ_AES) as zf:
        zf.setpassword(b"pw 1")
        zf.writestr("c.json", json.dumps({"version": "1.0.0", "conversations": [_conv()]}))
    pw = tmp_path / "pw.txt"
    pw.write_text("pw 1\n")
    assert main(["import", str(p), "--quiet"]) == 1
    assert "encrypted; give its password" in capsys.readouterr().err
    assert main(["import", str(p), "--quiet", "--password-file", str(pw)]) == 0


def test_import_claude_code_default_folder(db, tmp_path, monkeypatch, capsys, fixtures_dir):
    config = tmp_path / "claude-config"
    folder = config / "projects" / "-home-ana-src-x"
    folder.mkdir(parents=True)
    shutil.copy(fixtures_dir / "claude-code-log" / "session_b.jsonl", folder / "session_b.jsonl")
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(config))
    assert main(["import", "--claude-code", "--quiet"]) == 0
    assert "1 inserted" in capsys.readouterr().out
    assert db.sessions.count_documents({}) == 1


def test_import_without_a_path(db, capsys):
    assert main(["import"]) == 2
    assert "give a PATH" in capsys.readouterr().err
