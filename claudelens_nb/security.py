"""Upload checks: every file a user hands us is hostile until checked (docs/security.md).

Extension allowlist, content type by python-magic, size limits before reading whole,
encodings (UTF-8, UTF-8 with BOM, UTF-16; invalid bytes named by offset), JSON nesting
depth and string size while streaming, zip bombs / traversal / links / nested archives
(one defence, `open_zip`, for a zip extracted into a private temporary folder and for one
the source readers read in place), and field names that could act as MongoDB operators.
"""

from __future__ import annotations

import codecs
import contextlib
import hashlib
import io
import os
import re
import shutil
import stat
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path, PurePosixPath
from typing import IO, Any

from .errors import ErrorCode, ImportFileError

MB = 1024 * 1024
TEXT_EXTENSIONS = {".json", ".jsonl", ".csv"}
ALLOWED_EXTENSIONS = TEXT_EXTENSIONS | {".zip", ".parquet"}
_TEXT_MIMES = {"application/json", "application/csv", "application/x-ndjson", "application/jsonl"}
_ZIP_MIMES = {"application/zip", "application/x-zip-compressed", "application/x-zip"}
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_BLOCK = 1 << 20


@dataclass(frozen=True)
class Limits:
    """Every limit the importer enforces; tests pass smaller ones."""

    json_bytes: int = 100 * MB
    json_conversations: int = 10_000
    json_messages: int = 10_000
    csv_bytes: int = 50 * MB
    csv_conversations: int = 5_000
    csv_messages: int = 1_000
    max_depth: int = 64
    max_string_bytes: int = 16 * MB
    zip_members: int = 10_000
    zip_total_bytes: int = 1024 * MB
    zip_ratio: int = 250
    # Below this many bytes a member's ratio is not judged (tiny files compress absurdly).
    zip_ratio_floor: int = 1 * MB

    def bytes_for(self, fmt: str) -> int:
        return self.csv_bytes if fmt == "csv" else self.json_bytes

    def counts_for(self, fmt: str) -> tuple[int, int]:
        if fmt == "csv":
            return self.csv_conversations, self.csv_messages
        return self.json_conversations, self.json_messages


DEFAULT_LIMITS = Limits()


def display_name(path: str | Path) -> str:
    """A file name for people: only ever shown, never used to build a path."""
    name = Path(str(path)).name or str(path)
    return re.sub(r"[\x00-\x1f\x7f]", "?", name)[:200]


def extension_format(path: Path) -> str:
    """'json' | 'jsonl' | 'csv' | 'zip' | 'folder' from the allowlist, else refused."""
    if path.is_dir():
        return "folder"
    ext = path.suffix.lower()
    if ext not in ALLOWED_EXTENSIONS:
        shown = ext or "(none)"
        raise ImportFileError(
            f"{display_name(path)}: extension {shown} is not accepted; "
            "use .json, .jsonl, .csv, .parquet, .zip or a folder (of .jsonl files, or an export's tables)",
            code=ErrorCode.UNSUPPORTED_FILE_TYPE,
        )
    return ext[1:]


def check_size(path: Path, fmt: str, limits: Limits = DEFAULT_LIMITS) -> int:
    """The file's size; refused (before any reading) when over its format's limit."""
    size = path.stat().st_size
    if size == 0:
        raise ImportFileError(f"{display_name(path)}: the file is empty", code=ErrorCode.EMPTY_FILE)
    limit = limits.zip_total_bytes if fmt == "zip" else limits.bytes_for(fmt)
    if size > limit:
        raise ImportFileError(
            f"{display_name(path)}: {size / MB:.1f} MB is over the {limit / MB:.0f} MB limit "
            f"for {fmt.upper()} files",
            code=ErrorCode.QUOTA_EXCEEDED,
        )
    return size


def sniff_mime(head: bytes) -> str:
    import magic

    return magic.from_buffer(head, mime=True)


