"""One progress protocol and one cancellation token for everything that moves data.

A progress callback receives `Progress(stage, done, total, item)`; the CLI renders it with
tqdm (`TqdmProgress`), the widgets with a progress bar, and job documents keep the last
state through `Throttled`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import Cancelled

if TYPE_CHECKING:
    from tqdm import tqdm


@dataclass(frozen=True)
class Progress:
    stage: str
    done: int
    total: int | None = None
    item: str | None = None
    unit: str | None = None  # what done/total count when not the caller's unit (e.g. "bytes")

    @property
    def fraction(self) -> float | None:
        if not self.total:
            return None
        return min(1.0, self.done / self.total)


ProgressCallback = Callable[[Progress], None]


def emit(
    callback: ProgressCallback | None,
    stage: str,
    done: int,
    total: int | None = None,
    item: str | None = None,
    unit: str | None = None,
) -> None:
    if callback is not None:
        callback(Progress(stage, done, total, item, unit))


class CancelToken:
    """Set from any thread; long work checks it between small steps."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise Cancelled("cancelled by the user")


def check(cancel: CancelToken | None) -> None:
    if cancel is not None:
        cancel.raise_if_cancelled()


def human_size(n: float | None) -> str:
    """A byte count for people: `512 B`, `1.5 KB`, ... `3.2 GB`; None is `—`."""
    if n is None:
        return "—"
    n = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if abs(n) < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


class Throttled:
    """Pass events on at most every `interval` seconds, and always on a change of stage."""

    def __init__(self, callback: ProgressCallback, interval: float = 0.5) -> None:
        self._callback = callback
        self._interval = interval
        self._last = 0.0
        self._stage: str | None = None
        self.latest: Progress | None = None

    def __call__(self, event: Progress) -> None:
        self.latest = event
        now = time.monotonic()
        final = event.total is not None and event.done >= event.total
        if event.stage != self._stage or final or now - self._last >= self._interval:
            self._stage = event.stage
            self._last = now
            self._callback(event)

    def flush(self) -> None:
        if self.latest is not None:
            self._callback(self.latest)


class Tee:
    """Send each event to several callbacks (skipping None)."""

    def __init__(self, *callbacks: ProgressCallback | None) -> None:
        self._callbacks = [c for c in callbacks if c is not None]

    def __call__(self, event: Progress) -> None:
        for c in self._callbacks:
            c(event)


class TqdmProgress:
    """Render progress events as tqdm bars, one per stage."""

    def __init__(self, *, disable: bool = False, unit: str = "it") -> None:
        self._bar: tqdm[Any] | None = None
        self._stage: str | None = None
        self._disable = disable
        self._unit = unit

    def __call__(self, event: Progress) -> None:
        from tqdm.auto import tqdm

        if event.stage != self._stage:
            self.close()
            self._stage = event.stage
            unit = event.unit or self._unit
            extra: dict = {"unit": "B", "unit_scale": True} if unit == "bytes" else {
                # "12 conv", not "12conv"
                "unit": unit if len(unit) <= 2 or unit.startswith(" ") else f" {unit}"}
            if event.total is None and not event.done:
                extra["bar_format"] = "{desc}… {elapsed}"  # a stage with nothing to count yet
            self._bar = tqdm(total=event.total, desc=event.stage, disable=self._disable, leave=True,
                             **extra)
        bar = self._bar
        if bar is None:
            return
        if event.total is not None and bar.total != event.total:
            bar.total = event.total
        bar.update(max(0, event.done - bar.n))
        if event.item:
            bar.set_postfix_str(event.item[:40], refresh=False)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> TqdmProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
