"""Import: validation, field mapping, conflicts (skip / replace / merge), undo, hostile files.

Public API (what is read and how: docs/formats.md, Import; the checks: docs/security.md):
`validate_file`, `import_file`, `undo_import`, `import_history`, `TARGET_FIELDS`;
`sync_claude_code` and `watch_claude_code` (incremental, checkpointed Claude Code import).
"""

from __future__ import annotations

from .engine import import_file, job_progress, validate_file
from .jobs import import_history
from .mapping import TARGET_FIELDS
from .model import Conflict, FieldMapping, ImportResult, ValidationReport
from .sync import SyncResult, sync_claude_code
from .undo import undo_import
from .watch import watch_claude_code

__all__ = [
    "TARGET_FIELDS",
    "Conflict",
    "FieldMapping",
    "ImportResult",
    "SyncResult",
    "ValidationReport",
    "import_file",
    "import_history",
    "job_progress",
    "sync_claude_code",
    "undo_import",
    "validate_file",
    "watch_claude_code",
]
