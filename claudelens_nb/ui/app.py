"""`ImportExportApp`: the header, the theme toggle and the three tabs in one widget."""

from __future__ import annotations

from typing import Any

import ipywidgets as w
from pymongo.database import Database

from .jobs import describe_error, log, run_in_thread
from .parts import Banner, html
from .theme import style_html
from .theme_toggle import ThemeToggle

TITLE = "Import & Export Data"
SUBTITLE = "Manage your conversation data with flexible import and export options"


class ImportExportApp(w.VBox):
    """The import/export dashboard; display it in any notebook, or serve it with Voila.

    `db` defaults to `claudelens_nb.connect()` (CLAUDELENS_MONGODB_URI, else the embedded
    server). A database that cannot be reached shows a red banner instead of the tabs.
    """

    children: tuple[Any, ...]  # ipywidgets' trait (ipywidgets ships no types)

    def __init__(self, db: Database | None = None) -> None:
        self.style = html(style_html(), "cl-style")
        self.style.layout.display = "none"
        title = html(f"<div class='cl-title'><h1>{TITLE}</h1><p>{SUBTITLE}</p></div>")
        toggle = ThemeToggle(on_shown=self._shown)
        header = w.HBox([title, toggle])
        header.add_class("cl-header")
        self.banner = Banner("cl-app-banner")
        super().__init__([self.style, header, self.banner])
        self.add_class("cl-app")
        self.tabs: w.Tab | None = None
        try:
            self._build(db)
        except Exception as exc:
            if not hasattr(exc, "code"):
                log.exception("dashboard start failed")
            self.banner.error(f"The dashboard could not start: {describe_error(exc)}")

    def _build(self, db: Database | None) -> None:
        from ..store import connect
        from .export_tab import ExportTab
        from .history_tab import HistoryTab
        from .import_tab import ImportTab

        self.db = db if db is not None else connect()
        self.history = HistoryTab(self.db, on_changed=self._data_changed)
        self.export_tab = ExportTab(self.db, on_finished=self.history.refresh)
        self.import_tab = ImportTab(self.db, on_finished=self._data_changed)
        self.tabs = w.Tab(children=[self.export_tab, self.import_tab, self.history],
                          titles=["⬇ Export Data", "⬆ Import Data", "◷ Export History"])
        self.tabs.add_class("cl-tabs")
        self.tabs.observe(self._tab_changed, "selected_index")
        self.children = (*self.children, self.tabs)
        # Counting and distinct values take a moment on a big database: the page shows first.
        self.export_tab.stats.value = "<div class='cl-muted'>Counting conversations…</div>"
        run_in_thread(self._load_initial, name="claudelens-initial",
                      on_error=lambda e: self.export_tab.preview_note.error(describe_error(e)))
        self.history.refresh()

    def _shown(self) -> None:
        """A page opened this app: its numbers are brought up to date (an app built ahead of
        time, in a preheated kernel of the dashboard, may have waited a while for its page)."""
        if self.tabs is not None:
            run_in_thread(self._data_changed, name="claudelens-shown")

    def _load_initial(self) -> None:
        self.export_tab.refresh(now=True)
        self.export_tab.filter_options()

    def _tab_changed(self, change: dict) -> None:
        if change["new"] == 2:
            self.history.refresh()

    def _data_changed(self) -> None:
        """After an import or undo: the pickers, counts and history may all have moved."""
        try:
            self.export_tab.filter_options()
            self.export_tab.total_all = 0
            self.export_tab.refresh()
        except Exception as exc:
            self.export_tab.banner.error(describe_error(exc))
        self.history.refresh()
