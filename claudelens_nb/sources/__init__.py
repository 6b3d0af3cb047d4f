"""Readers of the places conversations really live: Claude Code, claude.ai, ChatGPT.

`detect(path)` names the kind of an input from its content; `read(kind, path, report,
limits=...)` yields canonical conversations (records.py form). Readers write nothing: the
import engine validates, maps, resolves conflicts and stores what they yield. A zip is read
in place through the import's own zip defence (security.open_zip) under `limits`, the
`security.Limits` that `import_file` / `validate_file` were given.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..errors import ErrorCode, ImportFileError
from ..reading import ReadReport
from ..security import DEFAULT_LIMITS, Limits
from . import chatgpt, claude_ai, claude_code
from .detection import detect

KINDS = ("claude_code", "claude_ai", "chatgpt")
_READERS: dict[str, Callable[..., Iterator[dict[str, Any]]]] = {
    "claude_code": claude_code.read, "claude_ai": claude_ai.read, "chatgpt": chatgpt.read,
}

__all__ = ["KINDS", "detect", "read", "claude_code", "claude_ai", "chatgpt"]


def read(kind: str, path: Path, report: ReadReport, *,
         limits: Limits = DEFAULT_LIMITS) -> Iterator[dict[str, Any]]:
    """Canonical conversations of `path`, read as `kind` (one of KINDS), under `limits`."""
    reader = _READERS.get(kind)
    if reader is None:
        raise ImportFileError(f"unknown source kind {kind!r}; expected one of {', '.join(KINDS)}",
                              code=ErrorCode.INVALID_ARGUMENT)
    return reader(Path(path), report, limits=limits)