def check_magic(path: Path, fmt: str, name: str | None = None) -> str:
    """python-magic on the first bytes must agree with the extension; returns the mime type."""
    name = name or display_name(path)
    with open(path, "rb") as fh:
        head = fh.read(64 * 1024)
    mime = sniff_mime(head)
    if fmt == "zip":
        if mime not in _ZIP_MIMES:
            raise ImportFileError(f"{name}: content is {mime}, not a zip archive")
        return mime
    if head.startswith(_ZIP_MAGIC):
        raise ImportFileError(f"{name}: content is a zip archive, not {fmt.upper()} text")
    if mime.startswith("text/") or mime in _TEXT_MIMES:
        return mime
    if mime == "application/octet-stream":
        # Text magic cannot classify (e.g. bad bytes): the encoding check names the offset.
        return mime
    raise ImportFileError(f"{name}: content is {mime}, not {fmt.upper()} text")


# ---------------------------------------------------------------- encodings

@dataclass(frozen=True)
class TextInfo:
    encoding: str  # "utf-8" or "utf-16"
    bom: int  # bytes of BOM to skip
    sha256: str
    size: int


def inspect_text(path: Path, name: str | None = None) -> TextInfo:
    """One streaming pass: the encoding (BOM / UTF-16), validity (offset of the first bad
    byte), and the file's sha256."""
    name = name or display_name(path)
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        head = fh.read(4)
        if head.startswith(codecs.BOM_UTF8):
            encoding, bom = "utf-8", 3
        elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            encoding, bom = "utf-16", 2
        else:
            encoding, bom = "utf-8", 0
        fh.seek(0)
        decoder = codecs.getincrementaldecoder("utf-16" if encoding == "utf-16" else "utf-8")()
        offset = 0
        size = 0
        skip = bom if encoding == "utf-8" else 0  # the UTF-16 decoder reads its own BOM
        while block := fh.read(_BLOCK):
            h.update(block)
            size += len(block)
            pending = len(decoder.getstate()[0])
            try:
                decoder.decode(block[skip:] if offset == 0 else block)
            except UnicodeDecodeError as exc:
                at = offset - pending + exc.start + (skip if offset == 0 else 0)
                raise ImportFileError(
                    f"{name}: invalid {encoding.upper()} at byte offset {at} "
                    f"(byte 0x{exc.object[exc.start]:02x})", code=ErrorCode.INVALID_ENCODING,
                ) from None
            offset += len(block)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise ImportFileError(
                f"{name}: invalid {encoding.upper()} at byte offset {size}: the file ends "
                "inside a character", code=ErrorCode.INVALID_ENCODING,
            ) from None
    return TextInfo(encoding, bom, h.hexdigest(), size)


@contextlib.contextmanager
def open_utf8(path: Path, info: TextInfo) -> Iterator[Any]:
    """The file's text as UTF-8 bytes, BOM removed, whatever its encoding."""
    raw = open(path, "rb")  # noqa: SIM115 - closed below
    try:
        if info.encoding == "utf-16":
            # The stdlib's recoder: UTF-16 read (its BOM too), UTF-8 bytes given.
            yield codecs.EncodedFile(raw, data_encoding="utf-8", file_encoding="utf-16")
        else:
            raw.seek(info.bom)
            yield raw
    finally:
        raw.close()


def open_text(path: Path, info: TextInfo) -> IO[str]:
    """The file as text (for csv), BOM removed."""
    enc = "utf-16" if info.encoding == "utf-16" else "utf-8-sig"
    return open(path, encoding=enc, newline="")


# ---------------------------------------------------------------- JSON structure

_STRING = re.compile(rb'"[^"]*"')
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'"[]{}')
_DEPTH_STEP = [0] * 256
for _b, _v in ((b"[", 1), (b"{", 1), (b"]", -1), (b"}", -1)):
    _DEPTH_STEP[_b[0]] = _v


