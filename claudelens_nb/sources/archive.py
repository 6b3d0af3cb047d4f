"""The files inside an input: a folder, a single file, or a zip read in place (never extracted).

A zip is opened through the import's one zip defence (`security.open_zip`, docs/security.md):
its listing is checked first (members, names, links, nested archives, declared sizes,
encryption) and every member is read under the same `Limits`, so a hostile zip given here is
refused with the same error and code as when `import_file` extracts it.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path, PurePosixPath
from typing import IO

from ..errors import ErrorCode, ImportFileError
from ..security import DEFAULT_LIMITS, Limits, display_name, open_zip


@dataclass(frozen=True)
class Entry:
    """One file of an input: its name relative to the input, and how to open it (binary)."""

    name: str
    size: int
    open: Callable[[], IO[bytes]]

    @property
    def path(self) -> PurePosixPath:
        return PurePosixPath(self.name)


def _opener(path: Path) -> Callable[[], IO[bytes]]:
    def open_file() -> IO[bytes]:
        return path.open("rb")
    return open_file


def is_zip(path: Path) -> bool:
    return path.is_file() and zipfile.is_zipfile(path)


@contextmanager
def listing(
    path: Path, want: Callable[[str], bool], *, limits: Limits = DEFAULT_LIMITS
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
                found.append(Entry(rel, p.stat().st_size, _opener(p)))
        yield found
    elif is_zip(path):
        with open_zip(path, limits=limits, name=display_name(path)) as guard:
            infos = sorted(guard.infos, key=lambda i: i.filename)
            yield [Entry(i.filename, i.file_size, partial(guard.open, i))
                   for i in infos if not i.is_dir() and want(i.filename)]
    else:
        yield [Entry(path.name, path.stat().st_size, _opener(path))]
