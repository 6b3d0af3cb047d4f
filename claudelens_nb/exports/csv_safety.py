"""Spreadsheet formula-injection neutralising for CSV cells (OWASP "CSV Injection").

A cell starting with `=`, `+`, `-`, `@`, tab or carriage return gets a leading apostrophe.
`unneutralise` undoes exactly that, so an importer restores the original text: a cell
that already started with an apostrophe followed by a trigger gets one more apostrophe on
export, which the importer removes again.
"""

from __future__ import annotations

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
MARK = "'"


def _needs_mark(text: str) -> bool:
    body = text.lstrip(MARK)
    return bool(body) and body[0] in TRIGGERS


def neutralise(value: str) -> str:
    """The cell text as written: a leading apostrophe when it could start a formula."""
    if value and (value[0] in TRIGGERS or (value[0] == MARK and _needs_mark(value))):
        return MARK + value
    return value


def unneutralise(value: str) -> str:
    """Invert `neutralise` (an importer's view of a cell we wrote)."""
    if value.startswith(MARK) and _needs_mark(value):
        return value[1:]
    return value
