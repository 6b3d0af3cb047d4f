"""Opening an input: checks, kind detection from content, and the kind's reader.

Detection names the kind ("json": our envelope, "claudelens_json": ClaudeLens's older
`{"conversations": [...]}`, "json_array": a bare list of our conversations, "jsonl", "csv",
"parquet", or an external source's kind from `sources.detect`); the kind is looked up in
`kinds.REGISTRY`, which says whose limits apply and reads it. A zip is checked and
extracted into a private temporary folder, then read as its content; a folder is an
export's tables (with its manifest) or .jsonl files.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

from ..errors import ErrorCode, ImportFileError
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
from . import csv_reader, kinds
from .items import RawItem
from .json_reader import Counting, ijson_backend, json_error
from .kinds import Given, Source

__all__ = ["MANIFEST", "RawItem", "Source", "detect_text", "open_source"]

MANIFEST = "manifest.json"
_CONV_KEYS = {"messages", "msgs", "chat_messages", "turns"}
_PEEK_EVENTS = 20_000


# ---------------------------------------------------------------- detection

def _first_byte(path: Path, info: TextInfo) -> bytes:
    with open_utf8(path, info) as fh:
        head = fh.read(4096)
    return head.lstrip(b" \t\r\n")[:1]


def _top_keys(path: Path, info: TextInfo, container: str) -> tuple[list[str], ImportFileError | None]:
    """Keys of the first top-level object (or of the first array item), and a parse error
    met on the way (a truncated or malformed file)."""
    ij = ijson_backend()
    top = "item" if container == "[" else ""
    keys: list[str] = []
    with open_utf8(path, info) as fh:
        counting = Counting(fh)
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
            return keys, json_error(display_name(path), exc, counting.count)
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


# ---------------------------------------------------------------- opening

def _open_text_file(path: Path, fmt: str, name: str, limits: Limits) -> tuple[Source, TextInfo]:
    size = check_size(path, fmt, limits)
    check_magic(path, fmt, name)
    info = inspect_text(path, name)
    kind = kinds.get(detect_text(path, info, name))
    if kind.family == "csv" and size > limits.csv_bytes:
        raise ImportFileError(
            f"{name}: {size / 1048576:.1f} MB is over the {limits.csv_bytes / 1048576:.0f} MB "
            "limit for CSV files", code="QUOTA_EXCEEDED")
    if kind.ours and kind.family == "json":  # our JSON nesting is checked before streaming
        with open_utf8(path, info) as fh:
            check_json_structure(fh, limits, name)
    return kind.source(Given(path, limits, [(path, info, name)]), name, size, info.sha256), info


def _open_parquet_file(path: Path, name: str, limits: Limits) -> Source:
    """A single Parquet table (an export that asked for one table)."""
    size = check_size(path, "json", limits)
    given = Given(path, limits, parquet=[(path, name)])
    return kinds.get("parquet").source(given, name, size, sha256_file(path))


def _walk_jsonl(folder: Path) -> list[Path]:
    found = []
    for root, dirs, files in os.walk(folder, followlinks=False):
        dirs.sort()
        for f in sorted(files):
            p = Path(root, f)
            if f.lower().endswith(".jsonl") and not p.is_symlink():
                found.append(p)
    return found


def _open_export_folder(path: Path, name: str, limits: Limits) -> Source | None:
    """A folder a CSV or Parquet export wrote (tables + manifest.json), or None if it is not one."""
    if not (path / MANIFEST).is_file():
        return None
    present = {p.name: p for p in path.iterdir() if p.is_file() and not p.is_symlink()}
    _verify_manifest(name, present)
    parquet = sorted(n for n in present if n.lower().endswith(".parquet"))
    csvs = sorted(n for n in present if n.lower().endswith(".csv"))
    digest = sha256_file(present[MANIFEST])
    total = 0
    if parquet:
        for n in parquet:
            total += check_size(present[n], "json", limits)
        given = Given(path, limits, parquet=[(present[n], f"{name}/{n}") for n in parquet])
        return kinds.get("parquet").source(given, name, total, digest)
    if csvs:
        checked = []
        for n in csvs:
            shown = f"{name}/{n}"
            total += check_size(present[n], "csv", limits)
            check_magic(present[n], "csv", shown)
            checked.append((present[n], inspect_text(present[n], shown), shown))
        if total > limits.csv_bytes:
            raise ImportFileError(f"{name}: CSV tables of {total / 1048576:.1f} MB are over the "
                                  f"{limits.csv_bytes / 1048576:.0f} MB limit", code=ErrorCode.QUOTA_EXCEEDED)
        return kinds.get("csv").source(Given(path, limits, checked), name, total, digest)
    raise ImportFileError(f"{name}: the export folder holds no tables")


def _open_folder(path: Path, name: str, limits: Limits) -> Source:
    exported = _open_export_folder(path, name, limits)  # a CSV/Parquet export's folder
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
        return kinds.get(kind).source(Given(path, limits), name, total, h.hexdigest())
    first, info, rel = checked[0]
    if detect_text(first, info, rel) != "jsonl":
        raise ImportFileError(f"{name}: the folder's .jsonl files are not in a known format")
    return kinds.get("jsonl").source(Given(path, limits, checked), name, total, h.hexdigest())


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
        return kinds.get("parquet").source(Given(tmp, limits, parquet=parquet), name, size, sha,
                                           archive=True, encrypted=ex.encrypted)
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
        return kinds.get("csv").source(Given(tmp, limits, tables), name, size, sha, archive=True,
                                       encrypted=ex.encrypted)
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
    return kinds.get(kind).source(Given(tmp, limits), name, size, sha, archive=True,
                                  encrypted=ex.encrypted)


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
        yield _open_parquet_file(path, name, limits)
        return
    if fmt == "zip":
        with private_tempdir() as tmp:
            yield _open_zip(path, name, password, limits, tmp)
        return
    src, _ = _open_text_file(path, fmt, name, limits)
    yield src