def check_json_structure(fh: IO[bytes], limits: Limits, name: str) -> None:
    """Refuse JSON / JSONL text nested deeper than the limit or holding a huge string,
    before any parser builds it. One pass at C speed: a raw newline is never inside a JSON
    string, so the text is cut at newlines; escapes are dropped, strings removed, and the
    brackets that are left are counted."""
    carry = b""
    depth = 0
    line = 1
    while True:
        block = fh.read(_BLOCK)
        text = carry + block
        cut = text.rfind(b"\n") + 1 if block else len(text)
        piece, carry = text[:cut], text[cut:]
        plain = piece.replace(b"\\\\", b"").replace(b'\\"', b"")
        if len(plain) > limits.max_string_bytes:
            _long_string(plain, limits, name)
        brackets = _STRING.sub(b"", plain.translate(None, _NOT_STRUCTURE)).replace(b'"', b"")
        if brackets:
            deepest = max(accumulate(map(_DEPTH_STEP.__getitem__, brackets), initial=depth))
            if deepest > limits.max_depth:
                raise ImportFileError(
                    f"{name}: JSON nested deeper than {limits.max_depth} levels "
                    f"(after line {line})", code=ErrorCode.QUOTA_EXCEEDED,
                )
            depth = sum(map(_DEPTH_STEP.__getitem__, brackets), depth)
        line += piece.count(b"\n")
        if not block:
            return


def _long_string(data: bytes, limits: Limits, name: str) -> None:
    longest = max(map(len, data.replace(b"\\\\", b"").replace(b'\\"', b"").split(b'"')))
    if longest > limits.max_string_bytes:
        raise ImportFileError(
            f"{name}: a single string of {longest / MB:.1f} MB is over the "
            f"{limits.max_string_bytes / MB:.0f} MB limit", code=ErrorCode.QUOTA_EXCEEDED,
        )


