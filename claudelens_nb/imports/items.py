"""What a reader hands out: one conversation as read (`RawItem`), and the `items(report)`
callable (`Items`) that yields them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from ..reading import ReadReport


@dataclass
class RawItem:
    """One conversation as read: raw for our kinds, canonical for external sources."""

    data: Any
    line: int | None = None
    file: str | None = None


Items = Callable[[ReadReport], Iterator[RawItem]]
