"""The files inside an input: a folder, a single file, or a zip read in place (never extracted)."""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from ..errors import ErrorCode, ImportFileError
from ..reading import ReadReport

MAX_MEMBER_BYTES = 4 * 1024**3
MAX_MEMBERS = 200_000
# Compression ratio past which a big member is taken for a zip bomb.
MAX_RATIO = 200
RATIO_FLOOR_BYTES = 64 * 1024**2


@dataclass(frozen=True)
class Entry:
    """One file of an input: its name relative to the input, and how to open it (binary)."""

    name: str
    size: int
    open: Callable[[], IO[bytes]]

    @property
    def path(self) -> PurePosixPath:
        return PurePosixPath(self.name)


def is_zip(path: Path) -> bool:
    return path.is_file() and zipfile.is_zipfile(path)


def unsafe_member(name: str) -> str | None:
    """Why a member name is refused (absolute, drive, `..`), or None when it is safe."""
    norm = name.replace("\\", "/")
    if norm.startswith("/") or (len(norm) > 1 and norm[1] == ":"):
        return "absolute path"
    if ".." in PurePosixPath(norm).parts:
        return "'..' in path"
    return None


def member_problem(info: zipfile.ZipInfo) -> str | None:
    """Why a zip member is refused, or None."""
    reason = unsafe_member(info.filename)
    if reason:
        return reason
    if info.flag_bits & 0x1:
        return "encrypted member"
    if info.file_size > MAX_MEMBER_BYTES:
        return f"member too large ({info.file_size} bytes)"
    if info.file_size > RATIO_FLOOR_BYTES and info.file_size > MAX_RATIO * max(info.compress_size, 1):
        return "suspicious compression ratio"
    return None


def _zip_entries(
    zf: zipfile.ZipFile, label: str, want: Callable[[str], bool], report: ReadReport | None
) -> list[Entry]:
    infos = zf.infolist()
    if len(infos) > MAX_MEMBERS:
        raise ImportFileError(f"{label}: too many members ({len(infos)})", code=ErrorCode.UNSAFE_ARCHIVE)
    out = []
    for info in sorted(infos, key=lambda i: i.filename):
        if info.is_dir() or not want(info.filename):
            continue
        problem = member_problem(info)
        if problem:
            if report is not None:
                report.error(f"zip member refused: {problem}", file=info.filename)
            continue
        out.append(Entry(info.filename, info.file_size, lambda info=info: zf.open(info)))
    return out


@contextmanager
def listing(
    path: Path, want: Callable[[str], bool], report: ReadReport | None = None
) -> Iterator[list[Entry]]:
    """The files of `path` whose relative name `want` accepts, in name order.

    Openers stay valid inside the `with` block (a zip is kept open until it ends).
    """
    path = Path(path)
    if not path.exists():
        raise ImportFileError(f"{path}: no such file or folder", code=ErrorCode.FILE_NOT_FOUND)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and not p.is_symlink())
        found = []
        for p in files:
            rel = p.relative_to(path).as_posix()
            if want(rel):
                found.append(Entry(rel, p.stat().st_size, lambda p=p: p.open("rb")))
        yield found
    elif is_zip(path):
        try:
            zf = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as exc:
            raise ImportFileError(f"{path.name}: not a readable zip archive ({exc})") from exc
        with zf:
            yield _zip_entries(zf, path.name, want, report)
    else:
        yield [Entry(path.name, path.stat().st_size, lambda: path.open("rb"))]
