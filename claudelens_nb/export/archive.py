"""Zip archives with a `manifest.json`, optionally AES-256 encrypted (pyzipper).

Members are streamed in blocks; each one's size and sha256 are computed on the way in and
listed in the manifest, which is written last.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyzipper

MANIFEST = "manifest.json"
_BLOCK = 1 << 20
# Already-compressed members are stored; text is deflated at a fast level.
_STORED_SUFFIXES = {".parquet", ".zip", ".pdf", ".gz"}
DEFLATE_LEVEL = 3


def _zip(path: Path, password: str | None) -> zipfile.ZipFile:
    if password:
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
    module = pyzipper if password else zipfile
    listed: list[dict[str, Any]] = []
    with _zip(dest, password) as zf:
        for source, name in members:
            h = hashlib.sha256()
            size = 0
            with open(source, "rb") as src, zf.open(_info(name, module, zf), "w", force_zip64=True) as out:
                while block := src.read(_BLOCK):
                    if tick is not None:
                        tick()
                    h.update(block)
                    size += len(block)
                    out.write(block)
            listed.append({"name": name, "size": size, "sha256": h.hexdigest()})
        manifest = {**manifest, "files": listed}
        blob = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=False).encode("utf-8")
        zf.writestr(_info(MANIFEST, module, zf), blob)
    return listed


def read_manifest(path: Path, password: str | None = None) -> dict[str, Any]:
    """The manifest of an archive we wrote (for tests and importers)."""
    with pyzipper.AESZipFile(path) as zf:
        if password:
            zf.setpassword(password.encode("utf-8"))
        return json.loads(zf.read(MANIFEST))
