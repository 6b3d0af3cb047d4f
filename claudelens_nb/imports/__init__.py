"""Import: validation, field mapping, conflicts (skip / replace / merge), undo, hostile files.

Public API (docs: /shared/design/FORMATS.md, Import):
`validate_file`, `import_file`, `undo_import`, `import_history`, `TARGET_FIELDS`.
"""

from __future__ import annotations

from .engine import import_file, job_progress, validate_file
from .jobs import import_history
from .mapping import TARGET_FIELDS
from .model import Conflict, FieldMapping, ImportResult, ValidationReport
from .undo import undo_import

__all__ = [
    "TARGET_FIELDS",
    "Conflict",
    "FieldMapping",
    "ImportResult",
    "ValidationReport",
    "import_file",
    "import_history",
    "job_progress",
    "undo_import",
    "validate_file",
]
