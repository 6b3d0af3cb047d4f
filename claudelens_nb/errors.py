"""Errors users see. Each carries an `ErrorCode`, set where it is raised.

The codes of the format specification (docs/formats.md: EXPORT_TOO_LARGE, INVALID_FILTERS, EXPORT_TIMEOUT,
INSUFFICIENT_PERMISSIONS, INVALID_FORMAT, VALIDATION_FAILED, DUPLICATE_IDS, QUOTA_EXCEEDED)
plus the ones a person needs to tell apart what went wrong (a missing file, an unknown job,
a wrong password...). `ErrorCode` is a `StrEnum`: a code equals its text
(`exc.code == "WRONG_PASSWORD"`) and prints as it.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    ERROR = "ERROR"
    # the database
    DATABASE_UNAVAILABLE = "DATABASE_UNAVAILABLE"
    # what the caller asked for
    INVALID_FILTERS = "INVALID_FILTERS"
    INVALID_OPTIONS = "INVALID_OPTIONS"
    UNKNOWN_FORMAT = "UNKNOWN_FORMAT"
    INVALID_ARGUMENT = "INVALID_ARGUMENT"
    INVALID_MAPPING = "INVALID_MAPPING"
    # jobs (exports and imports)
    UNKNOWN_JOB = "UNKNOWN_JOB"
    AMBIGUOUS_JOB_ID = "AMBIGUOUS_JOB_ID"
    JOB_RUNNING = "JOB_RUNNING"
    ALREADY_UNDONE = "ALREADY_UNDONE"
    NOTHING_TO_UNDO = "NOTHING_TO_UNDO"
    UNKNOWN_OWNER = "UNKNOWN_OWNER"
    # exports
    EXPORT_FAILED = "EXPORT_FAILED"
    EXPORT_TOO_LARGE = "EXPORT_TOO_LARGE"
    EXPORT_TIMEOUT = "EXPORT_TIMEOUT"
    EXPORT_EXPIRED = "EXPORT_EXPIRED"
    EXPORT_NOT_AVAILABLE = "EXPORT_NOT_AVAILABLE"
    INSUFFICIENT_PERMISSIONS = "INSUFFICIENT_PERMISSIONS"
    # files given to read (import, validate, password and id files)
    FILE_NOT_FOUND = "FILE_NOT_FOUND"
    FILE_UNREADABLE = "FILE_UNREADABLE"
    EMPTY_FILE = "EMPTY_FILE"
    UNSUPPORTED_FILE_TYPE = "UNSUPPORTED_FILE_TYPE"
    INVALID_FORMAT = "INVALID_FORMAT"
    INVALID_ENCODING = "INVALID_ENCODING"
    DAMAGED_FILE = "DAMAGED_FILE"
    UNSAFE_ARCHIVE = "UNSAFE_ARCHIVE"
    PASSWORD_REQUIRED = "PASSWORD_REQUIRED"
    WRONG_PASSWORD = "WRONG_PASSWORD"
    QUOTA_EXCEEDED = "QUOTA_EXCEEDED"
    # what the file holds
    VALIDATION_FAILED = "VALIDATION_FAILED"
    DUPLICATE_IDS = "DUPLICATE_IDS"
    CANCELLED = "CANCELLED"


def _as_code(code: ErrorCode | str) -> ErrorCode | str:
    try:
        return ErrorCode(code)
    except ValueError:
        return code


class ClaudeLensError(Exception):
    """Base for every error this package raises on purpose."""

    code: ErrorCode | str = ErrorCode.ERROR

    def __init__(self, message: str, *, code: ErrorCode | str | None = None) -> None:
        super().__init__(message)
        if code:
            self.code = _as_code(code)


class DatabaseUnavailable(ClaudeLensError):
    code = ErrorCode.DATABASE_UNAVAILABLE


class InvalidFilter(ClaudeLensError, ValueError):
    code = ErrorCode.INVALID_FILTERS


class ExportError(ClaudeLensError):
    code = ErrorCode.EXPORT_FAILED


class ImportFileError(ClaudeLensError, ValueError):
    """A file that cannot be imported: wrong format, hostile, too large."""

    code = ErrorCode.INVALID_FORMAT


class ValidationFailed(ClaudeLensError, ValueError):
    code = ErrorCode.VALIDATION_FAILED


class Cancelled(ClaudeLensError):
    code = ErrorCode.CANCELLED
