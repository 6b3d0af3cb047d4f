"""The Export tab: format, which conversations, filters, options, live preview, run, download."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import ipywidgets as w
from pymongo.database import Database

from ..filters import FILTER_MESSAGE_TYPES, Filter
from ..progress import CancelToken
from .jobs import Debouncer, describe_error, guarded, request_cancel, run_in_thread
from .parts import (
    Banner,
    ProgressView,
    button,
    card,
    download_anchor,
    esc,
    html,
    human_size,
    labelled,
    money,
    plural,
    show,
)

if TYPE_CHECKING:
    from ..exports.preview import Preview

FORMATS = [
    ("json", "JSON", "Complete data with metadata"),
    ("csv", "CSV", "Spreadsheet compatible"),
    ("markdown", "Markdown", "Human-readable format"),
    ("pdf", "PDF", "Print-ready documents"),
    ("jsonl", "JSONL", "One conversation per line"),
    ("parquet", "Parquet", "Columnar, for analysis"),
]
FORMAT_NAMES = {key: label for key, label, _ in FORMATS}
PAGE_SIZE = 8
UI_CHUNK_SIZE = 25
MAX_LIST_ROWS = 8  # a picker shows this many choices before it scrolls


def _rows(options: list[Any]) -> int:
    """Rows for a multi-choice list: all of its choices, up to MAX_LIST_ROWS (none clipped)."""
    return max(2, min(len(options), MAX_LIST_ROWS))


class ExportTab(w.VBox):
    """Everything on the Export tab. `on_finished` is called after each export attempt."""

    def __init__(self, db: Database, on_finished: Callable[[], None] | None = None) -> None:
        self.db = db
        self.on_finished = on_finished
        self.format = "json"
        self.selected: set[str] = set()
        self.page = 0
        self.total_all = 0
        self.total_filtered = 0
        self._listed = 0  # conversations the list pages through (matching, or selected)
        self._syncing = False
        self._cancel: CancelToken | None = None
        self._page_ids: list[str | None] = []
        self._debounce = Debouncer(0.3)
        self.banner = Banner("cl-export-banner")
        guard = guarded(self.banner.error)

        # 1. format cards
        self.cards: dict[str, w.Button] = {}
        for key, label, blurb in FORMATS:
            b = w.Button(description=label, tooltip=blurb, layout=w.Layout(width="auto"))
            b.add_class("cl-format-card")
            b.add_class(f"cl-format-{key}")
            b.on_click(guard(lambda _b, k=key: self.choose_format(k)))
            self.cards[key] = b
        grid = w.Box(list(self.cards.values()))
        grid.add_class("cl-format-grid")
        self.choose_format("json")

        # 2. which conversations + filters + options
        self.mode = w.RadioButtons(options=self._mode_options(), value="all", layout=w.Layout(width="auto"))
        self.mode.add_class("cl-mode")
        self.since = w.DatePicker(description="", layout=w.Layout(width="auto"))
        self.since.add_class("cl-since")
        self.until = w.DatePicker(description="", layout=w.Layout(width="auto"))
        self.until.add_class("cl-until")
        self.projects = self._multi("cl-projects")
        self.models = self._multi("cl-models")
        self.tags = self._multi("cl-tags")
        self.types = self._multi("cl-types", [(t.replace("_", " "), t) for t in FILTER_MESSAGE_TYPES])
        self.min_cost = w.Text(placeholder="min $", layout=w.Layout(width="auto"))
        self.min_cost.add_class("cl-min-cost")
        self.max_cost = w.Text(placeholder="max $", layout=w.Layout(width="auto"))
        self.max_cost.add_class("cl-max-cost")
        cost = w.HBox([self.min_cost, html("–", "cl-muted"), self.max_cost])
        cost.add_class("cl-cost")
        clear = button("Clear filters", "cl-clear-filters")
        clear.on_click(guard(lambda _b: self.clear_filters()))
        several = "· Ctrl/⌘-click for several"
        filters = w.Box([
            labelled("From date", self.since), labelled("To date", self.until),
            labelled("Projects", self.projects, hint=several),
            labelled("Models", self.models, hint=several),
            labelled("Tags", self.tags, hint=several),
            labelled("Message types", self.types, hint=several),
            labelled("Cost range (USD)", cost), labelled("", clear),
        ])
        filters.add_class("cl-filters")
        for widget in (self.since, self.until, self.projects, self.models, self.tags, self.types,
                       self.min_cost, self.max_cost):
            widget.observe(lambda _c: self._filters_changed(), "value")
        self.mode.observe(guard(lambda _c: self._mode_changed()), "value")

        self.opt = {
            "include_metadata": self._check("Include metadata", True, "cl-opt-metadata"),
            "include_tool_calls": self._check("Include tool calls", True, "cl-opt-tools"),
            "remove_secrets": self._check("Remove secrets", True, "cl-opt-secrets"),
            "redact_pii": self._check("Redact PII", False, "cl-opt-pii"),
            "compress": self._check("Compress (zip)", False, "cl-opt-compress"),
        }
        self.password = w.Password(placeholder="password (encrypts the zip)", layout=w.Layout(width="auto"))
        self.password.add_class("cl-opt-password")
        options = w.HBox([*self.opt.values(), self.password])
        options.add_class("cl-options")

        # 3. preview
        self.stats = html("", "cl-preview-stats")
        self.preview_note = Banner("cl-preview-banner")
        self.rows: list[tuple[w.HBox, w.Checkbox, w.HTML]] = []
        for _ in range(PAGE_SIZE):
            check = w.Checkbox(value=False, description="", indent=False, layout=w.Layout(width="auto"))
            check.add_class("cl-conv-check")
            check.observe(guard(self._row_toggled), "value")
            meta = html("", "cl-conv-meta")
            row = w.HBox([check, meta])
            row.add_class("cl-conv-row")
            self.rows.append((row, check, meta))
        self.list_box = w.VBox([r for r, _, _ in self.rows])
        self.list_box.add_class("cl-conv-list")
        self.prev_btn = button("‹ Prev", "cl-page-prev")
        self.next_btn = button("Next ›", "cl-page-next")
        self.page_label = html("", "cl-page-label")
        self.all_btn = button("Select all", "cl-select-all")
        self.none_btn = button("Select none", "cl-select-none")
        self.prev_btn.on_click(guard(lambda _b: self._go_page(self.page - 1)))
        self.next_btn.on_click(guard(lambda _b: self._go_page(self.page + 1)))
        self.all_btn.on_click(guard(lambda _b: self.select_all()))
        self.none_btn.on_click(guard(lambda _b: self.select_none()))
        pager = w.HBox([self.prev_btn, self.page_label, self.next_btn, self.all_btn, self.none_btn])
        pager.add_class("cl-pager")
        panel = w.VBox([self.stats, self.preview_note, self.list_box, pager])
        panel.add_class("cl-panel")

        # 4. run
        self.start_btn = button("⬇ Start Export", "cl-start-export", primary=True)
        self.cancel_btn = button("✕ Cancel", "cl-cancel-export", disabled=True)
        self.start_btn.on_click(guard(lambda _b: self.start()))
        self.cancel_btn.on_click(guard(lambda _b: self.cancel()))
        self.progress = ProgressView("cl-export-progress")
        show(self.progress, False)
        self.download = html("", "cl-download")
        actions = w.HBox([self.start_btn, self.cancel_btn, self.download])
        actions.add_class("cl-actions")

        super().__init__([
            card("1. Choose Export Format", "Select the format that best suits your needs", grid),
            card("2. Select Conversations", "Choose which conversations to include in the export",
                 self.mode, filters, options),
            card("3. Preview Export", "Review what will be included in your export", panel,
                 actions, self.progress, self.banner),
        ])
        self.add_class("cl-export-tab")

    # ------------------------------------------------------------ building blocks
    @staticmethod
    def _multi(cls: str, options: list[Any] | None = None) -> w.SelectMultiple:
        s = w.SelectMultiple(options=options or [], rows=_rows(options or []), layout=w.Layout(width="auto"))
        s.add_class(cls)
        return s

    @staticmethod
    def _check(label: str, value: bool, cls: str) -> w.Checkbox:
        c = w.Checkbox(value=value, description=label, indent=False, layout=w.Layout(width="auto"))
        c.add_class(cls)
        return c

    def _mode_options(self) -> list[tuple[str, str]]:
        return [
            (f"All Conversations ({self.total_all:,})", "all"),
            (f"Currently Filtered ({self.total_filtered:,})", "filtered"),
            (f"Selected Only ({len(self.selected):,})", "selected"),
        ]

    def _relabel_modes(self) -> None:
        value = self.mode.value
        self._syncing = True
        try:
            self.mode.options = self._mode_options()
            self.mode.value = value
        finally:
            self._syncing = False

    # ------------------------------------------------------------ state -> filter
    def filter_options(self) -> None:
        """Fill the pickers from the database (distinct values, not rows)."""
        from ..query import filter_options

        opts = filter_options(db=self.db)
        self._syncing = True
        try:
            for picker, values in ((self.projects, [p["name"] or p["path"] for p in opts["projects"]]),
                                   (self.models, opts["models"]), (self.tags, opts["tags"])):
                chosen = [v for v in picker.value if v in values]  # keep what is still offered
                if list(picker.options) != list(values):
                    picker.options = values
                    picker.value = tuple(chosen)
                    picker.rows = _rows(values)
        finally:
            self._syncing = False

    def current_filter(self) -> Filter:
        return Filter(
            since=self.since.value, until=self.until.value,
            projects=list(self.projects.value), models=list(self.models.value), tags=list(self.tags.value),
            min_cost=self.min_cost.value.strip() or None, max_cost=self.max_cost.value.strip() or None,
            message_types=list(self.types.value),
        )

    def export_filter(self) -> Filter:
        """The filter the export will use, by mode."""
        if self.mode.value == "all":
            return Filter()
        if self.mode.value == "selected":
            if not self.selected:
                from ..errors import InvalidFilter

                raise InvalidFilter("no conversations are selected: tick some in the list below")
            return Filter(conversation_ids=sorted(self.selected), message_types=list(self.types.value))
        return self.current_filter()

    def export_options(self) -> dict[str, Any]:
        opts: dict[str, Any] = {k: c.value for k, c in self.opt.items()}
        opts["password"] = self.password.value or None
        # Smaller chunks than the library default: the engine reports progress once per chunk.
        opts["chunk_size"] = UI_CHUNK_SIZE
        if opts["password"]:
            opts["compress"] = True
        return opts

    # ------------------------------------------------------------ events
    def choose_format(self, key: str) -> None:
        self.format = key
        for k, b in self.cards.items():
            if k == key:
                b.add_class("cl-selected")
            else:
                b.remove_class("cl-selected")
        if hasattr(self, "stats"):
            self._render_stats(getattr(self, "_last_stats", None))

    def clear_filters(self) -> None:
        self._syncing = True
        try:
            self.since.value = None
            self.until.value = None
            for s in (self.projects, self.models, self.tags, self.types):
                s.value = ()
            self.min_cost.value = ""
            self.max_cost.value = ""
        finally:
            self._syncing = False
        self._filters_changed()

    def _filters_changed(self) -> None:
        if self._syncing:
            return
        self.page = 0
        if self.mode.value == "all" and not self.current_filter_is_empty():
            self._syncing = True
            self.mode.value = "filtered"
            self._syncing = False
        self.refresh()

    def current_filter_is_empty(self) -> bool:
        try:
            return self.current_filter().is_empty()
        except Exception:
            return False

    def _mode_changed(self) -> None:
        if not self._syncing:
            self.page = 0
            self.refresh()

    def _row_toggled(self, change: dict[str, Any]) -> None:
        if self._syncing:
            return
        owner = change["owner"]
        for i, (_, check, _) in enumerate(self.rows):
            cid = self._page_ids[i] if i < len(self._page_ids) else None
            if check is owner and cid:
                if change["new"]:
                    self.selected.add(cid)
                else:
                    self.selected.discard(cid)
        if change["new"] and self.mode.value != "selected":
            # Ticking means "these ones": the export follows the ticks. The list stays as it is
            # while ticking; listed again (page, radio, filters) it shows the selected ones only.
            self._syncing = True
            try:
                self.mode.value = "selected"
            finally:
                self._syncing = False
        self._relabel_modes()
        if self.mode.value == "selected":
            self.refresh(items=False)

    def _go_page(self, page: int) -> None:
        pages = max(1, math.ceil(self._listed / PAGE_SIZE))
        self.page = max(0, min(page, pages - 1))
        self.refresh()

    def select_all(self) -> None:
        from ..filters import matching_session_ids

        self.selected.update(matching_session_ids(self.db, self.current_filter()))
        self._syncing = True
        try:
            self.mode.value = "selected"
        finally:
            self._syncing = False
        self.page = 0
        self._relabel_modes()
        self.refresh()

    def select_none(self) -> None:
        self.selected.clear()
        self._relabel_modes()
        self.refresh()

    # ------------------------------------------------------------ preview
    def refresh(self, *, items: bool = True, now: bool = False) -> None:
        """Recompute counts and the checklist (debounced, in a worker thread)."""
        if now:
            self._refresh(None, items)
        else:
            self._debounce(lambda gen: self._refresh(gen, items))

    def _refresh(self, gen: int | None, items: bool) -> None:
        from ..exports import preview

        try:
            self.preview_note.clear()
            flt = self.current_filter()
            mode = self.mode.value
            chosen = Filter(conversation_ids=sorted(self.selected), message_types=list(self.types.value))
            filtered = preview(flt, db=self.db, page=0 if mode == "selected" else self.page,
                               page_size=PAGE_SIZE)
            if gen is not None and not self._debounce.is_current(gen):
                return
            self.total_filtered = filtered.conversations
            if flt.is_empty():
                self.total_all = filtered.conversations
            elif not self.total_all:
                self.total_all = preview(Filter(), db=self.db, page_size=1).conversations
            listed: Preview | None = filtered
            stats: Preview | None
            if mode == "filtered":
                stats = filtered
            elif mode == "all":
                stats = filtered if flt.is_empty() else preview(Filter(), db=self.db, page_size=1)
                self.total_all = stats.conversations
            else:  # the selected conversations only, in the stats and in the list
                stats = listed = (preview(chosen, db=self.db, page=self.page, page_size=PAGE_SIZE)
                                  if self.selected else None)
            if gen is not None and not self._debounce.is_current(gen):
                return
            if items:
                self._listed = listed.conversations if listed is not None else 0
                self._render_items(listed.items if listed is not None else [], selected_only=mode == "selected")
            self._relabel_modes()
            self._last_stats = stats
            self._render_stats(stats)  # last: the numbers tell a watcher the refresh is done
        except Exception as exc:
            self.preview_note.error(describe_error(exc))

    def _render_stats(self, stats: Any) -> None:
        if stats is None:
            values = {"conversations": 0, "messages": 0, "size": 0, "cost": 0.0}
        else:
            values = {
                "conversations": stats.conversations, "messages": stats.messages,
                "size": int(stats.estimated_bytes.get(self.format, 0)), "cost": float(stats.total_cost),
            }
        shown = {
            "conversations": f"{values['conversations']:,}", "messages": f"{values['messages']:,}",
            "size": human_size(values["size"]), "cost": money(values["cost"]),
        }
        labels = {"conversations": "Conversations", "messages": "Messages", "size": "Est. Size",
                  "cost": "Total Cost"}
        self.stats.value = "<div class='cl-stats'>" + "".join(
            f"<div class='cl-stat cl-stat-{k}' data-value='{esc(values[k])}'>"
            f"<div class='cl-stat-value'>{esc(shown[k])}</div><div class='cl-stat-label'>{labels[k]}</div></div>"
            for k in labels
        ) + "</div>"

    def _render_items(self, items: list[dict[str, Any]], *, selected_only: bool = False) -> None:
        self._syncing = True
        try:
            self._page_ids = []
            for i, (row, check, meta) in enumerate(self.rows):
                if i < len(items):
                    it = items[i]
                    cid = str(it["id"])
                    title = it.get("title") or cid[:8]
                    check.description = str(title)
                    check.tooltip = f"{title} — {it.get('project_name') or ''}"
                    check.value = cid in self.selected
                    meta.value = (f"{plural(int(it.get('message_count') or 0), 'message')} • "
                                  f"{money(it.get('cost_usd'))}")
                    self._page_ids.append(cid)
                    show(row, True)
                else:
                    self._page_ids.append(None)
                    show(row, False)
        finally:
            self._syncing = False
        pages = max(1, math.ceil(self._listed / PAGE_SIZE))
        what = "selected (Currently Filtered lists them all to pick more)" if selected_only else "matching"
        self.page_label.value = (f"<span class='cl-muted'>Page {self.page + 1} of {pages} • "
                                 f"{self._listed:,} {what}</span>")
        self.prev_btn.disabled = self.page <= 0
        self.next_btn.disabled = self.page >= pages - 1
        if not items:
            empty = ("No conversations are selected: tick them in Currently Filtered." if selected_only
                     else "No conversations match these filters.")
            self.page_label.value = f"<span class='cl-muted'>{empty}</span>"

    # ------------------------------------------------------------ running
    def start(self) -> None:
        from ..exports import ExportOptions, export

        flt = self.export_filter()
        options = ExportOptions(**self.export_options())
        fmt = self.format
        token = CancelToken()
        self._cancel = token
        self.start_btn.disabled = True
        self.cancel_btn.disabled = False
        self.download.value = ""
        self.banner.info(f"Exporting to {fmt.upper()}…")
        self.progress.start("Starting export…")

        def work() -> Any:
            return export(flt, fmt, options=options, progress=self.progress, cancel=token, db=self.db)

        run_in_thread(work, on_done=self._done, on_error=self._failed, on_finally=self._idle,
                      name="claudelens-export")

    def cancel(self) -> None:
        request_cancel(self._cancel, self.cancel_btn, self.banner)

    def _done(self, result: Any) -> None:
        size = human_size(result.size)
        self.progress.finish(
            f"<b>Done</b> • {plural(result.conversations, 'conversation')} • "
            f"{plural(result.messages, 'message')} • {size}")
        label = f"⬇ Download {result.path.name} ({size})"
        self.download.value = download_anchor(result.job_id, result.path, cls="cl-download-link", label=label)
        extra = " (zip" + (", encrypted" if result.encrypted else "") + ")" if result.compressed else ""
        self.banner.ok(f"Exported {plural(result.conversations, 'conversation')} "
                       f"({plural(result.messages, 'message')}, "
                       f"{money(result.total_cost)}) to {result.format.upper()}{extra}: {result.path.name}")

    def _failed(self, exc: BaseException) -> None:
        self.progress.failed(exc, self.banner, what="Export", cancelled="Export cancelled; the partial file was removed.")

    def _idle(self) -> None:
        self._cancel = None
        self.start_btn.disabled = False
        self.cancel_btn.disabled = True
        if self.on_finished:
            self.on_finished()