def check_tree(value: Any, limits: Limits, where: str) -> None:
    """Depth and string-size limits on an already-parsed value (JSONL lines, source records)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        v, depth = stack.pop()
        if isinstance(v, str):
            if len(v) > limits.max_string_bytes:
                raise ImportFileError(
                    f"{where}: a single string of {len(v) / MB:.1f} MB is over the "
                    f"{limits.max_string_bytes / MB:.0f} MB limit", code=ErrorCode.QUOTA_EXCEEDED,
                )
        elif isinstance(v, (dict, list)):
            if depth > limits.max_depth:
                raise ImportFileError(f"{where}: JSON nested deeper than {limits.max_depth} levels",
                                      code=ErrorCode.QUOTA_EXCEEDED)
            items = v.values() if isinstance(v, dict) else v
            stack.extend((x, depth + 1) for x in items if isinstance(x, (dict, list, str)))


def unsafe_key(key: Any) -> str | None:
    """Why a field name may not become a document field, or None when it is safe."""
    if not isinstance(key, str):
        return f"field name {key!r} is not text"
    if key.startswith("$"):
        return f"field name {key!r} starts with '$' (a MongoDB operator); rename or skip it"
    if "." in key:
        return f"field name {key!r} contains '.' (a MongoDB path); rename or skip it"
    if "\x00" in key:
        return f"field name {key!r} contains a NUL character"
    if key == "":
        return "an empty field name"
    return None


# ---------------------------------------------------------------- private folders

@contextlib.contextmanager
def private_tempdir(prefix: str = "claudelens-import-") -> Iterator[Path]:
    """A folder only we can read (mode 0700), removed afterwards whatever happens."""
    from .config import settings

    base = settings().upload_dir
    try:
        base.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = Path(tempfile.mkdtemp(prefix=prefix, dir=base))
    except OSError:
        path = Path(tempfile.mkdtemp(prefix=prefix))
    os.chmod(path, 0o700)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


# ---------------------------------------------------------------- zip archives
# One defence for every zip we read: `extract_zip` (our import) and the source readers that
# read a zip in place (sources/archive.py, sources/detection.py) both open it with
# `open_zip`, under one `Limits`, so a hostile zip is refused with one error and code.

@dataclass
class Extracted:
    """What a checked archive held: member name (display only) -> file in our private folder."""

    folder: Path
    files: dict[str, Path] = field(default_factory=dict)
    encrypted: bool = False
    total_bytes: int = 0


def member_name_problem(name: str) -> str | None:
    norm = name.replace("\\", "/")
    if "\x00" in norm:
        return "a NUL character in its name"
    if norm.startswith("/") or re.match(r"^[A-Za-z]:", norm):
        return "an absolute path"
    if ".." in PurePosixPath(norm).parts:
        return "'..' in its path (path traversal)"
    return None


def _is_link(info: zipfile.ZipInfo) -> bool:
    mode = info.external_attr >> 16
    return stat.S_ISLNK(mode) if mode else False


def _open_zip(path: Path, name: str) -> zipfile.ZipFile:
    import pyzipper

    try:
        return pyzipper.AESZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise ImportFileError(f"{name}: not a readable zip archive ({exc})") from None


def check_zip_listing(infos: list[zipfile.ZipInfo], limits: Limits, name: str) -> bool:
    """Refuse an archive by its listing, before any member is read: too many members,
    unsafe names, symbolic links, nested archives by name, declared sizes over the limit.
    Returns whether any member is encrypted."""
    if len(infos) > limits.zip_members:
        raise ImportFileError(
            f"{name}: {len(infos)} members is over the limit of {limits.zip_members} "
            "(zip bomb?)", code=ErrorCode.UNSAFE_ARCHIVE,
        )
    declared = 0
    encrypted = False
    for info in infos:
        problem = member_name_problem(info.filename)
        if problem:
            raise ImportFileError(f"{name}: member {info.filename!r} refused: {problem}",
                                  code=ErrorCode.UNSAFE_ARCHIVE)
        if _is_link(info):
            raise ImportFileError(
                f"{name}: member {info.filename!r} refused: a symbolic link",
                code=ErrorCode.UNSAFE_ARCHIVE,
            )
        if info.filename.lower().endswith(".zip"):
            raise ImportFileError(
                f"{name}: member {info.filename!r} refused: nested archives are not accepted",
                code=ErrorCode.UNSAFE_ARCHIVE,
            )
        declared += info.file_size
        if info.flag_bits & 0x1:
            encrypted = True
    if declared > limits.zip_total_bytes:
        raise ImportFileError(
            f"{name}: members declare {declared / MB:.0f} MB uncompressed, over the "
            f"{limits.zip_total_bytes / MB:.0f} MB limit (zip bomb?)", code=ErrorCode.UNSAFE_ARCHIVE,
        )
    return encrypted


class ZipGuard:
    """An open archive whose listing passed `check_zip_listing`. `open(info)` streams a
    member while the limits are enforced on the bytes actually read: the archive's total
    (a member read twice counts once), each member's expansion ratio, a member that is
    itself a zip by its first bytes; read errors become our errors (wrong password, damaged)."""

    def __init__(self, zf: zipfile.ZipFile, limits: Limits, name: str) -> None:
        self.zf, self.limits, self.name = zf, limits, name
        self.infos = zf.infolist()
        self.encrypted = check_zip_listing(self.infos, limits, name)
        self.total = 0  # uncompressed bytes read, each member counted once
        self._read: dict[int, int] = {}  # header offset -> most bytes read of that member

    def open(self, info: zipfile.ZipInfo) -> IO[bytes]:
        try:
            member = self.zf.open(info)
        except (RuntimeError, zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
            raise self._read_error(info, exc) from None
        return io.BufferedReader(_GuardedMember(self, info, member), _MEMBER_BUFFER)

    def _read_error(self, info: zipfile.ZipInfo, exc: BaseException) -> ImportFileError:
        if isinstance(exc, ImportFileError):
            return exc
        if isinstance(exc, RuntimeError) and "password" in str(exc).lower():
            return ImportFileError(f"{self.name}: wrong password for the encrypted archive",
                                   code=ErrorCode.WRONG_PASSWORD)
        return ImportFileError(f"{self.name}: cannot read member {info.filename!r}: {exc}",
                               code=ErrorCode.DAMAGED_FILE)

    def _count(self, info: zipfile.ZipInfo, written: int) -> None:
        seen = self._read.get(info.header_offset, 0)
        if written > seen:
            self.total += written - seen
            self._read[info.header_offset] = written
        limits = self.limits
        if self.total > limits.zip_total_bytes:
            raise ImportFileError(
                f"{self.name}: more than {limits.zip_total_bytes / MB:.0f} MB "
                "uncompressed (zip bomb?); stopped reading", code=ErrorCode.UNSAFE_ARCHIVE,
            )
        if written > limits.zip_ratio_floor and written > limits.zip_ratio * max(info.compress_size, 1):
            raise ImportFileError(
                f"{self.name}: member {info.filename!r} expands more than "
                f"{limits.zip_ratio}x (zip bomb?); stopped reading", code=ErrorCode.UNSAFE_ARCHIVE,
            )


_MEMBER_BUFFER = 256 * 1024


class _GuardedMember(io.RawIOBase):
    """One member's bytes, counted by its guard as they are read."""

    def __init__(self, guard: ZipGuard, info: zipfile.ZipInfo, raw: IO[bytes]) -> None:
        self.guard, self.info, self.raw = guard, info, raw
        self.written = 0
        self.head = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buf: Any) -> int:
        try:
            data = self.raw.read(len(buf))
        except (RuntimeError, zipfile.BadZipFile, EOFError, OSError, ValueError, zlib.error) as exc:
            raise self.guard._read_error(self.info, exc) from None
        if len(self.head) < 4:
            self.head += data[:4 - len(self.head)]
            if self.head.startswith(_ZIP_MAGIC):
                raise ImportFileError(
                    f"{self.guard.name}: member {self.info.filename!r} refused: it is itself a "
                    "zip archive (nested archives are not accepted)", code=ErrorCode.UNSAFE_ARCHIVE,
                )
        self.written += len(data)
        self.guard._count(self.info, self.written)
        n = len(data)
        buf[:n] = data
        return n

    def close(self) -> None:
        if not self.closed:
            self.raw.close()
        super().close()


