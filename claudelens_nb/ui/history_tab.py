"""The History tab: past exports (download / delete) and imports (undo), newest first, paged."""

from __future__ import annotations

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
        from ..export import history
        from ..imports import import_history

        exports = history(page=self.export_page, page_size=PAGE_SIZE + 1, db=self.db)
        if not exports and self.export_page:
            self.export_page -= 1
            exports = history(page=self.export_page, page_size=PAGE_SIZE + 1, db=self.db)
        self._render_exports(exports[:PAGE_SIZE], more=len(exports) > PAGE_SIZE)
        try:
            imports = import_history(page=self.import_page, page_size=PAGE_SIZE + 1, db=self.db)
        except Exception as exc:
            self.imports.children = [html(f"<div class='cl-msg-error'>{esc(describe_error(exc))}</div>")]
            return
        self._render_imports(imports[:PAGE_SIZE], more=len(imports) > PAGE_SIZE)

    def _render_exports(self, jobs: list[dict[str, Any]], more: bool) -> None:
        cells: list[w.Widget] = [html(h, "cl-th") for h in
                                 ("Date", "Format", "Conversations", "Size", "Status", "Actions")]
        for job in jobs:
            status = _status(job)
            cells += [
                html(esc(when(job.get("created_at"))), "cl-export-date"),
                html(esc(str(job.get("format") or "").upper()), "cl-export-format"),
                html(f"{int(job.get('conversations') or 0):,}"),
                html(esc(human_size(job.get("size")) if job.get("size") else "—")),
                html(f"<span class='cl-status-{status}' title='{esc(job.get('error') or '')}'>"
                     f"{esc(STATUS_LABELS.get(status, status))}</span>", "cl-export-status"),
                self._export_actions(job, status),
            ]
        if not jobs:
            cells.append(html("<span class='cl-muted'>No exports yet.</span>"))
        self.exports.children = cells
        self.export_label.value = f"Page {self.export_page + 1}"
        self.export_pager.children[0].disabled = self.export_page == 0
        self.export_pager.children[2].disabled = not more

    def _export_actions(self, job: dict[str, Any], status: str) -> w.HBox:
        from ..export import export_file_path

        job_id = str(job.get("job_id"))
        link = html("<span class='cl-disabled-link'>Expired</span>" if status == "expired" else
                    "<span class='cl-disabled-link'>Download</span>")
        if status == "completed":
            try:
                path = export_file_path(job_id, db=self.db)
                link = html(download_anchor(job_id, path, cls="cl-history-download", label="Download"))
            except Exception:
                link = html("<span class='cl-disabled-link'>Unavailable</span>")
        delete = button("Delete", "cl-history-delete", tooltip=f"Delete export {job_id[:8]}")
        delete.add_class("mod-danger")
        delete.on_click(guarded(self.banner.error)(lambda _b, j=job_id: self.delete(j)))
        box = w.HBox([link, delete])
        box.add_class("cl-row-actions")
        box.add_class(f"cl-job-{job_id}")
        return box

    def _render_imports(self, jobs: list[dict[str, Any]], more: bool) -> None:
        cells: list[w.Widget] = [html(h, "cl-th") for h in ("Date", "File", "Result", "Status", "Actions")]
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
                html(esc(when(job.get("created_at")))), html(esc(name), "cl-import-name"),
                html(esc(counts or "nothing written")),
                html(f"<span class='cl-status-{esc(status)}'>{esc(STATUS_LABELS.get(status, status))}</span>",
                     "cl-import-status"),
                actions,
            ]
        if not jobs:
            cells.append(html("<span class='cl-muted'>No imports yet.</span>"))
        self.imports.children = cells
        self.import_label.value = f"Page {self.import_page + 1}"
        self.import_pager.children[0].disabled = self.import_page == 0
        self.import_pager.children[2].disabled = not more

    # ------------------------------------------------------------ actions
    def delete(self, job_id: str) -> None:
        from ..export import delete_export

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



