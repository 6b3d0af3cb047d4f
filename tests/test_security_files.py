"""The file checks of docs/security.md: a clear error naming the problem, nothing written."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from test_import_helpers import conversations, snapshot, write_json

from claudelens_nb.errors import ImportFileError, ValidationFailed
from claudelens_nb.imports import import_file, validate_file
from claudelens_nb.security import Limits, display_name, extract_zip, inspect_text


@pytest.fixture()
def sample(seeded_db, tmp_path):
    """Three stored conversations as JSON-ready dicts (the database is seeded too)."""
    return conversations(seeded_db)[:3]


def refused(db, path, match, *, error=ImportFileError, **kw):
    """Import must fail with `match` in the message and leave the database as it was."""
    before = snapshot(db, bookkeeping=True)
    with pytest.raises(error) as info:
        import_file(path, db=db, **kw)
    assert match in str(info.value), str(info.value)
    assert snapshot(db, bookkeeping=True) == before
    return str(info.value)


def _conv(cid="c-1", **over):
    conv = {
        "id": cid, "title": "t", "created_at": "2026-01-02T03:04:05.000Z",
        "messages": [{"id": f"{cid}-m1", "type": "user", "content": "hi",
                      "timestamp": "2026-01-02T03:04:05.000Z"}],
    }
    conv.update(over)
    return conv


# ---------------------------------------------------------------- names and types

@pytest.mark.parametrize("name", ["data.txt", "data.exe", "data", "data.json.sh", "x.xml"])
def test_extension_not_allowlisted_is_refused(db, tmp_path, name):
    p = tmp_path / name
    write_json(p, [_conv()])
    refused(db, p, "is not accepted")


def _png() -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0\0\0\0")) + chunk(b"IEND", b""))


def test_png_named_json_is_refused(db, tmp_path):
    p = tmp_path / "photo.json"
    p.write_bytes(_png())
    refused(db, p, "content is image/png, not JSON")
    p = tmp_path / "doc.csv"
    p.write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n")
    refused(db, p, "content is application/pdf, not CSV")


def test_zip_named_json_is_refused(db, tmp_path):
    p = tmp_path / "data.json"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("a.json", "{}")
    refused(db, p, "is a zip archive, not JSON")


def test_json_named_zip_is_refused(db, tmp_path):
    p = write_json(tmp_path / "data.zip", [_conv()])
    refused(db, p, "not a zip archive")


def test_hostile_display_names_are_only_shown(db, tmp_path):
    p = write_json(tmp_path / "con.json", [_conv()])
    result = import_file(p, db=db, source_name="../../etc/passwd")
    job = db.import_jobs.find_one({})
    assert job["source_name"] == "passwd" and result.inserted == 1
    assert display_name("../../etc/passwd") == "passwd"
    assert not (tmp_path.parent.parent / "etc").exists()
    assert validate_file(p, db=db).file_name == "con.json"


# ---------------------------------------------------------------- sizes

def test_over_size_limit_refused_before_reading(db, tmp_path):
    p = tmp_path / "big.json"
    with open(p, "wb") as fh:  # sparse: 101 MB of nothing, refused on its size alone
        fh.truncate(101 * 1024 * 1024)
    msg = refused(db, p, "over the 100 MB limit for JSON")
    assert "101.0 MB" in msg


def test_csv_size_limit_is_50_mb(db, tmp_path):
    p = tmp_path / "big.csv"
    with open(p, "wb") as fh:
        fh.truncate(51 * 1024 * 1024)
    refused(db, p, "over the 50 MB limit for CSV")


def test_too_many_conversations_counted_while_streaming(db, tmp_path):
    p = write_json(tmp_path / "many.json", [_conv(f"c{i}") for i in range(5)])
    refused(db, p, "more than 3 conversations", limits=Limits(json_conversations=3))


def test_too_many_messages_in_one_conversation(db, tmp_path):
    conv = _conv(messages=[{"id": f"m{i}", "type": "user", "content": "x",
                            "timestamp": 1767225600 + i} for i in range(6)])
    p = write_json(tmp_path / "long.json", [conv])
    refused(db, p, "6 messages is over the limit of 5", error=ValidationFailed,
            limits=Limits(json_messages=5))


# ---------------------------------------------------------------- JSON structure

def test_truncated_json(db, tmp_path, sample):
    p = write_json(tmp_path / "t.json", sample)
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    msg = refused(db, p, "truncated JSON")
    assert f"byte offset {len(data) // 2}" in msg


def test_malformed_json_names_the_offset(db, tmp_path):
    p = tmp_path / "m.json"
    p.write_text('{"version": "1.0.0", "conversations": [{"id": "a", "messages": [} ]}')
    refused(db, p, "malformed JSON near byte offset")


def test_deep_nesting_refused(db, tmp_path):
    deep = "[" * 5000 + "]" * 5000
    p = tmp_path / "deep.json"
    p.write_text('{"version": "1.0.0", "conversations": [{"id": "a", "metadata": {"x": '
                 + deep + '}, "messages": []}]}')
    refused(db, p, "nested deeper than 64 levels")


def test_deep_nesting_in_jsonl_refused(db, tmp_path):
    p = tmp_path / "deep.jsonl"
    line = json.dumps(_conv())[:-1] + ', "x": ' + "[" * 3000 + "]" * 3000 + "}"
    p.write_text(line + "\n")
    refused(db, p, "nested deeper than 64 levels")


def test_huge_single_string_refused(db, tmp_path):
    conv = _conv()
    conv["messages"][0]["content"] = "a" * (17 * 1024 * 1024)
    p = write_json(tmp_path / "huge.json", [conv])
    refused(db, p, "a single string of 17.0 MB")


# ---------------------------------------------------------------- encodings

def test_invalid_utf8_names_the_byte_offset(db, tmp_path):
    p = tmp_path / "bad.json"
    good = json.dumps({"version": "1.0.0", "conversations": [_conv()]}).encode()
    at = good.index(b"hi")
    p.write_bytes(good[:at] + b"\xff" + good[at + 1:])
    refused(db, p, f"invalid UTF-8 at byte offset {at} (byte 0xff)")
    assert f"offset {at}" in str(pytest.raises(ImportFileError, inspect_text, p).value)


def test_utf8_bom_is_read(db, tmp_path):
    p = tmp_path / "bom.json"
    p.write_bytes(b"\xef\xbb\xbf" + json.dumps({"version": "1.0.0", "conversations": [_conv()]},
                                               ensure_ascii=False).encode())
    assert import_file(p, db=db).inserted == 1


def test_utf16_is_read(db, tmp_path):
    p = tmp_path / "u16.json"
    conv = _conv(title="café 日本語 🎉")
    p.write_bytes(json.dumps({"version": "1.0.0", "conversations": [conv]},
                             ensure_ascii=False).encode("utf-16"))
    assert import_file(p, db=db).inserted == 1
    assert db.sessions.find_one({"sessionId": "c-1"})["title"] == "café 日本語 🎉"


def test_utf16_jsonl_and_csv_are_read(db, tmp_path):
    p = tmp_path / "u16.jsonl"
    p.write_bytes((json.dumps(_conv("j1")) + "\n" + json.dumps(_conv("j2")) + "\n").encode("utf-16"))
    assert import_file(p, db=db).inserted == 2
    c = tmp_path / "messages.csv"
    c.write_bytes(("conversation_id,message_id,type,content,timestamp\r\n"
                   "k1,k1-m,user,héllo,2026-01-01T00:00:00Z\r\n").encode("utf-16"))
    assert import_file(c, db=db).inserted == 1


# ---------------------------------------------------------------- operator injection

@pytest.mark.parametrize("where", ["conversation", "message", "metadata", "message_metadata"])
@pytest.mark.parametrize("key", ["$where", "$set", "a.b"])
def test_operator_like_field_names_never_reach_the_database(db, tmp_path, where, key):
    conv = _conv()
    target = {"conversation": conv, "message": conv["messages"][0],
              "metadata": conv.setdefault("metadata", {}),
              "message_metadata": conv["messages"][0].setdefault("metadata", {})}[where]
    target[key] = {"$gt": ""}
    p = write_json(tmp_path / "inj.json", [conv])
    msg = refused(db, p, repr(key), error=ValidationFailed)
    assert ("starts with '$'" in msg) or ("contains '.'" in msg)
    report = validate_file(p, db=db)
    assert not report.ok and report.errors[0].record == "c-1"


def test_operator_keys_in_field_mapping_are_data(db, tmp_path):
    conv = _conv()
    p = write_json(tmp_path / "m.json", [conv])
    # A mapping whose source names look like operators only ever matches keys by equality.
    result = import_file(p, db=db, mapping={"$where": "skip"})
    assert result.inserted == 1
    job = db.import_jobs.find_one({})
    assert job["mapping"] == [{"source": "$where", "target": "skip"}]


# ---------------------------------------------------------------- values

def test_duplicate_ids_name_both_places(db, tmp_path):
    p = write_json(tmp_path / "dup.json", [_conv("same"), _conv("other"), _conv("same")])
    with pytest.raises(ValidationFailed) as info:
        import_file(p, db=db)
    assert info.value.code == "DUPLICATE_IDS"
    msg = str(info.value)
    assert "'same' appears twice" in msg and "conversation #1" in msg and "conversation #3" in msg
    assert db.sessions.count_documents({}) == 0


def test_duplicate_ids_in_jsonl_name_lines(db, tmp_path):
    p = tmp_path / "dup.jsonl"
    p.write_text("\n".join(json.dumps(c) for c in [_conv("x"), _conv("y"), _conv("x")]) + "\n")
    msg = refused(db, p, "appears twice", error=ValidationFailed)
    assert "dup.jsonl line 1 and dup.jsonl line 3" in msg


@pytest.mark.parametrize(("cost", "what"), [(-0.5, "negative"), ("ten", "not a number"),
                                            (True, "not a number")])
def test_bad_costs_are_errors_naming_record_and_field(db, tmp_path, cost, what):
    conv = _conv()
    conv["messages"][0]["cost_usd"] = cost
    p = write_json(tmp_path / "cost.json", [conv])
    msg = refused(db, p, f"is {what}", error=ValidationFailed)
    assert "record c-1" in msg and "cost_usd" in msg


def test_unparseable_timestamp_is_an_error(db, tmp_path):
    conv = _conv()
    conv["messages"][0]["timestamp"] = "the day after never"
    p = write_json(tmp_path / "ts.json", [conv])
    msg = refused(db, p, "does not parse", error=ValidationFailed)
    assert "timestamp" in msg and "c-1" in msg


def test_ragged_csv_names_the_line(db, tmp_path):
    p = tmp_path / "messages.csv"
    p.write_text("conversation_id,message_id,type,content,timestamp\r\n"
                 "a,a1,user,hi,2026-01-01T00:00:00Z\r\n"
                 "a,a2,user,hi,2026-01-01T00:00:01Z,EXTRA\r\n")
    refused(db, p, "messages.csv line 3: ragged row: 6 fields where the header has 5")


# ---------------------------------------------------------------- archives

def _zip(path: Path, members: dict[str, bytes], *, infos: list[zipfile.ZipInfo] | None = None) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        for info in infos or []:
            zf.writestr(info, b"/etc/passwd")
    return path


def _payload() -> bytes:
    return json.dumps({"version": "1.0.0", "conversations": [_conv()]}).encode()


def test_zip_bomb_ratio_refused_while_reading(db, tmp_path):
    p = _zip(tmp_path / "bomb.zip", {"conversations.json": b"0" * (60 * 1024 * 1024)})
    assert p.stat().st_size < 200_000
    refused(db, p, "expands more than 250x (zip bomb?)")


def test_zip_total_size_limit(db, tmp_path):
    import base64
    import os

    text = base64.b64encode(os.urandom(2_300_000))  # barely compressible, ~3 MB
    p = _zip(tmp_path / "big.zip", {"a.json": text, "b.json": text[::-1]})
    assert p.stat().st_size < 5 * 1024 * 1024
    refused(db, p, "MB uncompressed, over the 5 MB limit",
            limits=Limits(zip_total_bytes=5 * 1024 * 1024))


def test_zip_too_many_members(db, tmp_path):
    p = _zip(tmp_path / "many.zip", {f"f{i}.json": b"{}" for i in range(12)})
    refused(db, p, "12 members is over the limit of 10", limits=Limits(zip_members=10))


@pytest.mark.parametrize("name", ["../../evil.json", "/etc/evil.json", "a/../../evil.json",
                                  "C:/evil.json", "..\\..\\evil.json"])
def test_zip_path_traversal_refused(db, tmp_path, name):
    p = _zip(tmp_path / "trav.zip", {name: _payload()})
    refused(db, p, "refused")
    assert not (tmp_path.parent / "evil.json").exists()


def test_zip_symlink_member_refused(db, tmp_path):
    link = zipfile.ZipInfo("conversations.json")
    link.external_attr = (0o120777 << 16)
    p = _zip(tmp_path / "link.zip", {}, infos=[link])
    refused(db, p, "a symbolic link")


def test_nested_zip_refused(db, tmp_path):
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as zf:
        zf.writestr("conversations.json", _payload())
    refused(db, _zip(tmp_path / "n1.zip", {"inner.zip": inner.getvalue()}), "nested archives")
    # Disguised: a zip inside a member with a .json name.
    refused(db, _zip(tmp_path / "n2.zip", {"data.json": inner.getvalue()}), "is itself a zip archive")


def test_extraction_stays_in_a_private_folder(tmp_path):
    p = _zip(tmp_path / "ok.zip", {"dir/conversations.json": _payload()})
    dest = tmp_path / "private"
    dest.mkdir(mode=0o700)
    ex = extract_zip(p, dest)
    (target,) = ex.files.values()
    assert dest in target.parents and oct(target.stat().st_mode & 0o777) == "0o600"


def test_upload_temp_folder_is_removed(db, tmp_path):
    from claudelens_nb.config import settings

    p = _zip(tmp_path / "ok.zip", {"conversations.json": _payload()})
    assert import_file(p, db=db).inserted == 1
    uploads = settings().upload_dir
    assert not uploads.exists() or list(uploads.iterdir()) == []


def test_encrypted_zip_needs_the_right_password(db, tmp_path):
    import pyzipper

    p = tmp_path / "enc.zip"
    with pyzipper.AESZipFile(p, "w", compression=pyzipper.ZIP_DEFLATED, encryption=pyzipper.WZ_AES) as zf:
        zf.setpassword(b"s3cret")
        zf.writestr("conversations.json", _payload())
    refused(db, p, "the archive is encrypted; give its password")
    refused(db, p, "wrong password", password="nope")
    assert import_file(p, db=db, password="s3cret").inserted == 1


def test_manifest_mismatch_refused(db, tmp_path):
    manifest = {"files": [{"name": "conversations.json", "size": 3, "sha256": "0" * 64}]}
    p = _zip(tmp_path / "m.zip", {"conversations.json": _payload(),
                                  "manifest.json": json.dumps(manifest).encode()})
    refused(db, p, "does not match its manifest")
