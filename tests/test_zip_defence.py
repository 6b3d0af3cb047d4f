"""One zip defence (security.open_zip), one set of limits: a Claude Code, claude.ai or ChatGPT
zip is refused as our own zips are, whether import_file extracts it or the source readers
read it in place, and the `Limits` given to import_file / validate_file are the ones applied."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from test_import_helpers import snapshot

from claudelens_nb.errors import ErrorCode, ImportFileError
from claudelens_nb.imports import import_file, validate_file
from claudelens_nb.reading import ReadReport
from claudelens_nb.security import MB, Limits
from claudelens_nb.sources import detect, read

DATA = Path(__file__).parent / "data" / "sources"
CC_PROJECT = DATA / "claude-code" / "projects" / "-home-ana-src-my-app"


def _claude_ai() -> bytes:
    with zipfile.ZipFile(DATA / "claude-ai-export.zip") as zf:
        return zf.read("conversations.json")


def _ours() -> bytes:
    conv = {"id": "c-1", "title": "t", "created_at": "2026-01-02T03:04:05.000Z",
            "messages": [{"id": "c-1-m1", "type": "user", "content": "hi",
                          "timestamp": "2026-01-02T03:04:05.000Z"}]}
    return json.dumps({"version": "1.0.0", "conversations": [conv]}).encode()


# kind -> (the member a reader opens, its bytes): each a valid input of its kind when zipped.
PAYLOADS: dict[str, Callable[[], tuple[str, bytes]]] = {
    "claude_code": lambda: ("-home-ana-src-my-app/s2.jsonl", (CC_PROJECT / "s2.jsonl").read_bytes()),
    "claude_ai": lambda: ("conversations.json", _claude_ai()),
    "chatgpt": lambda: ("conversations.json", (DATA / "chatgpt" / "conversations.json").read_bytes()),
    "ours": lambda: ("conversations.json", _ours()),
}
SOURCES = ("claude_code", "claude_ai", "chatgpt")


def _zip(path: Path, members: dict[str, bytes], links: tuple[str, ...] = ()) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        for name in links:
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o120777 << 16
            zf.writestr(info, b"/etc/passwd")
    return path


def _nested() -> bytes:
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as zf:
        zf.writestr("conversations.json", _ours())
    return inner.getvalue()


# case -> (extra members, symbolic links, limits, the message after "x.zip: ")
HOSTILE: dict[str, tuple[dict[str, bytes], tuple[str, ...], Limits, str]] = {
    "path traversal": ({"../../escape.json": b"{}"}, (), Limits(),
                       "member '../../escape.json' refused: '..' in its path (path traversal)"),
    "absolute path": ({"/etc/escape.json": b"{}"}, (), Limits(),
                      "member '/etc/escape.json' refused: an absolute path"),
    "too many members": ({f"pad/{i}.txt": b"x" for i in range(5)}, (), Limits(zip_members=4),
                         "6 members is over the limit of 4 (zip bomb?)"),
    "declared total": ({"pad.bin": bytes(3 * MB // 2)}, (), Limits(zip_total_bytes=MB),
                       "members declare 2 MB uncompressed, over the 1 MB limit (zip bomb?)"),
    "symbolic link": ({}, ("link.json",), Limits(), "member 'link.json' refused: a symbolic link"),
    "nested archive": ({"inner.zip": _nested()}, (), Limits(),
                       "member 'inner.zip' refused: nested archives are not accepted"),
}


def _refusal(call: Callable[[], object]) -> tuple[str, str]:
    with pytest.raises(ImportFileError) as info:
        call()
    return str(info.value.code), str(info.value)


@pytest.mark.parametrize("case", list(HOSTILE))
@pytest.mark.parametrize("kind", SOURCES)
def test_a_hostile_source_zip_is_refused_as_our_own_zip_is(db, tmp_path, kind, case):
    extra, links, limits, message = HOSTILE[case]
    member, data = PAYLOADS[kind]()
    source = _zip(tmp_path / "source" / "x.zip", {member: data, **extra}, links)
    ours_member, ours_data = PAYLOADS["ours"]()
    ours = _zip(tmp_path / "ours" / "x.zip", {ours_member: ours_data, **extra}, links)
    expected = (ErrorCode.UNSAFE_ARCHIVE, f"x.zip: {message}")
    before = snapshot(db, bookkeeping=True)
    assert _refusal(lambda: import_file(ours, db=db, limits=limits)) == expected
    assert _refusal(lambda: import_file(source, db=db, limits=limits)) == expected
    assert _refusal(lambda: validate_file(source, db=db, limits=limits)) == expected
    # The reader given the zip itself (read in place, never extracted): the same refusal.
    assert _refusal(lambda: list(read(kind, source, ReadReport(), limits=limits))) == expected
    assert detect(source, limits=limits) is None
    assert snapshot(db, bookkeeping=True) == before
    assert not (tmp_path / "escape.json").exists() and not Path("/etc/escape.json").exists()


@pytest.mark.parametrize("kind", [*SOURCES, "ours"])
def test_a_zip_bomb_member_stops_reading_with_one_error(db, tmp_path, kind):
    member, data = PAYLOADS[kind]()
    # White space the readers must read through (after a JSON array's "[", after a JSONL
    # line): the member expands ~1000x.
    pad = b" " * (2 * MB)
    padded = data.replace(b"[", b"[" + pad, 1) if data.startswith(b"[") else data + b"\n" + pad
    bomb = _zip(tmp_path / "bomb.zip", {member: padded})
    limits = Limits(zip_ratio_floor=64 * 1024)
    expected = (ErrorCode.UNSAFE_ARCHIVE,
                f"bomb.zip: member {member!r} expands more than 250x (zip bomb?); stopped reading")
    assert _refusal(lambda: import_file(bomb, db=db, limits=limits)) == expected
    if kind != "ours":
        assert _refusal(lambda: list(read(kind, bomb, ReadReport(), limits=limits))) == expected
        # Below the floor the same archive is read: the limits given are the ones applied.
        assert list(read(kind, bomb, ReadReport(), limits=Limits(zip_ratio_floor=4 * MB)))


def test_a_member_that_is_itself_a_zip_is_refused_in_place(tmp_path):
    path = _zip(tmp_path / "x.zip", {"p/s.jsonl": (CC_PROJECT / "s2.jsonl").read_bytes(),
                                     "p/t.jsonl": _nested()})
    code, message = _refusal(lambda: list(read("claude_code", path, ReadReport())))
    assert code == ErrorCode.UNSAFE_ARCHIVE
    assert message == ("x.zip: member 'p/t.jsonl' refused: it is itself a zip archive "
                       "(nested archives are not accepted)")


@pytest.mark.parametrize("kind", SOURCES)
def test_an_encrypted_source_zip_needs_its_password(db, tmp_path, kind):
    import pyzipper

    member, data = PAYLOADS[kind]()
    path = tmp_path / "enc.zip"
    with pyzipper.AESZipFile(path, "w", compression=pyzipper.ZIP_DEFLATED,
                             encryption=pyzipper.WZ_AES) as zf:
        zf.setpassword(b"s3cret")
        zf.writestr(member, data)
    expected = (ErrorCode.PASSWORD_REQUIRED, "enc.zip: the archive is encrypted; give its password")
    assert _refusal(lambda: list(read(kind, path, ReadReport()))) == expected
    assert _refusal(lambda: import_file(path, db=db)) == expected


def test_custom_limits_reach_a_claude_code_zip_and_folder(db, tmp_path):
    files = {f"-home-ana-src-my-app/{p.name}": p.read_bytes() for p in sorted(CC_PROJECT.glob("*.jsonl"))}
    assert len(files) == 2
    path = _zip(tmp_path / "cc.zip", files)
    few = Limits(zip_members=1)
    expected = (ErrorCode.UNSAFE_ARCHIVE, "cc.zip: 2 members is over the limit of 1 (zip bomb?)")
    assert _refusal(lambda: import_file(path, db=db, limits=few)) == expected
    assert _refusal(lambda: validate_file(path, db=db, limits=few)) == expected
    assert _refusal(lambda: list(read("claude_code", path, ReadReport(), limits=few))) == expected
    # The archive's own size, then its members' declared total, against zip_total_bytes.
    small = Limits(zip_total_bytes=path.stat().st_size - 1)
    expected = (ErrorCode.QUOTA_EXCEEDED, "cc.zip: 0.0 MB is over the 0 MB limit for ZIP files")
    assert _refusal(lambda: import_file(path, db=db, limits=small)) == expected
    assert _refusal(lambda: list(read("claude_code", path, ReadReport(), limits=small))) == expected
    declared = Limits(zip_total_bytes=path.stat().st_size + 1)
    code, message = _refusal(lambda: import_file(path, db=db, limits=declared))
    assert code == ErrorCode.UNSAFE_ARCHIVE and message.startswith("cc.zip: members declare ")
    assert _refusal(lambda: list(read("claude_code", path, ReadReport(), limits=declared))) == (
        code, message)
    assert db.sessions.count_documents({}) == 0
    # The folder: each transcript's size against the JSON limit, before any line is read.
    size = max(p.stat().st_size for p in CC_PROJECT.glob("*.jsonl"))
    code, message = _refusal(lambda: import_file(CC_PROJECT, db=db, limits=Limits(json_bytes=size - 1)))
    assert code == ErrorCode.QUOTA_EXCEEDED and "limit for JSONL files" in message
    assert db.sessions.count_documents({}) == 0
    # With the defaults both are read (the zip and the folder hold the same sessions).
    assert import_file(path, db=db).inserted == validate_file(CC_PROJECT, db=db).stats["conversations"]
