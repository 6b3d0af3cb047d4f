"""Where export files go: generated names, private files, and the folder boundary."""

from __future__ import annotations

import contextlib
import os
from datetime import datetime
from pathlib import Path

from ..config import settings
from ..errors import ExportError


def export_dir() -> Path:
    folder = settings().export_dir
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise ExportError(f"cannot create the export folder {folder}: {exc.strerror}",
                          code="INSUFFICIENT_PERMISSIONS") from None
    return folder


def generated_name(created: datetime, job_id: str, ext: str) -> str:
    return f"claudelens-export-{created.strftime('%Y%m%dT%H%M%SZ')}-{job_id[:8]}.{ext}"


def create_private(path: Path) -> None:
    """Create (or truncate) `path` as an empty file readable by its owner only, before any content."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {exc.strerror}",
                          code="INSUFFICIENT_PERMISSIONS") from None
    try:
        os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


def remove_quietly(*paths: Path | None) -> None:
    for p in paths:
        if p is not None:
            with contextlib.suppress(OSError):
                p.unlink()




def inside(path: Path, folder: Path) -> bool:
    """True when `path` (links resolved) lies inside `folder`."""
    try:
        path.resolve().relative_to(folder.resolve())
    except (ValueError, OSError):
        return False
    return True
