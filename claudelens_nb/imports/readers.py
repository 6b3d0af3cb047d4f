"""Opening an input: checks, kind detection from content, and raw conversations one by one.

Kinds: "json" (our envelope), "claudelens_json" (ClaudeLens's older `{"conversations":
[...]}`), "json_array" (a bare list of our conversations), "jsonl", "csv", and the
external sources' kinds ("claude_code", "claude_ai", "chatgpt") read by `sources.read`.
A zip is checked and extracted into a private temporary folder, then read as its content.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ErrorCode, ImportFileError
from ..reading import Problem, ReadReport
from ..security import (
    DEFAULT_LIMITS,
    Limits,
    TextInfo,
    check_json_structure,
    check_magic,
    check_size,
    display_name,
    extension_format,
    extract_zip,
    inspect_text,
    open_utf8,
    private_tempdir,
    sha256_file,
)
from . import csv_reader, upstream_layout
from .tables import open_export_folder, open_parquet_file, parquet_items

OUR_KINDS = ("json", "claudelens_json", "json_array", "jsonl", "csv", "parquet")
MANIFEST = "manifest.json"
_CONV_KEYS = {"messages", "msgs", "chat_messages", "turns"}
_PEEK_EVENTS = 20_000


def _ijson():
    try:
        import ijson.backends.yajl2_c as backend
    except ImportError:  # pragma: no cover - the C backend ships in ijson's wheels
        import ijson as backend
    return backend


@dataclass
class RawItem:
    """One conversation as read: raw for our kinds, canonical for external sources."""

    data: Any
    line: int | None = None
    file: str | None = None


@dataclass
class Source:
    kind: str
    fmt: str  # "json" or "csv": whose limits apply
    name: str
    size: int
    sha256: str
    archive: bool = False
    encrypted: bool = False
    _items: Callable[[ReadReport], Iterator[RawItem]] | None = None
    problems: list[Problem] = field(default_factory=list)

    def items(self, report: ReadReport) -> Iterator[RawItem]:
        assert self._items is not None
        return self._items(report)

    @property
    def external(self) -> bool:
        return self.kind not in OUR_KINDS


class _Counting:
    """A binary reader that counts the bytes handed out (for error offsets)."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw
        self.count = 0

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        self.count += len(data)
        return data


def _json_error(name: str, exc: Exception, offset: int) -> ImportFileError:
    text = str(exc)
    if isinstance(exc, bytes):  # pragma: no cover
        text = exc.decode("utf-8", "replace")
    text = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    if text.startswith("b'") or text.startswith('b"'):
        text = text[2:].split("\\n")[0]
    if "premature EOF" in text or "Incomplete" in text:
        return ImportFileError(f"{name}: truncated JSON: the file ends at byte offset {offset} "
                               "before the data is complete")
    return ImportFileError(f"{name}: malformed JSON near byte offset {offset}: {text}")


# ---------------------------------------------------------------- detection

def _first_byte(path: Path, info: TextInfo) -> bytes:
    with open_utf8(path, info) as fh:
        head = fh.read(4096)
    return head.lstrip(b" \t\r\n")[:1]


def _top_keys(path: Path, info: TextInfo, container: str) -> tuple[list[str], ImportFileError | None]:
    """Keys of the first top-level object (or of the first array item), and a parse error
    met on the way (a truncated or malformed file)."""
    ij = _ijson()
    top = "item" if container == "[" else ""
    keys: list[str] = []
    with open_utf8(path, info) as fh:
        counting = _Counting(fh)
        try:
            for n, (prefix, event, value) in enumerate(ij.parse(counting, multiple_values=True)):
                if prefix == top and event == "map_key":
                    keys.append(value)
                    if value in ("conversations", "_meta") or value in _CONV_KEYS:
                        break
                elif prefix == top and event == "end_map":
                    break
                if n > _PEEK_EVENTS:
                    break
        except Exception as exc:  # ijson / yajl errors
            return keys, _json_error(display_name(path), exc, counting.count)
    return keys, None


def _sources():
    try:
        from .. import sources
    except ImportError:
        return None
    return sources


def detect_text(path: Path, info: TextInfo, name: str) -> str:
    first = _first_byte(path, info)
    error = None
    if first == b"{":
        keys, error = _top_keys(path, info, "{")
        if "conversations" in keys:
            return "json" if "version" in keys else "claudelens_json"
        if "_meta" in keys or _CONV_KEYS & set(keys):
            return "jsonl"
    elif first == b"[":
        src = _sources()
        kind = src.detect(path) if src else None
        if kind:
            return kind
        keys, error = _top_keys(path, info, "[")
        if _CONV_KEYS & set(keys):
            return "json_array"
    elif first and csv_reader.table_of(path, info) is not None:
        return "csv"
    src = _sources()
    kind = src.detect(path) if src else None
    if kind:
        return kind
    if error is not None:
        error.args = (error.args[0].replace(display_name(path), name, 1),)
        raise error
    if src is None:
        raise ImportFileError(f"{name}: not one of our formats, and the external source readers "
                              "(claudelens_nb.sources) are not installed")
    raise ImportFileError(
        f"{name}: content not recognised: not our JSON / JSONL / CSV export, not ClaudeLens's "
        "older JSON, not a Claude Code, claude.ai or ChatGPT export",
        code="INVALID_FORMAT",
    )


