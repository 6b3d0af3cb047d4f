"""Small widget pieces shared by the tabs: section cards, banners, progress, formatting."""

from __future__ import annotations

import base64
import html as _html
import threading
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import ipywidgets as w

from ..errors import Cancelled
from ..progress import Progress
from ..progress import human_size as human_size  # the tabs' import
from ..records import parse_iso
from .jobs import describe_error

DATA_URI_LIMIT = 25 * 1024 * 1024


def esc(value: Any) -> str:
    return _html.escape("" if value is None else str(value), quote=True)


def money(x: Any) -> str:
    try:
        return f"${float(x or 0):,.2f}"
    except (TypeError, ValueError):
        return "—"


def when(value: Any) -> str:
    """A timestamp as `YYYY-MM-DD HH:MM` (UTC), dates as `YYYY-MM-DD`."""
    if value in (None, ""):
        return "—"
    if isinstance(value, str):
        try:
            value = parse_iso(value, ms=False)
        except ValueError:
            return value
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def as_utc(value: Any) -> datetime | None:
    if isinstance(value, str):
        try:
            value = parse_iso(value, ms=False)
        except ValueError:
            return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value
    return None


def duration(seconds: float | None) -> str:
    if seconds is None or seconds != seconds or seconds < 0:
        return "—"
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    return f"{seconds // 60}:{seconds % 60:02d}"


def card(title: str, subtitle: str, *children: w.Widget, cls: str = "") -> w.VBox:
    head = w.HTML(f"<h3>{esc(title)}</h3><p class='cl-sub'>{esc(subtitle)}</p>")
    box = w.VBox([head, *children])
    box.add_class("cl-card")
    if cls:
        box.add_class(cls)
    return box


def html(value: str = "", *classes: str, **layout: Any) -> w.HTML:
    widget = w.HTML(value, layout=w.Layout(**layout)) if layout else w.HTML(value)
    for c in classes:
        widget.add_class(c)
    return widget


def button(label: str, cls: str, *, primary: bool = False, tooltip: str = "", **kwargs: Any) -> w.Button:
    b = w.Button(description=label, tooltip=tooltip or label, button_style="primary" if primary else "",
                 layout=w.Layout(width="auto"), **kwargs)
    b.add_class(cls)
    return b


def labelled(label: str, widget: w.Widget, cls: str = "", hint: str = "") -> w.VBox:
    tail = f"<span class='cl-field-hint'>{esc(hint)}</span>" if hint else ""
    box = w.VBox([html(f"<div class='cl-field-label'>{esc(label)}{tail}</div>"), widget])
    box.add_class("cl-field")
    if cls:
        box.add_class(cls)
    return box


def plural(n: int, word: str, words: str | None = None) -> str:
    """`1 conversation`, `2 conversations`, `1,200 messages`."""
    return f"{n:,} {word if n == 1 else (words or word + 's')}"


def show(widget: w.Widget, visible: bool) -> None:
    if visible:
        widget.remove_class("cl-hidden")
    else:
        widget.add_class("cl-hidden")


class Banner(w.HTML):
    """A coloured message line: ok (green), error (red), warning (amber), info (blue)."""

    def __init__(self, cls: str = "cl-banner") -> None:
        super().__init__("")
        self.add_class("cl-banner")
        if cls != "cl-banner":
            self.add_class(cls)

    def show(self, kind: str, text: str, *, raw_html: bool = False) -> None:
        body = text if raw_html else esc(text)
        self.value = f"<div class='cl-msg-{kind}' data-kind='{kind}'>{body}</div>"

    def ok(self, text: str, **kw: Any) -> None:
        self.show("ok", text, **kw)

    def error(self, text: str, **kw: Any) -> None:
        self.show("error", text, **kw)

    def warning(self, text: str, **kw: Any) -> None:
        self.show("warning", text, **kw)

    def info(self, text: str, **kw: Any) -> None:
        self.show("info", text, **kw)

    def clear(self) -> None:
        self.value = ""


