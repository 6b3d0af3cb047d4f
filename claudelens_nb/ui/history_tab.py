"""The History tab: past exports (download / delete) and imports (undo), newest first, paged."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import ipywidgets as w
from pymongo.database import Database

from ..config import settings
from .jobs import describe_error, guarded, run_in_thread
from .parts import Banner, as_utc, button, card, download_anchor, esc, html, human_size, when

PAGE_SIZE = 10
STATUS_LABELS = {
    "completed": "✓ Complete", "failed": "✗ Failed", "cancelled": "⊘ Cancelled", "expired": "⚠ Expired",
    "running": "… Running", "queued": "… Queued", "undone": "↶ Undone",
}


EXPORT_COLUMNS = ("Date", "Format", "Conversations", "Size", "Status", "Actions")
IMPORT_COLUMNS = ("Date", "File", "Result", "Status", "Actions")
# Why a finished export cannot be downloaded here, by error code: (short label, reason).
UNAVAILABLE = {
    "INSUFFICIENT_PERMISSIONS": ("Not served", "written outside the export folder, so not served"),
    "FILE_NOT_FOUND": ("File missing", "the file was moved or deleted outside the dashboard"),
    "EXPORT_EXPIRED": ("Expired", "past the retention period; the file was removed"),
}


def format_name(fmt: Any) -> str:
    from .export_tab import FORMAT_NAMES

    return FORMAT_NAMES.get(str(fmt or ""), str(fmt or "—"))


def _conversations(job: dict[str, Any], status: str) -> str:
    """Finished: how many were written; running or stopped: how far it got, of how many."""
    progress = job.get("progress") or {}
    if status in ("running", "queued", "cancelled", "failed") and progress.get("total"):
        done = int(progress.get("done") or 0) if progress.get("stage") != "Counting" else 0
        return f"{done:,} of {int(progress['total']):,}"
    if job.get("conversations") is not None and status in ("completed", "expired"):
        return f"{int(job['conversations']):,}"
    return "—"


def _cell(label: str, body: str, *classes: str, first: bool = False) -> w.HTML:
    """A table cell; on a narrow window the table becomes one card per row, each cell labelled."""
    cell = html(f"<span class='cl-cell-label'>{esc(label)}</span>{body}", "cl-cell", *classes)
    if first:
        cell.add_class("cl-row-first")
    return cell


def _page_text(page: int, total: int, what: str) -> str:
    pages = max(1, -(-total // PAGE_SIZE))
    return f"Page {page + 1} of {pages} · {total:,} {what}{'' if total == 1 else 's'}"


def _status(job: dict[str, Any]) -> str:
    status = str(job.get("status") or "")
    expires = as_utc(job.get("expires_at"))
    if status == "completed" and expires is not None and expires <= datetime.now(UTC):
        return "expired"
    return status


class HistoryTab(w.VBox):
    """Export and import history; `on_changed` is called after an undo here."""

    def __init__(self, db: Database, on_changed: Any = None) -> None:
        self.db = db
        self.on_changed = on_changed
        self.export_page = 0
        self.import_page = 0
        self._export_total = self._import_total = 0
        self._confirming: set[str] = set()  # exports whose Delete waits for its confirmation
        self._boxes: dict[str, w.HBox] = {}  # the action boxes shown, by job id
        self._pending_boxes: dict[str, w.HBox] = {}  # those of the table being built
        self._render_lock = threading.RLock()
        self._load_lock = threading.Lock()  # one refresh at a time
        self.banner = Banner("cl-history-banner")
        guard = guarded(self.banner.error)

        self.exports = w.Box([])
        self.exports.add_class("cl-table")
        self.exports.add_class("cl-history-table")
        self.imports = w.Box([])
        self.imports.add_class("cl-table")
        self.imports.add_class("cl-import-table")
        self.export_pager, self.export_label = self._pager("export", guard)
        self.import_pager, self.import_label = self._pager("import", guard)
        refresh = button("↻ Refresh", "cl-history-refresh")
        refresh.on_click(guard(lambda _b: self.refresh()))
        days = settings().retention_days
        note = html(f"<div class='cl-note'><b>Note:</b> Export files are available for download for {days} days. "
                    "After that, you'll need to create a new export.</div>")
        super().__init__([
            card("Export History", "View and download your previous exports",
                 self.exports, self.export_pager, note, cls="cl-export-history"),
            card("Import History", "Imports into this database; undo removes what an import added",
                 self.imports, self.import_pager, cls="cl-import-history"),
            w.HBox([refresh]), self.banner,
        ])
        self.add_class("cl-history-tab")

    def _pager(self, which: str, guard: Any) -> tuple[w.HBox, w.HTML]:
        prev = button("‹ Newer", f"cl-{which}-newer")
        nxt = button("Older ›", f"cl-{which}-older")
        label = html("", "cl-muted")
        prev.on_click(guard(lambda _b: self._turn(which, -1)))
        nxt.on_click(guard(lambda _b: self._turn(which, +1)))
        box = w.HBox([prev, label, nxt])
        box.add_class("cl-pager")
        return box, label

    def _turn(self, which: str, step: int) -> None:
        if which == "export":
            self.export_page = max(0, self.export_page + step)
        else:
            self.import_page = max(0, self.import_page + step)
        self.refresh()

    # ------------------------------------------------------------ loading
    def refresh(self) -> None:
        """Reload both tables (in a worker thread)."""
        run_in_thread(self._load, on_error=lambda e: self.banner.error(describe_error(e)),
                      name="claudelens-history")

    def _load(self) -> None:
        with self._load_lock:
            self._load_once()

    def _load_once(self) -> None:
        from ..exports import history
        from ..exports.jobs import history_count
        from ..imports import import_history
        from ..imports.jobs import import_history_count

        self._export_total = history_count(db=self.db)
        exports = history(page=self.export_page, page_size=PAGE_SIZE + 1, db=self.db)
        if not exports and self.export_page:
            self.export_page -= 1
            exports = history(page=self.export_page, page_size=PAGE_SIZE + 1, db=self.db)
        self._render_exports(exports[:PAGE_SIZE], more=len(exports) > PAGE_SIZE)
        try:
            self._import_total = import_history_count(db=self.db)
            imports = import_history(page=self.import_page, page_size=PAGE_SIZE + 1, db=self.db)
        except Exception as exc:
            self.imports.children = [html(f"<div class='cl-msg-error'>{esc(describe_error(exc))}</div>")]
            return
        self._render_imports(imports[:PAGE_SIZE], more=len(imports) > PAGE_SIZE)

    def _render_exports(self, jobs: list[dict[str, Any]], more: bool) -> None:
        cells: list[w.Widget] = [html(h, "cl-th") for h in EXPORT_COLUMNS]
        for job in jobs:
            status = _status(job)
            size = job.get("size")
            cells += [
                _cell("Date", esc(when(job.get("created_at"))), "cl-export-date", first=True),
                _cell("Format", esc(format_name(job.get("format"))), "cl-export-format"),
                _cell("Conversations", esc(_conversations(job, status)), "cl-export-count"),
                _cell("Size", esc(human_size(size) if size else "—"), "cl-export-size"),
                _cell("Status", f"<span class='cl-status-{esc(status)}' title='{esc(job.get('error') or '')}'>"
                      f"{esc(STATUS_LABELS.get(status, status))}</span>", "cl-export-status"),
                self._export_actions(job, status),
            ]
        if not jobs:
            cells.append(html("<span class='cl-muted'>No exports yet.</span>", "cl-table-empty"))
        with self._render_lock:  # rows still asking "Delete?" keep asking
            boxes, self._pending_boxes = self._pending_boxes, {}
            for job_id in self._confirming & set(boxes):
                self._ask(job_id, boxes[job_id])
            self.exports.children = cells
            self._boxes = boxes
        self.export_label.value = _page_text(self.export_page, self._export_total, "export")
        self.export_pager.children[0].disabled = self.export_page == 0
        self.export_pager.children[2].disabled = not more

    def _export_actions(self, job: dict[str, Any], status: str) -> w.Box:
        from ..errors import ClaudeLensError, ErrorCode
        from ..exports import export_file_path

        job_id = str(job.get("job_id"))
        reason = ""
        if status == "completed":
            try:
                path = export_file_path(job_id, db=self.db)
                link = html(download_anchor(job_id, path, cls="cl-history-download", label="Download"))
            except ClaudeLensError as exc:
                label, reason = UNAVAILABLE.get(exc.code, ("Unavailable", str(exc)))
                if exc.code == ErrorCode.INSUFFICIENT_PERMISSIONS:
                    from ..exports.jobs import get_job

                    reason = f"{reason}: {get_job(job_id, db=self.db).get('path')}"
                link = html(f"<span class='cl-disabled-link' title='{esc(reason)}'>{esc(label)}</span>")
        else:
            label = {"expired": "Expired", "running": "Running…", "queued": "Queued"}.get(status, "No file")
            link = html(f"<span class='cl-disabled-link'>{esc(label)}</span>")
        delete = button("Delete", "cl-history-delete", tooltip=f"Delete export {job_id[:8]}")
        delete.add_class("mod-danger")
        box = w.HBox([link, delete])
        box.add_class("cl-row-actions")
        delete.on_click(guarded(self.banner.error)(lambda _b, j=job_id: self._confirm_delete(j)))
        self._pending_boxes[job_id] = box
        cell = w.VBox([box, *([html(esc(reason), "cl-unavailable-reason")] if reason else [])])
        cell.add_class("cl-actions-cell")
        cell.add_class(f"cl-job-{job_id}")
        return cell

    def _confirm_delete(self, job_id: str) -> None:
        """Deleting takes a second click: the row asks first (on the row shown now, even when
        the table was being refreshed as Delete was clicked)."""
        with self._render_lock:
            self._confirming.add(job_id)
            box = self._boxes.get(job_id)
            if box is not None:
                self._ask(job_id, box)

    def _ask(self, job_id: str, box: w.HBox) -> None:
        previous = box.children
        question = html("<span class='cl-confirm-text'>Delete this export and its file?</span>")
        confirm = button("Delete", "cl-history-delete-confirm", tooltip=f"Delete export {job_id[:8]} and its file")
        confirm.add_class("mod-danger")
        keep = button("Keep", "cl-history-delete-cancel")
        confirm.on_click(guarded(self.banner.error)(lambda _b: self.delete(job_id)))
        def keep_it(_b: Any) -> None:
            with self._render_lock:
                self._confirming.discard(job_id)
            box.children = previous

        keep.on_click(keep_it)
        box.children = (question, confirm, keep)

    def _render_imports(self, jobs: list[dict[str, Any]], more: bool) -> None:
        cells: list[w.Widget] = [html(h, "cl-th") for h in IMPORT_COLUMNS]
        for job in jobs:
            status = str(job.get("status") or "")
            tally = job.get("counts") or {}
            counts = ", ".join(f"{int(tally.get(k) or 0):,} {k}" for k in
                               ("inserted", "replaced", "merged", "skipped", "failed") if tally.get(k))
            name = job.get("source_name") or job.get("file_name") or "—"
            job_id = str(job.get("job_id"))
            undo = button("Undo", "cl-history-undo", tooltip=f"Undo import {job_id[:8]}")
            undo.disabled = status in ("undone", "running", "dry_run") or bool(job.get("undone_at"))
            undo.on_click(guarded(self.banner.error)(lambda _b, j=job_id: self.undo(j)))
            actions = w.HBox([undo])
            actions.add_class("cl-row-actions")
            actions.add_class(f"cl-job-{job_id}")
            cells += [
                _cell("Date", esc(when(job.get("created_at"))), first=True),
                _cell("File", esc(name), "cl-import-name"),
                _cell("Result", esc(counts or "nothing written")),
                _cell("Status", f"<span class='cl-status-{esc(status)}'>"
                      f"{esc(STATUS_LABELS.get(status, status))}</span>", "cl-import-status"),
                actions,
            ]
        if not jobs:
            cells.append(html("<span class='cl-muted'>No imports yet.</span>", "cl-table-empty"))
        self.imports.children = cells
        self.import_label.value = _page_text(self.import_page, self._import_total, "import")
        self.import_pager.children[0].disabled = self.import_page == 0
        self.import_pager.children[2].disabled = not more

    # ------------------------------------------------------------ actions
    def delete(self, job_id: str) -> None:
        from ..exports import delete_export

        with self._render_lock:
            self._confirming.discard(job_id)
        if delete_export(job_id, db=self.db):
            self.banner.ok(f"Deleted export {job_id[:8]} and its file.")
        else:
            self.banner.warning(f"Export {job_id[:8]} was already gone.")
        self.refresh()

    def undo(self, job_id: str) -> None:
        from ..imports import undo_import
        from ..imports.undo import undo_summary

        def done(counts: Any) -> None:
            self.banner.ok(f"Import {job_id[:8]} undone: {undo_summary(counts)}.")
            self.refresh()
            if self.on_changed:
                self.on_changed()

        self.banner.info(f"Undoing import {job_id[:8]}…")
        run_in_thread(lambda: undo_import(job_id, db=self.db), on_done=done,
                      on_error=lambda e: self.banner.error(f"Undo failed: {describe_error(e)}"),
                      name="claudelens-undo")



