"""Archives: manifest checksums, AES encryption, automatic compression, private files."""

from __future__ import annotations

import hashlib
import json
import stat
import zipfile

import pytest
import pyzipper
from pymongo.database import Database

from claudelens_nb.exports import export
from claudelens_nb.exports.archive import MANIFEST, read_manifest


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_plain_export_is_private_with_generated_name(seeded_db: Database, tmp_path) -> None:
    res = export(None, "json", db=seeded_db)
    assert res.path.parent == (tmp_path / "exports")
    assert res.path.name.startswith("claudelens-export-") and res.path.name.endswith(".json")
    assert _mode(res.path) == 0o600
    assert hashlib.sha256(res.path.read_bytes()).hexdigest() == res.sha256
    assert res.size == res.path.stat().st_size and not res.compressed
    assert sorted(p.name for p in res.path.parent.iterdir()) == [res.path.name]  # no work files left


def test_compressed_manifest_checksums_verify(seeded_db: Database) -> None:
    res = export({"tags": ["bug"]}, "jsonl", options={"compress": True, "redact_pii": True},
                 db=seeded_db)
    assert res.path.suffix == ".zip" and res.compressed and _mode(res.path) == 0o600
    with zipfile.ZipFile(res.path) as zf:
        manifest = json.loads(zf.read(MANIFEST))
        assert zf.testzip() is None
        for entry in manifest["files"]:
            blob = zf.read(entry["name"])
            assert len(blob) == entry["size"]
            assert hashlib.sha256(blob).hexdigest() == entry["sha256"]
    assert manifest["format"] == "jsonl" and manifest["version"] == "1.0.0"
    assert manifest["filters"] == {"tags": ["bug"]}
    assert manifest["counts"]["conversations"] == res.conversations
    assert manifest["counts"]["messages"] == res.messages
    assert manifest["sanitizing"]["secrets_removed"] is True
    assert manifest["sanitizing"]["pii_redacted"] is True
    assert manifest["sanitizing"]["users_anonymized"] is False
    assert "password" not in json.dumps(manifest["options"]).replace('"encrypted"', "")
    assert [f["name"] for f in manifest["files"]] == [res.path.name[:-4]]


def test_encrypted_zip_needs_the_password(seeded_db: Database) -> None:
    secret = "correct horse battery staple"
    res = export(None, "csv", options={"password": secret}, db=seeded_db)
    assert res.encrypted
    with pyzipper.AESZipFile(res.path) as zf:
        with pytest.raises(RuntimeError):
            zf.read("messages.csv")
        zf.setpassword(b"wrong password")
        with pytest.raises(RuntimeError):
            zf.read("messages.csv")
    with zipfile.ZipFile(res.path) as zf, pytest.raises((RuntimeError, NotImplementedError)):
        zf.read("messages.csv")
    manifest = read_manifest(res.path, secret)
    with pyzipper.AESZipFile(res.path) as zf:
        zf.setpassword(secret.encode())
        text = zf.read("messages.csv").decode("utf-8")
        assert text.startswith("conversation_id,message_id")
        for entry in manifest["files"]:
            assert hashlib.sha256(zf.read(entry["name"])).hexdigest() == entry["sha256"]
    assert manifest["encrypted"] is True
    # the password is stored nowhere
    job = seeded_db.export_jobs.find_one({"_id": res.job_id})
    assert secret not in json.dumps(job, default=str)
    assert job["options"]["encrypted"] is True and "password" not in job["options"]


def test_auto_compress_above_threshold(seeded_db: Database) -> None:
    small = export(None, "json", options={"auto_compress_bytes": 10**9}, db=seeded_db)
    assert not small.compressed and small.path.suffix == ".json"
    big = export(None, "json", options={"auto_compress_bytes": 1000}, db=seeded_db)
    assert big.compressed and big.path.suffix == ".zip" and big.size < small.size
    with zipfile.ZipFile(big.path) as zf:
        inner = [n for n in zf.namelist() if n != MANIFEST]
        data = json.loads(zf.read(inner[0]))
    assert data["metadata"]["total_conversations"] == 20


def test_explicit_path_is_honoured(seeded_db: Database, tmp_path) -> None:
    target = tmp_path / "out" / "mine.jsonl"
    res = export(None, "jsonl", target, db=seeded_db)
    assert res.path == target and _mode(target) == 0o600
    zipped = export(None, "json", tmp_path / "out" / "mine.json", options={"compress": True}, db=seeded_db)
    assert zipped.path.name == "mine.json.zip"
    folder = export(None, "json", tmp_path / "out", db=seeded_db)
    assert folder.path.parent == tmp_path / "out" and folder.path.name.startswith("claudelens-export-")


def _member_json(path) -> dict:
    with zipfile.ZipFile(path) as zf:
        manifest = json.loads(zf.read(MANIFEST))
        [entry] = manifest["files"]
        blob = zf.read(entry["name"])
    assert hashlib.sha256(blob).hexdigest() == entry["sha256"] and len(blob) == entry["size"]
    data = json.loads(blob)
    del data["export_date"]
    return data


def test_zip_written_alongside_equals_zip_written_after(seeded_db: Database, monkeypatch) -> None:
    from claudelens_nb.exports import engine

    # 600 messages guessed at 1000 bytes: a big export, zipped while it is encoded...
    along = export(None, "json", options={"auto_compress_bytes": 1000}, db=seeded_db)
    # ...or, guessed small, zipped from the finished file.
    monkeypatch.setattr(engine, "_GUESS_BYTES_PER_MESSAGE", 0)
    after = export(None, "json", options={"auto_compress_bytes": 1000}, db=seeded_db)
    assert along.compressed and after.compressed
    assert _member_json(along.path) == _member_json(after.path)


def test_guessed_big_but_small_stays_plain(seeded_db: Database) -> None:
    # Guessed at 600 kB (zipped alongside from half the threshold), it ends below 1 MB.
    res = export(None, "jsonl", options={"auto_compress_bytes": 1_000_000}, db=seeded_db)
    assert not res.compressed and res.path.suffix == ".jsonl" and res.size < 1_000_000
    assert sorted(p.name for p in res.path.parent.iterdir()) == [res.path.name]