# ---------------------------------------------------------------- readers of our kinds

def _json_items(path: Path, info: TextInfo, name: str, prefix: str, limits: Limits,
                adapt: Callable[[Any], Any] | None = None):
    def items(report: ReadReport) -> Iterator[RawItem]:
        ij = _ijson()
        with open_utf8(path, info) as fh:
            counting = _Counting(fh)
            i = 0
            try:
                for conv in ij.items(counting, prefix, use_float=True):
                    yield RawItem(adapt(conv) if adapt else conv, None, name)
                    i += 1
            except ImportFileError:
                raise
            except Exception as exc:  # ijson's errors carry yajl's message
                if type(exc).__module__.startswith("ijson") or isinstance(exc, ValueError):
                    raise _json_error(name, exc, counting.count) from None
                raise
    return items


def _jsonl_items(path: Path, info: TextInfo, name: str, limits: Limits):
    def items(report: ReadReport) -> Iterator[RawItem]:
        with open_utf8(path, info) as fh:
            for line_no, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except ValueError as exc:
                    report.error(f"malformed JSON: {exc}", file=name, line=line_no)
                    continue
                if isinstance(obj, dict) and set(obj) == {"_meta"}:
                    continue
                yield RawItem(obj, line_no, name)
    return items


def _folder_jsonl_items(files: list[tuple[Path, TextInfo, str]], limits: Limits):
    def items(report: ReadReport) -> Iterator[RawItem]:
        for path, info, name in files:
            yield from _jsonl_items(path, info, name, limits)(report)
    return items


def _external_items(kind: str, path: Path, limits: Limits):
    def items(report: ReadReport) -> Iterator[RawItem]:
        src = _sources()
        if src is None:
            raise ImportFileError("the external source readers (claudelens_nb.sources) are missing")
        for conv in src.read(kind, path, report, limits=limits):
            yield RawItem(conv, None, None)
    return items


# ---------------------------------------------------------------- opening

def _open_text_file(path: Path, fmt: str, name: str, limits: Limits) -> tuple[Source, TextInfo]:
    size = check_size(path, fmt, limits)
    check_magic(path, fmt, name)
    info = inspect_text(path, name)
    kind = detect_text(path, info, name)
    if kind == "csv":
        if size > limits.csv_bytes:
            raise ImportFileError(
                f"{name}: {size / 1048576:.1f} MB is over the {limits.csv_bytes / 1048576:.0f} MB "
                "limit for CSV files", code="QUOTA_EXCEEDED")
        src = Source(kind, "csv", name, size, info.sha256)
        src._items = csv_reader.items_from([(path, info, name)], limits)
        return src, info
    if kind in OUR_KINDS:
        with open_utf8(path, info) as fh:
            check_json_structure(fh, limits, name)
    src = Source(kind, "json", name, size, info.sha256)
    if kind == "json":
        src._items = _json_items(path, info, name, "conversations.item", limits)
    elif kind == "claudelens_json":
        src._items = _json_items(path, info, name, "conversations.item", limits,
                                 upstream_layout.adapt)
    elif kind == "json_array":
        src._items = _json_items(path, info, name, "item", limits)
    elif kind == "jsonl":
        src._items = _jsonl_items(path, info, name, limits)
    else:
        src._items = _external_items(kind, path, limits)
    return src, info


def _walk_jsonl(folder: Path) -> list[Path]:
    found = []
    for root, dirs, files in os.walk(folder, followlinks=False):
        dirs.sort()
        for f in sorted(files):
            p = Path(root, f)
            if f.lower().endswith(".jsonl") and not p.is_symlink():
                found.append(p)
    return found


def _open_folder(path: Path, name: str, limits: Limits) -> Source:
    exported = open_export_folder(path, name, limits)  # a CSV/Parquet export's folder
    if exported is not None:
        return exported
    files = _walk_jsonl(path)
    if not files:
        raise ImportFileError(f"{name}: the folder holds no .jsonl files")
    h = hashlib.sha256()
    checked = []
    total = 0
    for f in files:
        rel = f.relative_to(path).as_posix()
        total += check_size(f, "jsonl", limits)
        check_magic(f, "jsonl", rel)
        info = inspect_text(f, rel)
        h.update(rel.encode("utf-8") + b"\0" + info.sha256.encode())
        checked.append((f, info, rel))
    src_mod = _sources()
    kind = src_mod.detect(path) if src_mod else None
    if kind:
        src = Source(kind, "json", name, total, h.hexdigest())
        src._items = _external_items(kind, path, limits)
        return src
    first, info, rel = checked[0]
    if detect_text(first, info, rel) != "jsonl":
        raise ImportFileError(f"{name}: the folder's .jsonl files are not in a known format")
    src = Source("jsonl", "json", name, total, h.hexdigest())
    src._items = _folder_jsonl_items(checked, limits)
    return src


