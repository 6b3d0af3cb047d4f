"""What a reader of an input file reports besides the conversations it yields."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TypedDict, Unpack


@dataclass(frozen=True)
class Problem:
    """One thing wrong in the input, located as precisely as the reader can."""

    message: str
    file: str | None = None
    line: int | None = None
    record: str | None = None
    field: str | None = None
    severity: str = "error"  # "error" or "warning"
    code: str | None = None  # an errors.ErrorCode when the problem has one (DUPLICATE_IDS)

    def __str__(self) -> str:
        where = ":".join(str(p) for p in (self.file, self.line) if p is not None)
        what = ", ".join(f"{k} {v}" for k, v in (("record", self.record), ("field", self.field)) if v)
        prefix = " ".join(p for p in (where, f"({what})" if what else "") if p)
        return f"{prefix}: {self.message}" if prefix else self.message


class Where(TypedDict, total=False):
    """Where a problem is: Problem's location fields, given by keyword to ReadReport."""

    file: str | None
    line: int | None
    record: str | None
    field: str | None
    code: str | None


@dataclass
class ReadReport:
    """Filled in by a reader while it yields canonical conversations."""

    kind: str = "unknown"
    problems: list[Problem] = field(default_factory=list)
    skipped: Counter = field(default_factory=Counter)  # line/record kinds skipped on purpose
    used: Counter = field(default_factory=Counter)  # bookkeeping kinds that were used
    unknown_models: Counter = field(default_factory=Counter)
    files: int = 0
    lines: int = 0

    def error(self, message: str, **where: Unpack[Where]) -> None:
        self.problems.append(Problem(message, severity="error", **where))

    def warning(self, message: str, **where: Unpack[Where]) -> None:
        self.problems.append(Problem(message, severity="warning", **where))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]
