"""Where export files go: generated names, private files, and the folder boundary."""

from __future__ import annotations

import contextlib
import os
import shutil
from datetime import datetime
from pathlib import Path

from ..config import settings
from ..errors import ErrorCode, ExportError


def export_dir() -> Path:
    folder = settings().export_dir
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise ExportError(f"cannot create the export folder {folder}: {exc.strerror}",
                          code=ErrorCode.INSUFFICIENT_PERMISSIONS) from None
    return folder


def generated_name(created: datetime, job_id: str, ext: str) -> str:
    return f"claudelens-export-{created.strftime('%Y%m%dT%H%M%SZ')}-{job_id[:8]}.{ext}"


def create_private(path: Path) -> None:
    """Create (or truncate) `path` as an empty file readable by its owner only, before any content."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {exc.strerror}",
                          code=ErrorCode.INSUFFICIENT_PERMISSIONS) from None
    try:
        os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


def remove_quietly(*paths: Path | None) -> None:
    """Remove files, or whole folders (a folder export), ignoring what is already gone."""
    for p in paths:
        if p is None:
            continue
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                p.unlink()


# A name ending so holds one table; a folder of that name holds both (and a manifest).
TABLE_SUFFIXES = {"csv": ".csv", "parquet": ".parquet"}


def is_export_folder(path: Path) -> bool:
    """A folder an earlier CSV/Parquet export wrote (it has our manifest.json at the top)."""
    return path.is_dir() and (path / "manifest.json").is_file()


def layout(path: Path, fmt: str, both_tables: bool, *, compress: bool, encrypt: bool) -> str:
    """How an export named `path` is written: "zip", "folder" or "file".

    A zip only under a name ending in .zip (compress/encrypt add the suffix); CSV or Parquet
    with both tables under any other name is a folder of that name (Spark's convention:
    `x.parquet/` holds conversations.parquet, messages.parquet and manifest.json); everything
    else is the one file it says it is.
    """
    if path.name.lower().endswith(".zip") or compress or encrypt:
        return "zip"
    if fmt in TABLE_SUFFIXES and both_tables:
        return "folder"
    return "file"




def inside(path: Path, folder: Path) -> bool:
    """True when `path` (links resolved) lies inside `folder`."""
    try:
        path.resolve().relative_to(folder.resolve())
    except (ValueError, OSError):
        return False
    return True
