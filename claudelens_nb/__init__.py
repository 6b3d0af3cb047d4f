"""claudelens_nb: move ClaudeLens conversations in and out of MongoDB.

The public API is short; each name is imported on first use so `import claudelens_nb`
stays quick.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_API = {
    "connect": "claudelens_nb.store.connection",
    "Filter": "claudelens_nb.filters",
    "load_sessions": "claudelens_nb.query",
    "load_messages": "claudelens_nb.query",
    "iter_chunks": "claudelens_nb.query",
    "iter_conversations": "claudelens_nb.exports.read",
    "seed_demo": "claudelens_nb.demo",
    "CancelToken": "claudelens_nb.progress",
    "Progress": "claudelens_nb.progress",
    "export": "claudelens_nb.exports",
    "preview": "claudelens_nb.exports",
    "ExportOptions": "claudelens_nb.exports",
    "ExportResult": "claudelens_nb.exports",
    "Preview": "claudelens_nb.exports",
    "history": "claudelens_nb.exports",
    "delete_export": "claudelens_nb.exports",
    "cleanup_exports": "claudelens_nb.exports",
    "validate_file": "claudelens_nb.imports",
    "import_file": "claudelens_nb.imports",
    "undo_import": "claudelens_nb.imports",
    "import_history": "claudelens_nb.imports",
    "ImportResult": "claudelens_nb.imports",
    "ValidationReport": "claudelens_nb.imports",
    "ClaudeLensError": "claudelens_nb.errors",
    "ErrorCode": "claudelens_nb.errors",
    "ExportError": "claudelens_nb.errors",
    "ImportFileError": "claudelens_nb.errors",
    "ValidationFailed": "claudelens_nb.errors",
    "Cancelled": "claudelens_nb.errors",
    "DatabaseUnavailable": "claudelens_nb.errors",
    "sync_claude_code": "claudelens_nb.imports",
    "watch_claude_code": "claudelens_nb.imports",
}

__all__ = sorted(_API) + ["__version__"]


def __getattr__(name: str) -> Any:
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'claudelens_nb' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