def _verify_manifest(name: str, files: dict[str, Path]) -> None:
    manifest_path = files.get(MANIFEST)
    if manifest_path is None:
        return
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        listed = manifest["files"]
    except (ValueError, KeyError, TypeError):
        raise ImportFileError(f"{name}: manifest.json is not a valid manifest",
                              code=ErrorCode.DAMAGED_FILE) from None
    for entry in listed:
        member = entry.get("name") if isinstance(entry, dict) else None
        if member not in files:
            raise ImportFileError(f"{name}: manifest lists {member!r} but the archive lacks it",
                                  code=ErrorCode.DAMAGED_FILE)
        actual = sha256_file(files[member])
        if actual != entry.get("sha256") or files[member].stat().st_size != entry.get("size"):
            raise ImportFileError(
                f"{name}: member {member!r} does not match its manifest (sha256 or size differ): "
                "the archive is damaged or was altered", code=ErrorCode.DAMAGED_FILE,
            )


def _open_zip(path: Path, name: str, password: str | None, limits: Limits,
              tmp: Path) -> Source:
    size = check_size(path, "zip", limits)
    check_magic(path, "zip", name)
    sha = sha256_file(path)
    ex = extract_zip(path, tmp, password=password, limits=limits, name=name)
    _verify_manifest(name, ex.files)
    payload = {m: p for m, p in ex.files.items() if m != MANIFEST}
    if not payload:
        raise ImportFileError(f"{name}: the archive holds nothing to import")
    parquet = [(p, f"{name}:{m}") for m, p in payload.items() if m.lower().endswith(".parquet")]
    if parquet:
        src = Source("parquet", "json", name, size, sha, archive=True, encrypted=ex.encrypted)
        src._items = parquet_items(parquet, limits)
        return src
    texts = []
    for member, p in payload.items():
        fmt = Path(member).suffix.lower()[1:]
        if fmt in ("json", "jsonl", "csv"):
            shown = f"{name}:{member}"
            check_size(p, fmt, limits)
            check_magic(p, fmt, shown)
            texts.append((p, inspect_text(p, shown), shown))
    tables = [(p, i, n) for p, i, n in texts if csv_reader.table_of(p, i) is not None]
    if tables:
        total = sum(p.stat().st_size for p, _, _ in tables)
        if total > limits.csv_bytes:
            raise ImportFileError(f"{name}: CSV tables of {total / 1048576:.1f} MB are over the "
                                  f"{limits.csv_bytes / 1048576:.0f} MB limit", code="QUOTA_EXCEEDED")
        src = Source("csv", "csv", name, size, sha, archive=True, encrypted=ex.encrypted)
        src._items = csv_reader.items_from(tables, limits)
        return src
    if len(texts) == 1:
        p, info, shown = texts[0]
        inner, _ = _open_text_file(p, Path(p).suffix.lower()[1:] or "json", shown, limits)
        inner.name, inner.size, inner.sha256 = name, size, sha
        inner.archive, inner.encrypted = True, ex.encrypted
        return inner
    src_mod = _sources()
    kind = src_mod.detect(tmp) if src_mod else None
    if not kind:
        raise ImportFileError(f"{name}: the archive's content is not in a known format")
    src = Source(kind, "json", name, size, sha, archive=True, encrypted=ex.encrypted)
    src._items = _external_items(kind, tmp, limits)
    return src


@contextlib.contextmanager
def open_source(
    path: str | Path,
    *,
    password: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
    name: str | None = None,
) -> Iterator[Source]:
    """Check `path` and yield a Source; a private temporary folder lives as long as it."""
    path = Path(path)
    name = display_name(name) if name else display_name(path)
    if not path.exists():
        raise ImportFileError(f"{name}: no such file or folder", code=ErrorCode.FILE_NOT_FOUND)
    fmt = extension_format(path)
    if fmt == "folder":
        yield _open_folder(path, name, limits)
        return
    if fmt == "parquet":
        yield open_parquet_file(path, name, limits)
        return
    if fmt == "zip":
        with private_tempdir() as tmp:
            yield _open_zip(path, name, password, limits, tmp)
        return
    src, _ = _open_text_file(path, fmt, name, limits)
    yield src
