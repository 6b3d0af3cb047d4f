"""Streaming the conversation objects of a chat export (`conversations.json`, its zip or folder)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

import ijson

from ..errors import ImportFileError
from ..reading import ReadReport
from ..security import DEFAULT_LIMITS, Limits
from . import archive
from .detection import first_char, stream_kind


def _objects(entry: archive.Entry, report: ReadReport) -> Iterator[tuple[int, Any]]:
    with entry.open() as fh:
        first = first_char(fh)
    prefix = "item" if first == b"[" else ""
    if first not in (b"[", b"{"):
        report.error("not a JSON array of conversations", file=entry.name)
        return
    with entry.open() as fh:
        n = 0
        try:
            for obj in ijson.items(fh, prefix, use_float=True):
                n += 1
                yield n, obj
        except ImportFileError:
            raise  # the zip defence's refusal (a ValueError too), not bad JSON
        except (ijson.JSONError, ValueError) as exc:
            report.error(f"invalid JSON after conversation {n}: {exc}", file=entry.name)


def conversations(path: Path, kind: str, report: ReadReport, *,
                  limits: Limits = DEFAULT_LIMITS) -> Iterator[tuple[str, int, Any]]:
    """(file name, position, conversation object) for each conversation of the input.

    In a folder or zip, `conversations.json` files are read; failing that, any `.json` whose
    content is of `kind`. A zip is read in place under `limits` (security.open_zip).
    """
    report.kind = kind

    def want(name: str) -> bool:
        return name.lower().endswith(".json")

    with archive.listing(Path(path), want, limits=limits) as files:
        chosen = [e for e in files if PurePosixPath(e.name).name == "conversations.json"]
        if not chosen and len(files) > 1:
            chosen = [e for e in files if stream_kind(e.open) == kind]
        elif not chosen:
            chosen = files
        for entry in chosen:
            report.files += 1
            for n, obj in _objects(entry, report):
                report.lines += 1
                if not isinstance(obj, dict):
                    report.warning(f"conversation {n} is a {type(obj).__name__}, not an object; skipped",
                                 file=entry.name, record=str(n))
                    continue
                yield entry.name, n, obj

