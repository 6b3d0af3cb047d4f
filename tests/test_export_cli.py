"""The export and history verbs, end to end through claudelens_nb.cli.main."""

from __future__ import annotations

import json
import zipfile

import pyzipper
from pymongo.database import Database

from claudelens_nb.cli import main
from claudelens_nb.store import collections as names


def test_export_verb_with_filters_and_options(seeded_db: Database, tmp_path, capsys) -> None:
    ids = [s["sessionId"] for s in seeded_db.sessions.find().sort("startedAt", 1).limit(3)]
    id_file = tmp_path / "ids.txt"
    id_file.write_text(f"# picked\n{ids[1]}\n\n{ids[2]}\n")
    out = tmp_path / "sel.json"
    code = main(["export", "--format", "json", "--conversation", ids[0], "--conversations-file",
                 str(id_file), "--no-tool-calls", "--keep-secrets", "-q", "-o", str(out)])
    assert code == 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert line.startswith(f"wrote {out} (") and "3 conversations" in line
    data = json.loads(out.read_text(encoding="utf-8"))
    assert sorted(c["id"] for c in data["conversations"]) == sorted(ids)
    assert not {m["type"] for c in data["conversations"] for m in c["messages"]} & {"tool_use", "tool_result"}
    assert data["metadata"]["filters"] == {"conversation_ids": ids}


def test_export_verb_csv_encrypted_with_password_file(seeded_db: Database, tmp_path, capsys) -> None:
    pw = tmp_path / "pw.txt"
    pw.write_text("s3cret pass\n")
    code = main(["export", "--format", "csv", "--since", "2026-06-01", "--until", "2026-09-30",
                 "--project", "my-app", "--project", "infra", "--min-cost", "0.01",
                 "--password-file", str(pw), "--redact-pii", "-q"])
    assert code == 0
    out = capsys.readouterr().out
    path = out.split("wrote ", 1)[1].split(" (", 1)[0]
    assert "encrypted" in out
    with pyzipper.AESZipFile(path) as zf:
        zf.setpassword(b"s3cret pass")
        manifest = json.loads(zf.read("manifest.json"))
    assert manifest["filters"]["projects"] == ["my-app", "infra"]
    assert manifest["sanitizing"]["pii_redacted"] is True


def test_export_verb_errors_are_one_line(seeded_db: Database, capsys) -> None:
    assert main(["export", "--format", "json", "--message-type", "shouting", "-q"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error [INVALID_FILTERS]") and "Traceback" not in err
    assert main(["export", "--format", "json", "--conversations-file", "/nonexistent/ids", "-q"]) == 1
    assert "cannot read the conversations file" in capsys.readouterr().err


def test_history_verb_lists_deletes_and_cleans(seeded_db: Database, capsys) -> None:
    assert main(["history"]) == 0
    assert "no exports" in capsys.readouterr().out
    assert main(["export", "--format", "parquet", "-q"]) == 0
    assert main(["export", "--format", "jsonl", "--compress", "-q"]) == 0
    capsys.readouterr()
    assert main(["history"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert "status" in lines[0] and len(lines) == 3
    assert lines[1].split()[3] == "jsonl" and lines[2].split()[3] == "parquet"
    newest = seeded_db[names.EXPORT_JOBS].find_one({}, sort=[("created_at", -1)])
    assert zipfile.is_zipfile(newest["path"])
    assert main(["history", "--delete", newest["_id"][:8]]) == 0
    assert "deleted export" in capsys.readouterr().out
    assert seeded_db[names.EXPORT_JOBS].count_documents({}) == 1
    assert main(["history", "--cleanup"]) == 0
    assert "0 export(s)" in capsys.readouterr().out
    assert main(["history", "--delete", "zzz"]) == 1
