"""Our JSON family read as raw conversations: a JSON document's conversations streamed with
ijson (our envelope, ClaudeLens's older JSON, a bare array) and JSONL, one per line.

Also the ijson helpers detection peeks with: the backend, a byte-counting reader, and the
message a parse error becomes (with its byte offset).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..errors import ImportFileError
from ..reading import ReadReport
from ..security import TextInfo, open_utf8
from .items import Items, RawItem

Text = tuple[Path, TextInfo, str]  # a checked text file: its path, encoding, name in messages


def ijson_backend() -> Any:
    """ijson's C backend (yajl2_c), or its default one."""
    try:
        import ijson.backends.yajl2_c as backend
    except ImportError:  # pragma: no cover - the C backend ships in ijson's wheels
        import ijson as backend
    return backend


class Counting:
    """A binary reader that counts the bytes handed out (for error offsets)."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw
        self.count = 0

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        self.count += len(data)
        return data


def json_error(name: str, exc: Exception, offset: int) -> ImportFileError:
    """The error a parse failure of `name` at byte `offset` is reported as."""
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


def document_items(files: list[Text], prefix: str,
                   adapt: Callable[[Any], Any] | None = None) -> Items:
    """Reader of the values at ijson `prefix` in each file (each passed through `adapt`)."""
    def items(report: ReadReport) -> Iterator[RawItem]:
        ij = ijson_backend()
        for path, info, name in files:
            with open_utf8(path, info) as fh:
                counting = Counting(fh)
                try:
                    for conv in ij.items(counting, prefix, use_float=True):
                        yield RawItem(adapt(conv) if adapt else conv, None, name)
                except ImportFileError:
                    raise
                except Exception as exc:  # ijson's errors carry yajl's message
                    if type(exc).__module__.startswith("ijson") or isinstance(exc, ValueError):
                        raise json_error(name, exc, counting.count) from None
                    raise
    return items


def lines_items(files: list[Text]) -> Items:
    """Reader of JSONL files in turn: one conversation a line (a `_meta` line skipped, a
    malformed line reported and passed over)."""
    def items(report: ReadReport) -> Iterator[RawItem]:
        for path, info, name in files:
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
