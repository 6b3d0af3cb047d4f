"""Readers of the places conversations really live: Claude Code, claude.ai, ChatGPT.

`detect(path)` names the kind of an input from its content; `read(kind, path, report)`
yields canonical conversations (records.py form). Readers write nothing: the import engine
validates, maps, resolves conflicts and stores what they yield.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import ErrorCode, ImportFileError
from ..reading import ReadReport
from . import chatgpt, claude_ai, claude_code
from .detection import detect

KINDS = ("claude_code", "claude_ai", "chatgpt")
_READERS = {"claude_code": claude_code.read, "claude_ai": claude_ai.read, "chatgpt": chatgpt.read}

__all__ = ["KINDS", "detect", "read", "claude_code", "claude_ai", "chatgpt"]


def read(kind: str, path: Path, report: ReadReport) -> Iterator[dict[str, Any]]:
    """Canonical conversations of `path`, read as `kind` (one of KINDS)."""
    reader = _READERS.get(kind)
    if reader is None:
        raise ImportFileError(f"unknown source kind {kind!r}; expected one of {', '.join(KINDS)}",
                              code=ErrorCode.INVALID_ARGUMENT)
    return reader(Path(path), report)
