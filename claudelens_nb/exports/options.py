"""What an export takes besides its filter: `ExportOptions`, and the format names."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from ..config import settings
from ..errors import ErrorCode, ExportError
from .formats import REGISTRY
from .formats import get as get_format

FORMATS = tuple(REGISTRY)  # json, jsonl, csv, markdown, pdf, parquet
CSV_TABLES = ("both", "conversations", "messages")
# The extension of each format's generated file name (CSV and Parquet with both tables: a zip).
EXTENSIONS = {
    "json": "json", "jsonl": "jsonl", "csv": "zip", "markdown": "md", "pdf": "pdf",
    "parquet": "zip",
}


@dataclass
class ExportOptions:
    """Export options; `password` is never stored anywhere."""

    include_messages: bool = True
    include_metadata: bool = True
    include_tool_calls: bool = True
    remove_secrets: bool = True
    redact_pii: bool = False
    anonymize: bool = False
    compress: bool = False
    password: str | None = None
    auto_compress_bytes: int | None = None
    chunk_size: int = 200
    # Which tables CSV and Parquet write; `csv_tables` is its older name (either may be given).
    tables: str = "both"
    csv_tables: str = "both"

    def __post_init__(self) -> None:
        for name in ("tables", "csv_tables"):
            if getattr(self, name) not in CSV_TABLES:
                raise ExportError(
                    f"{name} must be one of {', '.join(CSV_TABLES)}, got {getattr(self, name)!r}",
                    code=ErrorCode.INVALID_OPTIONS,
                )
        if self.tables == "both":
            self.tables = self.csv_tables
        self.csv_tables = self.tables
        if not isinstance(self.chunk_size, int) or self.chunk_size < 1:
            raise ExportError(f"chunk_size must be a positive whole number, got {self.chunk_size!r}",
                              code=ErrorCode.INVALID_OPTIONS)
        if self.password is not None and not isinstance(self.password, str):
            raise ExportError("password must be text", code=ErrorCode.INVALID_OPTIONS)
        if self.password == "":
            self.password = None

    @property
    def compress_threshold(self) -> int:
        if self.auto_compress_bytes is not None:
            return int(self.auto_compress_bytes)
        return settings().auto_compress_bytes

    def to_dict(self) -> dict[str, Any]:
        """The options as stored in job documents and manifests: no password, only whether one was set."""
        out = asdict(self)
        out.pop("password")
        out["encrypted"] = self.password is not None
        return out


def coerce_options(options: ExportOptions | dict[str, Any] | None) -> ExportOptions:
    if options is None:
        return ExportOptions()
    if isinstance(options, ExportOptions):
        return options
    if isinstance(options, dict):
        known = {f.name for f in fields(ExportOptions)}
        extra = sorted(set(options) - known)
        if extra:
            raise ExportError(f"unknown export option {extra[0]!r}", code=ErrorCode.INVALID_OPTIONS)
        return ExportOptions(**options)
    raise ExportError(f"expected ExportOptions or a dict, got {type(options).__name__}",
                      code=ErrorCode.INVALID_OPTIONS)


def check_format(fmt: str) -> str:
    """The canonical name of a format (`md` is markdown), or a clear error."""
    return get_format(fmt).name
