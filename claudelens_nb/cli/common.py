"""Helpers shared by the CLI verbs."""

from __future__ import annotations

import argparse
from pathlib import Path

from pymongo.database import Database

from ..errors import ErrorCode, ValidationFailed
from ..progress import human_size as human_size  # the verbs' import


def database(args: argparse.Namespace) -> Database:
    from ..store import connect

    return connect(getattr(args, "uri", None))


def password(args: argparse.Namespace) -> str | None:
    """--password-file's first line (without its line ending), else --password, else None.

    One reading for export and import, so a file written for one opens the other's zip.
    """
    path = getattr(args, "password_file", None)
    if not path:
        return getattr(args, "password", None)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        code = ErrorCode.FILE_NOT_FOUND if isinstance(exc, FileNotFoundError) else ErrorCode.FILE_UNREADABLE
        raise ValidationFailed(f"cannot read the password file {path}: "
                               f"{getattr(exc, 'strerror', None) or exc}", code=code) from None
    first = text.splitlines()[0] if text else ""
    if not first:
        raise ValidationFailed(f"the password file {path} is empty (the password is its first line)",
                               code=ErrorCode.EMPTY_FILE)
    return first
