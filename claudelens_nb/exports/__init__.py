"""Exporting conversations: six formats, streamed, archived, sanitised, with a job history.

The public API (the README's Exporting; the file layouts in docs/formats.md): `export`, `preview`, `ExportOptions`, `ExportResult`,
`Preview`, `history`, `delete_export`, `export_file_path`, `cleanup_exports`.
"""

from .engine import ExportResult, export
from .jobs import cleanup_exports, delete_export, export_file_path, history
from .options import FORMATS, ExportOptions
from .preview import Preview, preview

__all__ = [
    "FORMATS",
    "ExportOptions",
    "ExportResult",
    "Preview",
    "cleanup_exports",
    "delete_export",
    "export",
    "export_file_path",
    "history",
    "preview",
]
