"""The export formats: what each is, and how its writer is opened.

A format is a `Format` in `REGISTRY`; its writer class (any class with the `Writer`
methods) lives in the module named by `writer`, imported on first use so that an optional
dependency (reportlab for PDF) is only needed when that format is asked for.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ..errors import ErrorCode, ExportError
from . import files

if TYPE_CHECKING:
    from .archive import BackgroundArchive
    from .options import ExportOptions
    from .sanitize import Sanitizer


class Writer(Protocol):
    """What the export engine asks of a format's writer."""

    def write(self, conversations: list[dict[str, Any]]) -> None:
        """Append conversations (records shaped by the options) to the output."""

    def close(self) -> None:
        """Finish the output files."""

    def abort(self) -> None:
        """Stop; the engine removes the partial files."""


@dataclass(frozen=True)
class Setup:
    """What a writer is opened with."""

    work: Path  # the private folder the members are written in
    base: str  # the file name without its suffix
    meta: dict[str, Any]  # export_date, filters, totals, generator, title
    options: ExportOptions
    sanitizer: Sanitizer
    copy: BackgroundArchive | None = None  # the zip written alongside, for byte writers
    # Called by a writer that lays conversations out later than write() (PDF) as it reaches
    # each one: (its number, its title); the engine reports progress and checks Cancel there.
    on_section: Callable[[int, str | None], None] | None = None
    # For a format with order="placed" read in storage order: a conversation id's place in
    # oldest-first order. None: conversations come oldest first.
    position: Callable[[str], int] | None = None


Members = list[tuple[Path, str]]  # (file written, its name in an archive or folder)


@dataclass(frozen=True)
class Format:
    name: str
    suffix: str  # of the single file it writes (table formats: of one table)
    writer: str  # "module:Class"; a module starting with "." is in this package
    open: Callable[[type, Setup, Format], tuple[Writer, Members]]
    # In what order it needs conversations: "any" (storage order will do), "placed" (any
    # order, with Setup.position: it puts each in place itself), "oldest_first".
    order: str = "any"
    # Who removes secrets (and PII): "encoding" (the writer, as it encodes), "tables" (the
    # engine, in the fields the tables show), "records" (the engine, in whole records).
    sanitize: str = "encoding"
    per_conversation: bool = False  # handed one at a time (slow writers: progress moves with each)
    tables: bool = False  # a conversations and a messages table (a folder, or one of them)
    zips_alongside: bool = False  # its bytes can be deflated while they are encoded
    reports_sections: bool = False  # its write() queues; progress comes from Setup.on_section

    def open_writer(self, setup: Setup) -> tuple[Writer, Members]:
        module, _, cls = self.writer.partition(":")
        try:
            found = getattr(importlib.import_module(module, __package__), cls)
        except ImportError as exc:
            raise ExportError(f"the {self.name} writer is not available: {exc}",
                              code=ErrorCode.EXPORT_FAILED) from None
        return self.open(found, setup, self)


def one_file(cls: type, s: Setup, fmt: Format) -> tuple[Writer, Members]:
    """Opens `cls(path, meta)` on one file: for a simple format, ours or added from outside."""
    path = s.work / f"{s.base}.{fmt.suffix}"
    files.create_private(path)
    return cls(path, s.meta), [(path, path.name)]


def _placed_file(cls: type, s: Setup, fmt: Format) -> tuple[Writer, Members]:
    path = s.work / f"{s.base}.{fmt.suffix}"
    files.create_private(path)
    return cls(path, s.meta, position=s.position), [(path, path.name)]


def _laid_out_file(cls: type, s: Setup, fmt: Format) -> tuple[Writer, Members]:
    path = s.work / f"{s.base}.{fmt.suffix}"
    files.create_private(path)
    return cls(path, s.meta, on_section=s.on_section), [(path, path.name)]


def _byte_file(cls: type, s: Setup, fmt: Format) -> tuple[Writer, Members]:
    path = s.work / f"{s.base}.{fmt.suffix}"
    files.create_private(path)
    return cls(path, s.meta, s.sanitizer, s.copy), [(path, path.name)]


def _csv_tables(cls: type, s: Setup, fmt: Format) -> tuple[Writer, Members]:
    w = cls(s.work, s.options.tables)
    return w, w.members()


def _parquet_tables(cls: type, s: Setup, fmt: Format) -> tuple[Writer, Members]:
    w = cls(s.work, s.options.tables, private=files.create_private)
    return w, w.members()


REGISTRY: dict[str, Format] = {f.name: f for f in (
    Format("json", "json", ".json_writer:JsonWriter", _byte_file, zips_alongside=True),
    Format("jsonl", "jsonl", ".jsonl_writer:JsonlWriter", _byte_file, zips_alongside=True),
    Format("csv", "csv", ".csv_writer:CsvWriter", _csv_tables, sanitize="tables", tables=True),
    Format("markdown", "md", ".markdown:MarkdownWriter", _placed_file, order="placed",
           sanitize="records"),
    Format("pdf", "pdf", ".pdf:PdfWriter", _laid_out_file, order="oldest_first",
           sanitize="records", per_conversation=True, reports_sections=True),
    Format("parquet", "parquet", ".parquet_writer:ParquetWriter", _parquet_tables, sanitize="tables",
           tables=True),
)}
ALIASES = {"md": "markdown"}


def get(name: str) -> Format:
    """The format called `name` (any case; `md` for markdown), or a clear error."""
    key = (name or "").strip().lower()
    key = ALIASES.get(key, key)
    if key not in REGISTRY:
        raise ExportError(f"unknown export format {name!r}; use one of {', '.join(REGISTRY)}",
                          code=ErrorCode.UNKNOWN_FORMAT)
    return REGISTRY[key]
