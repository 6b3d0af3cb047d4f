"""Zip archives with a `manifest.json`, optionally AES-256 encrypted (pyzipper).

Members are streamed in blocks; each one's size and sha256 are computed on the way in and
listed in the manifest, which is written last.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import queue
import threading
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

MANIFEST = "manifest.json"
_BLOCK = 1 << 20
# Already-compressed members are stored; text is deflated at a fast level.
_STORED_SUFFIXES = {".parquet", ".zip", ".pdf", ".gz"}
DEFLATE_LEVEL = 3
_QUEUE_BLOCKS = 8  # writes (about 2 MB each) waiting for the archive thread


def _aes() -> Any:
    """pyzipper, imported when a password asks for it (it loads a crypto library)."""
    import pyzipper

    return pyzipper


def _zip(path: Path, password: str | None) -> zipfile.ZipFile:
    if password:
        pyzipper = _aes()
        zf = pyzipper.AESZipFile(path, "w", compression=pyzipper.ZIP_DEFLATED,
                                 encryption=pyzipper.WZ_AES)
        zf.setpassword(password.encode("utf-8"))
        zf.setencryption(pyzipper.WZ_AES, nbits=256)
        return zf
    return zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED)


def _info(name: str, module: Any, zf: Any) -> Any:
    info = getattr(zf, "zipinfo_cls", module.ZipInfo)(name, date_time=(1980, 1, 1, 0, 0, 0))
    stored = Path(name).suffix.lower() in _STORED_SUFFIXES
    info.compress_type = module.ZIP_STORED if stored else module.ZIP_DEFLATED
    info._compresslevel = None if stored else DEFLATE_LEVEL
    info.external_attr = 0o600 << 16
    return info


class ArchiveWriter:
    """A zip being written one member at a time, each member's size and sha256 kept for
    the manifest, which `finish` writes last."""

    def __init__(self, dest: Path, password: str | None = None) -> None:
        self._module = _aes() if password else zipfile
        self._zf = _zip(dest, password)
        self._out: Any = None
        self._name = ""
        self._hash = hashlib.sha256()
        self._size = 0
        self.listed: list[dict[str, Any]] = []

    def begin(self, name: str) -> None:
        self._out = self._zf.open(_info(name, self._module, self._zf), "w", force_zip64=True)
        self._name, self._hash, self._size = name, hashlib.sha256(), 0

    def write(self, data: bytes) -> None:
        self._hash.update(data)
        self._size += len(data)
        self._out.write(data)

    def end(self) -> None:
        self._out.close()
        self._out = None
        self.listed.append({"name": self._name, "size": self._size, "sha256": self._hash.hexdigest()})

    def finish(self, manifest: dict[str, Any]) -> list[dict[str, Any]]:
        """Write the manifest (with its `files` list) and close the zip."""
        manifest = {**manifest, "files": self.listed}
        blob = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=False).encode("utf-8")
        self._zf.writestr(_info(MANIFEST, self._module, self._zf), blob)
        self._zf.close()
        return self.listed

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            if self._out is not None:
                self._out.close()
            self._zf.close()


class BackgroundArchive:
    """An `ArchiveWriter` fed while the export streams: the bytes of one member are
    deflated, hashed and written on a thread of their own (zlib and hashlib let go of the
    GIL), so compressing overlaps encoding instead of following it."""

    def __init__(self, dest: Path, name: str, password: str | None = None) -> None:
        self.dest = dest
        self._writer = ArchiveWriter(dest, password)
        self._writer.begin(name)
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=_QUEUE_BLOCKS)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="export-archive", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (data := self._queue.get()) is not None:
            if self._error is None:
                try:
                    self._writer.write(data)
                except BaseException as exc:  # noqa: BLE001 - raised in the export's thread
                    self._error = exc

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error

    def write(self, data: bytes) -> None:
        self._raise()
        self._queue.put(data)

    def finish(self, manifest: dict[str, Any]) -> list[dict[str, Any]]:
        self._queue.put(None)
        self._thread.join()
        self._raise()
        self._writer.end()
        return self._writer.finish(manifest)

    def abort(self) -> None:
        """Stop and remove the zip (the export failed, or will not be zipped)."""
        self._error = self._error or RuntimeError("aborted")
        self._queue.put(None)
        self._thread.join()
        self._writer.abort()
        with contextlib.suppress(OSError):
            self.dest.unlink()


def write_archive(
    dest: Path,
    members: list[tuple[Path, str]],
    manifest: dict[str, Any],
    *,
    password: str | None = None,
    tick: Callable[[], None] | None = None,
) -> list[dict[str, Any]]:
    """Write `members` ((source file, name in the zip)) and a manifest into `dest`.

    `manifest` gets a `files` list (name, size, sha256); `tick` is called between blocks
    (cancel checks). Returns the files list.
    """
    writer = ArchiveWriter(dest, password)
    try:
        for source, name in members:
            writer.begin(name)
            with open(source, "rb") as src:
                while block := src.read(_BLOCK):
                    if tick is not None:
                        tick()
                    writer.write(block)
            writer.end()
        return writer.finish(manifest)
    except BaseException:
        writer.abort()
        raise


def write_folder_manifest(folder: Path, members: list[tuple[Path, str]],
                          manifest: dict[str, Any]) -> Path:
    """`manifest.json` beside the tables of a folder export: each member's name, size, sha256
    (the same manifest a zip carries). Returns its path."""
    from ..security import sha256_file

    listed = [{"name": name, "size": src.stat().st_size, "sha256": sha256_file(src)}
              for src, name in members]
    path = folder / MANIFEST
    blob = json.dumps({**manifest, "files": listed}, ensure_ascii=False, indent=2).encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(blob)
    return path


def read_manifest(path: Path, password: str | None = None) -> dict[str, Any]:
    """The manifest of an archive we wrote (for tests and importers)."""
    with _aes().AESZipFile(path) as zf:
        if password:
            zf.setpassword(password.encode("utf-8"))
        return json.loads(zf.read(MANIFEST))
