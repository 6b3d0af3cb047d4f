"""Errors users see. Each carries a code from FORMATS.md where one applies."""

from __future__ import annotations


class ClaudeLensError(Exception):
    """Base for every error this package raises on purpose."""

    code = "ERROR"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code:
            self.code = code


class DatabaseUnavailable(ClaudeLensError):
    code = "DATABASE_UNAVAILABLE"


class InvalidFilter(ClaudeLensError, ValueError):
    code = "INVALID_FILTERS"


class ExportError(ClaudeLensError):
    code = "EXPORT_FAILED"


class ImportFileError(ClaudeLensError, ValueError):
    """A file that cannot be imported: wrong format, hostile, too large."""

    code = "INVALID_FORMAT"


class ValidationFailed(ClaudeLensError, ValueError):
    code = "VALIDATION_FAILED"


class Cancelled(ClaudeLensError):
    code = "CANCELLED"
