"""The light/dark toggle in the header (anywidget): works in the browser alone, and keeps the
choice in localStorage so that a reload keeps it (`theme_toggle.js`)."""

from __future__ import annotations

from pathlib import Path

import anywidget


class ThemeToggle(anywidget.AnyWidget):
    _esm = Path(__file__).with_name("theme_toggle.js")