@contextlib.contextmanager
def open_zip(
    path: Path,
    *,
    password: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
    name: str | None = None,
) -> Iterator[ZipGuard]:
    """Open an archive for reading through the zip defence: its own size and its listing
    checked first, an encrypted one only with its password, then every member read under
    the limits."""
    name = name or display_name(path)
    check_size(Path(path), "zip", limits)
    with _open_zip(Path(path), name) as zf:
        guard = ZipGuard(zf, limits, name)
        if guard.encrypted:
            if not password:
                raise ImportFileError(f"{name}: the archive is encrypted; give its password",
                                      code=ErrorCode.PASSWORD_REQUIRED)
            zf.setpassword(password.encode("utf-8"))
        yield guard


def extract_zip(
    path: Path,
    dest: Path,
    *,
    password: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
    name: str | None = None,
) -> Extracted:
    """Check and extract an archive into `dest` (our private folder), enforcing every limit
    while reading: members, total size, ratio, names, links, nested archives, passwords."""
    name = name or display_name(path)
    out = Extracted(dest)
    with open_zip(path, password=password, limits=limits, name=name) as guard:
        out.encrypted = guard.encrypted
        for i, info in enumerate(guard.infos):
            if info.is_dir():
                continue
            rel = PurePosixPath(info.filename.replace("\\", "/"))
            parts = [re.sub(r"[^\w.\- ]", "_", p) or f"part{i}" for p in rel.parts if p not in ("", ".")]
            target = dest.joinpath(*parts) if parts else dest / f"member{i}"
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            if target.exists():
                target = target.with_name(f"{i}_{target.name}")
            try:
                with guard.open(info) as src, open(target, "xb") as dst:
                    os.chmod(target, 0o600)
                    while block := src.read(_MEMBER_BUFFER):
                        dst.write(block)
            except OSError as exc:
                raise ImportFileError(f"{name}: cannot read member {info.filename!r}: {exc}",
                                      code=ErrorCode.DAMAGED_FILE) from None
            out.files[info.filename] = target
        out.total_bytes = guard.total
    return out


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(_BLOCK):
            h.update(block)
    return h.hexdigest()