class ProgressView(w.VBox):
    """A progress bar with `stage — done / total unit • rate • time left`, fed Progress events.

    Updates reach the browser at most every `interval` seconds (and on a change of stage),
    so a fast loop does not flood the websocket.
    """

    def __init__(self, cls: str, unit: str = "conversations", interval: float = 0.2) -> None:
        self.bar = w.FloatProgress(value=0, min=0, max=1, layout=w.Layout(width="100%"))
        self.bar.add_class("cl-progress")
        self.text = html("", "cl-progress-text")
        super().__init__([self.bar, self.text])
        self.add_class("cl-progress-box")
        self.add_class(cls)
        self.unit = unit
        self.interval = interval
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self._stage: str | None = None
        self._stage_start = time.monotonic()
        self._last = 0.0
        self.bar.value = 0
        self.bar.bar_style = ""
        self.text.value = ""

    def start(self, text: str = "Starting…") -> None:
        self.reset()
        self.text.value = esc(text)
        show(self, True)

    def __call__(self, event: Progress) -> None:
        with self._lock:
            now = time.monotonic()
            if event.stage != self._stage:
                self._stage, self._stage_start = event.stage, now
            elif now - self._last < self.interval and not (event.total and event.done >= event.total):
                return
            self._last = now
            if event.fraction is not None:  # a stage without a total keeps the bar where it is
                self.bar.value = event.fraction
            self.text.value = self.describe(event, now - self._stage_start)

    def describe(self, event: Progress, elapsed: float) -> str:
        parts = [f"<b>{esc(event.stage)}</b>"]
        unit = event.unit or self.unit
        count = (lambda n: human_size(n)) if unit == "bytes" else (lambda n: f"{n:,}")
        label = "" if unit == "bytes" else f" {unit}"
        if event.total:
            parts.append(f"{count(event.done)} / {count(event.total)}{label}")
        elif event.done:
            parts.append(f"{count(event.done)}{label}")
        rate = event.done / elapsed if elapsed > 0.2 and event.done and event.done != event.total else None
        if rate:
            parts.append(f"{human_size(rate)}/s" if unit == "bytes" else f"{rate:,.1f}/s")
        if rate and event.total:
            parts.append(f"{duration((event.total - event.done) / rate)} left")
        if event.item:
            parts.append(f"<span class='cl-muted'>{esc(str(event.item)[:60])}</span>")
        return " • ".join(parts)

    def finish(self, text: str, style: str = "success") -> None:
        with self._lock:
            self.bar.value = 1 if style == "success" else self.bar.value
            self.bar.bar_style = style
            self.text.value = text

    def failed(self, exc: BaseException, banner: Banner, *, what: str, cancelled: str) -> None:
        """End the bar for a run that was cancelled or failed, and say so in `banner`."""
        if isinstance(exc, Cancelled):
            self.finish("<b>Cancelled</b>", style="warning")
            banner.warning(cancelled)
        else:
            self.finish("<b>Failed</b>", style="danger")
            banner.error(f"{what} failed: {describe_error(exc)}")


def download_anchor(job_id: str, path: Path, *, cls: str, label: str) -> str:
    """An <a> that downloads an export: a signed server link, or a data: URI in a plain notebook."""
    from ..dashboard import download_url

    url = download_url(job_id)
    name = esc(path.name)
    if url:
        return f"<a class='{cls}' href='{esc(url)}' download='{name}'>{esc(label)}</a>"
    size = path.stat().st_size
    if size <= DATA_URI_LIMIT:
        data = base64.b64encode(path.read_bytes()).decode()
        return (f"<a class='{cls}' href='data:application/octet-stream;base64,{data}' "
                f"download='{name}'>{esc(label)}</a>")
    return f"<span class='cl-muted'>The file is too large to send through the notebook: {esc(path)}</span>"
