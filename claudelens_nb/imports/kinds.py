"""The import kinds: what each is, whose limits apply, and how its conversations are read.

A kind is a `Kind` in `REGISTRY`, looked up by the name detection gives (`get`). Its
`read` (any callable with the `Reader` signature) is handed the checked input (`Given`) and
returns the `items(report)` that yields the input's conversations as `RawItem`s. Our kinds
yield raw conversations (mapped and validated by the engine); the external sources'
(Claude Code, claude.ai, ChatGPT) are read by `claudelens_nb.sources.read` and yield
canonical ones.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from ..errors import ErrorCode, ImportFileError
from ..reading import Problem, ReadReport
from ..security import Limits
from . import csv_reader, json_reader, tables, upstream_layout
from .items import Items, RawItem
from .json_reader import Text


@dataclass(frozen=True)
class Given:
    """The checked input a reader reads."""

    path: Path  # the file, folder or extracted archive opened (an external source reads it)
    limits: Limits
    texts: list[Text] = field(default_factory=list)  # its checked text files, in reading order
    parquet: list[tuple[Path, str]] = field(default_factory=list)  # (Parquet table, its name)


class Reader(Protocol):
    """How a kind is read: the `items(report)` of the given input. It may refuse the input
    here, before anything is read (the Parquet reader checks each table's schema)."""

    def __call__(self, kind: Kind, given: Given) -> Items: ...


@dataclass(frozen=True)
class Kind:
    """One kind of input, by the name detection gives it."""

    name: str
    family: str  # "json" or "csv": whose limits (sizes, counts) apply
    read: Reader
    ours: bool = True  # our own export's (raw records, mapped) or an external source's

    def source(self, given: Given, name: str, size: int, sha256: str, *,
               archive: bool = False, encrypted: bool = False) -> Source:
        """The opened input, read as this kind."""
        return Source(self.name, self.family, name, size, sha256, archive=archive,
                      encrypted=encrypted, _items=self.read(self, given))


@dataclass
class Source:
    """An opened input: what it is, its size and digest, and its reader."""

    kind: str
    fmt: str  # "json" or "csv": whose limits apply
    name: str
    size: int
    sha256: str
    archive: bool = False
    encrypted: bool = False
    _items: Items | None = None
    problems: list[Problem] = field(default_factory=list)

    def items(self, report: ReadReport) -> Iterator[RawItem]:
        assert self._items is not None
        return self._items(report)

    @property
    def external(self) -> bool:
        kind = REGISTRY.get(self.kind)
        return kind is None or not kind.ours


def _envelope(kind: Kind, given: Given) -> Items:
    return json_reader.document_items(given.texts, "conversations.item")


def _claudelens_json(kind: Kind, given: Given) -> Items:
    return json_reader.document_items(given.texts, "conversations.item", upstream_layout.adapt)


def _json_array(kind: Kind, given: Given) -> Items:
    return json_reader.document_items(given.texts, "item")


def _jsonl(kind: Kind, given: Given) -> Items:
    return json_reader.lines_items(given.texts)


def _csv(kind: Kind, given: Given) -> Items:
    return csv_reader.items_from(given.texts, given.limits)


def _parquet(kind: Kind, given: Given) -> Items:
    return tables.parquet_items(given.parquet, given.limits)


def external(kind: Kind, given: Given) -> Items:
    """Reads `given.path` with `claudelens_nb.sources.read` as `kind.name`."""
    def items(report: ReadReport) -> Iterator[RawItem]:
        try:
            from .. import sources
        except ImportError:
            raise ImportFileError("the external source readers (claudelens_nb.sources) are "
                                  "missing") from None
        for conv in sources.read(kind.name, given.path, report, limits=given.limits):
            yield RawItem(conv, None, None)
    return items


REGISTRY: dict[str, Kind] = {k.name: k for k in (
    Kind("json", "json", _envelope),
    Kind("claudelens_json", "json", _claudelens_json),
    Kind("json_array", "json", _json_array),
    Kind("jsonl", "json", _jsonl),
    Kind("csv", "csv", _csv),
    Kind("parquet", "json", _parquet),
    Kind("claude_code", "json", external, ours=False),
    Kind("claude_ai", "json", external, ours=False),
    Kind("chatgpt", "json", external, ours=False),
)}


def get(name: str) -> Kind:
    """The kind called `name`, or a clear error."""
    if name not in REGISTRY:
        raise ImportFileError(f"unknown import kind {name!r}; expected one of {', '.join(REGISTRY)}",
                              code=ErrorCode.UNKNOWN_FORMAT)
    return REGISTRY[name]
