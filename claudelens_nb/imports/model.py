"""What the import API returns: the validation report and the import result."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from ..reading import Problem


@dataclass
class FieldMapping:
    source: str
    target: str
    samples: list[Any] = field(default_factory=list)


@dataclass
class Conflict:
    id: str
    title: str | None
    existing_messages: int
    incoming_messages: int
    existing_updated: datetime | None
    incoming_updated: datetime | None
    existing_cost: float
    incoming_cost: float


@dataclass
class ValidationReport:
    kind: str
    file_name: str
    size: int
    sha256: str = ""
    archive: bool = False
    encrypted: bool = False
    stats: dict[str, Any] = field(default_factory=dict)
    mapping: list[FieldMapping] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    error_count: int = 0
    warning_count: int = 0

    @property
    def ok(self) -> bool:
        return self.error_count == 0 and not self.errors

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["ok"] = self.ok
        out["errors"] = [str(p) for p in self.errors]
        out["warnings"] = [str(p) for p in self.warnings]
        return out


@dataclass
class Counts:
    """What an import did to conversations (and how many messages it wrote)."""

    inserted: int = 0
    replaced: int = 0
    merged: int = 0
    skipped: int = 0
    failed: int = 0
    messages_written: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in
                ("inserted", "replaced", "merged", "skipped", "failed", "messages_written")}


@dataclass(kw_only=True)
class ImportResult(Counts):
    job_id: str | None
    status: str  # completed / cancelled / failed / dry_run
    warnings: int = 0
    warning_messages: list[str] = field(default_factory=list)  # as many as the report kept
    kind: str = ""
    conversations: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
