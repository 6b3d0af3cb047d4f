"""The light/dark toggle in the header (anywidget): works in the browser alone, and keeps the
choice in localStorage so that a reload keeps it (`theme_toggle.js`). It also tells Python
when a page shows it (`on_shown`): a preheated app, built before anyone asked, then refreshes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import anywidget


class ThemeToggle(anywidget.AnyWidget):
    _esm = Path(__file__).with_name("theme_toggle.js")

    def __init__(self, on_shown: Callable[[], None] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._on_shown = on_shown
        self.on_msg(self._received)

    def _received(self, _widget: Any, content: dict[str, Any], _buffers: list[Any]) -> None:
        if content.get("kind") == "shown" and self._on_shown is not None:
            self._on_shown()
