"""The Import tab: pick a file, validate, map fields, resolve conflicts, import, undo."""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ipywidgets as w
from pymongo.database import Database

from ..config import settings
from ..progress import CancelToken, Progress
from .dropzone import DropZone
from .jobs import Debouncer, describe_error, guarded, request_cancel, run_in_thread
from .parts import (
    Banner,
    ProgressView,
    button,
    card,
    esc,
    html,
    human_size,
    money,
    plural,
    show,
    when,
)

ALLOWED = (".json", ".jsonl", ".csv", ".zip", ".parquet")
STRATEGIES = ["skip", "replace", "merge"]
STAGES = ["Validating", "Importing", "Processing messages", "Finalizing"]
MAX_CONFLICT_CARDS = 50
UPLOAD_MAX_BYTES = 100 * 1024 * 1024  # one websocket message carries a browser upload


LABELS = {
    "id": "Conversation ID", "external_id": "External ID", "title": "Title", "summary": "Summary",
    "project_id": "Project ID", "project_name": "Project name", "project_path": "Project path",
    "created_at": "Created date", "updated_at": "Updated date", "duration_seconds": "Duration (s)",
    "model": "Model", "cost_usd": "Cost (USD)", "message_count": "Message count", "tags": "Tags",
    "metadata": "Metadata (kept as is)", "messages": "Messages", "branches": "Branches",
    "parent_conversation_id": "Parent conversation ID", "skip": "Skip (leave out)",
}
MESSAGE_LABELS = {"id": "ID", "parent_id": "Parent ID", "timestamp": "Time", "tool_input": "Tool input",
                  "tool_name": "Tool name", "is_sidechain": "Sidechain"}


def _label(target: str) -> str:
    """A target as the dropdown names it: 'Created date', 'Message › Content'."""
    if target.startswith("message."):
        name = target[len("message."):]
        return "Message › " + MESSAGE_LABELS.get(name, LABELS.get(name, name.replace("_", " ").capitalize()))
    return LABELS.get(target, target.replace("_", " ").capitalize())


class ImportProgress(ProgressView):
    """ProgressView plus the stage chips and the `x of N conversations imported` line."""

    children: tuple[Any, ...]  # ipywidgets' trait (ipywidgets ships no types)

    def __init__(self) -> None:
        super().__init__("cl-import-progress")
        self.stages = html("", "cl-import-stages")
        self.children = (self.stages, *self.children)
        self.imported = 0
        self.total: int | None = None

    def reset(self) -> None:
        super().reset()
        if hasattr(self, "stages"):
            self.stages.value = ""

    def describe(self, event: Progress, elapsed: float) -> str:
        idx = STAGES.index(event.stage) if event.stage in STAGES else -1
        self.stages.value = "<div class='cl-stages'>" + "".join(
            f"<span class='cl-stage {'cl-stage-current' if i == idx else 'cl-stage-done' if i < idx else ''}'>"
            f"{'✓ ' if i < idx else ''}{esc(s)}</span>" for i, s in enumerate(STAGES)
        ) + "</div>"
        if event.stage == "Importing":
            self.imported, self.total = event.done, event.total
        line = super().describe(event, elapsed)
        if self.total:
            line += (f"<div class='cl-imported-count'>{self.imported:,} of "
                     f"{plural(self.total, 'conversation')} imported</div>")
        return line


class ImportTab(w.VBox):
    """Everything on the Import tab. `on_finished` is called after an import or an undo."""

    def __init__(self, db: Database, on_finished: Callable[[], None] | None = None) -> None:
        self.db = db
        self.on_finished = on_finished
        self.path: Path | None = None
        self.display_name = ""
        self.uploaded: Path | None = None  # our temp copy, removed after the import
        self.report: Any = None
        self.mapping: dict[str, str] = {}
        self.choices: dict[str, str] = {}
        self.last_job: str | None = None
        self._cancel: CancelToken | None = None
        self._syncing = False
        self._debounce = Debouncer(0.4)
        self.banner = Banner("cl-import-banner")
        guard = guarded(self.banner.error)

        # 1. select a file: dropped on the zone, picked with its button, or a server path
        self.validation = Banner("cl-validation")
        self.dropzone = DropZone(guard(self._save_upload), self.validation.error,
                                 accept=",".join(ALLOWED), max_bytes=UPLOAD_MAX_BYTES)
        drop_box = w.VBox([self.dropzone])
        drop_box.add_class("cl-drop-box")
        atexit.register(self._drop_upload)  # an upload that was never imported
        self.server_path = w.Text(placeholder="…or a path to a file on the server (large files)",
                                  layout=w.Layout(width="auto"))
        self.server_path.add_class("cl-server-path")
        # Sent on Enter (or on leaving the field): an encrypted file is then validated again.
        self.zip_password = w.Password(placeholder="zip password (if encrypted)", continuous_update=False,
                                       layout=w.Layout(width="auto"))
        self.zip_password.add_class("cl-zip-password")
        self.zip_password.observe(guard(lambda _c: self._password_given()), "value")
        self.path_btn = button("Use this file", "cl-use-path")
        self.path_btn.on_click(guard(lambda _b: self.use_server_path()))
        path_row = w.HBox([self.server_path, self.zip_password, self.path_btn])
        path_row.add_class("cl-path-row")

        # 2. review
        self.file_info = Banner("cl-file-info")
        self.mapping_box = w.Box([])
        self.mapping_box.add_class("cl-table")
        self.mapping_box.add_class("cl-mapping")
        self.problems = html("", "cl-problems")
        self.review = card("2. Review Import Data", "Map fields and preview the data to be imported",
                           self.file_info, html("<b>Field Mapping</b>"), self.mapping_box, self.problems,
                           cls="cl-review")

        # 3. conflicts
        self.conflict_head = html("", "cl-conflict-count")
        self.apply_all = w.Checkbox(value=True, description="Apply to all conflicts", indent=False,
                                    layout=w.Layout(width="auto"))
        self.apply_all.add_class("cl-apply-all")
        self.global_strategy = w.ToggleButtons(options=[(s.capitalize(), s) for s in STRATEGIES],
                                               value="skip", style={"button_width": "auto"})
        self.global_strategy.add_class("cl-apply-all-strategy")
        self.global_strategy.observe(guard(self._global_changed), "value")
        apply_row = w.HBox([self.apply_all, self.global_strategy])
        apply_row.add_class("cl-apply-all-row")
        self.conflict_list = w.VBox([])
        self.conflict_list.add_class("cl-conflict-list")
        self.conflicts_card = card("3. Resolve Conflicts", "Choose how to handle duplicate conversations",
                                   self.conflict_head, apply_row, self.conflict_list, cls="cl-conflicts")

        # 4. progress
        self.start_btn = button("⬆ Start Import", "cl-start-import", primary=True, disabled=True)
        self.cancel_btn = button("✕ Cancel", "cl-cancel-import", disabled=True)
        self.undo_btn = button("↶ Undo this import", "cl-undo-import")
        self.start_btn.on_click(guard(lambda _b: self.start()))
        self.cancel_btn.on_click(guard(lambda _b: self.cancel()))
        self.undo_btn.on_click(guard(lambda _b: self.undo()))
        show(self.undo_btn, False)
        self.progress = ImportProgress()
        show(self.progress, False)
        self.result = html("", "cl-import-result")
        actions = w.HBox([self.start_btn, self.cancel_btn, self.undo_btn])
        actions.add_class("cl-actions")

        super().__init__([
            card("1. Select File to Import", "Upload your ClaudeLens export file or a compatible format",
                 drop_box, path_row, self.validation),
            self.review,
            self.conflicts_card,
            card("4. Import Progress", "Stages: Validating → Importing → Processing messages → Finalizing",
                 self.progress, self.result, actions, self.banner),
        ])
        self.add_class("cl-import-tab")
        show(self.review, False)
        show(self.conflicts_card, False)

    # ------------------------------------------------------------ choosing a file
    def _save_upload(self, name: str, content: bytes | memoryview) -> None:
        """Keep an uploaded file in a private temp folder, then validate it.

        It keeps its own name (made safe) in a folder of its own, so that every message about
        it names the file the user picked."""
        self._drop_upload()
        folder = settings().upload_dir
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        private = Path(tempfile.mkdtemp(prefix="upload-", dir=folder))
        target = private / _safe_name(name)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
        self.uploaded = target
        self.dropzone.chosen = f"{name} ({human_size(len(content))})"
        self.choose(target, name)

    def _password_given(self) -> None:
        if self.path is not None and self._cancel is None:
            self.validation.info(f"Checking {self.display_name} with the password…")
            self.validate()

    def use_server_path(self) -> None:
        raw = self.server_path.value.strip()
        if not raw and self.path is not None:  # e.g. an uploaded zip, now with its password
            self.validation.info(f"Validating {self.display_name} again…")
            self.validate()
            return
        if not raw:
            self.validation.error("Drop or choose a file above, or type the path of a file on the server.")
            return
        path = Path(raw).expanduser()
        if not path.exists():  # a file, or a folder (Claude Code projects, a CSV/Parquet export)
            self.validation.error(f"No such file or folder on the server: {raw}")
            return
        self._drop_upload()
        self.dropzone.chosen = ""
        self.choose(path, path.name)

    def choose(self, path: Path, display_name: str) -> None:
        self.path, self.display_name = path, display_name
        self.mapping = {}
        self.choices = {}
        self.report = None
        self.result.value = ""
        show(self.undo_btn, False)
        self.start_btn.disabled = True
        self.validation.info(f"Validating {display_name}…")
        self.validate()

    def _drop_upload(self) -> None:
        if self.uploaded is not None:
            self.dropzone.chosen = ""
            with contextlib.suppress(OSError):
                self.uploaded.unlink()
            with contextlib.suppress(OSError):
                self.uploaded.parent.rmdir()
            self.uploaded = None

    # ------------------------------------------------------------ validation
    def validate(self) -> None:
        from ..imports import validate_file

        path, mapping, name = self.path, dict(self.mapping) or None, self.display_name
        password = self.zip_password.value or None
        if path is None:
            return

        def work() -> Any:
            return validate_file(path, mapping=mapping, password=password, db=self.db, source_name=name)

        def failed(exc: BaseException) -> None:
            self.report = None
            self.start_btn.disabled = True
            show(self.review, False)
            show(self.conflicts_card, False)
            self.validation.error(_failure_text(name, exc))

        run_in_thread(work, on_done=self._validated, on_error=failed, name="claudelens-validate")

    def _validated(self, report: Any) -> None:
        self.report = report
        stats = report.stats
        n_conv = int(_get(stats, "conversations", 0) or 0)
        n_msg = int(_get(stats, "messages", 0) or 0)
        self.file_info.info(
            f"<b>File: {esc(self.display_name)}</b><br>{plural(n_conv, 'conversation')} • "
            f"{plural(n_msg, 'message')} • "
            f"{esc(human_size(report.size))} <span class='cl-muted'>({esc(report.kind)})</span>",
            raw_html=True,
        )
        self._render_mapping(report.mapping)
        self._render_problems(report.errors, report.warnings)
        self._render_conflicts(report.conflicts)
        show(self.review, True)
        self.start_btn.disabled = not report.ok or self._cancel is not None
        if report.ok:
            self.validation.ok(f"✓ {self.display_name} is valid: {plural(n_conv, 'conversation')} ready "
                               "to import" + (f" ({plural(len(report.warnings), 'warning')})"
                                              if report.warnings else ""))
        else:
            first = report.errors[0] if report.errors else "the file cannot be imported"
            more = f" (and {len(report.errors) - 1} more)" if len(report.errors) > 1 else ""
            self.validation.error(_named(self.display_name, f"{first}{more}"))

    def _render_mapping(self, mapping: list[Any]) -> None:
        from ..imports import TARGET_FIELDS

        targets = list(dict.fromkeys([*TARGET_FIELDS, "skip"]))
        cells: list[w.Widget] = [
            html("Source Field", "cl-th"), html("Map To", "cl-th"), html("Sample Data", "cl-th", "cl-th-sample"),
        ]
        self._syncing = True
        try:
            for fm in mapping:
                source, target = str(fm.source), str(fm.target or "skip")
                opts = targets if target in targets else [*targets, target]
                dd = w.Dropdown(options=[(_label(t), t) for t in opts], value=target, layout=w.Layout(width="auto"))
                dd.add_class("cl-map-select")
                dd.add_class(f"cl-map-{_css_id(source)}")
                dd.observe(lambda c, s=source: self._mapping_changed(s, c["new"]), "value")
                samples = ", ".join(_short(s) for s in list(fm.samples or [])[:2])
                cells += [html(f"<code>{esc(source)}</code>", "cl-map-source"), dd,
                          html(esc(samples) or "—", "cl-sample")]
        finally:
            self._syncing = False
        self.mapping_box.children = cells

    def _mapping_changed(self, source: str, target: str) -> None:
        if self._syncing:
            return
        self.mapping[source] = target
        self.validation.info("Re-validating with the new mapping…")
        self._debounce(lambda _gen: self.validate())

    def _render_problems(self, errors: list[Any], warnings: list[Any]) -> None:
        items = [("error", p) for p in errors[:30]] + [("warning", p) for p in warnings[:30]]
        if not items:
            self.problems.value = ""
            return
        more = max(0, len(errors) - 30) + max(0, len(warnings) - 30)
        lis = "".join(f"<li class='cl-problem-{k}'>{'Error' if k == 'error' else 'Warning'}: {esc(p)}</li>"
                      for k, p in items)
        tail = f"<li>…and {more} more</li>" if more else ""
        self.problems.value = f"<b>Errors and warnings</b><ul>{lis}{tail}</ul>"

    # ------------------------------------------------------------ conflicts
    def _render_conflicts(self, conflicts: list[Any]) -> None:
        if not conflicts:
            show(self.conflicts_card, False)
            self.conflict_list.children = []
            return
        n = len(conflicts)
        self.conflict_head.value = (f"<div class='cl-msg-warning'>⚠ Found {n:,} conversation"
                                    f"{'s' if n != 1 else ''} that already exist in your database</div>")
        cards = []
        for c in conflicts[:MAX_CONFLICT_CARDS]:
            cid = str(c.id)
            toggle = w.ToggleButtons(options=[(s.capitalize(), s) for s in STRATEGIES],
                                     value=self.choices.get(cid, self.global_strategy.value),
                                     style={"button_width": "auto"})
            toggle.add_class("cl-conflict-strategy")
            toggle.observe(lambda ch, i=cid: self._choice(i, ch["new"]), "value")
            title = html(f"⇄ {esc(c.title or cid)} <span class='cl-muted'>({esc(cid[:8])})</span>",
                         "cl-conflict-title")
            head = w.HBox([title, toggle])
            head.add_class("cl-conflict-head")
            versions = w.HBox([
                html(_version("Existing Version", c.existing_messages, c.existing_updated, c.existing_cost),
                     "cl-version", "cl-existing"),
                html(_version("Import Version", c.incoming_messages, c.incoming_updated, c.incoming_cost),
                     "cl-version", "cl-incoming"),
            ])
            versions.add_class("cl-versions")
            box = w.VBox([head, versions])
            box.add_class("cl-conflict")
            box.add_class(f"cl-conflict-{_css_id(cid)}")
            cards.append(box)
        if n > MAX_CONFLICT_CARDS:
            cards.append(html(f"<p class='cl-muted'>…and {n - MAX_CONFLICT_CARDS:,} more, which use the "
                              "Apply-to-all choice.</p>"))
        self.conflict_list.children = cards
        show(self.conflicts_card, True)

    def _choice(self, cid: str, strategy: str) -> None:
        if not self._syncing:
            self.choices[cid] = strategy

    def _global_changed(self, change: dict[str, Any]) -> None:
        if not self.apply_all.value:
            return
        self.choices.clear()
        self._syncing = True
        try:
            for box in self.conflict_list.children:
                if isinstance(box, w.VBox):
                    box.children[0].children[1].value = change["new"]
        finally:
            self._syncing = False

    # ------------------------------------------------------------ importing
    def start(self) -> None:
        from ..imports import import_file

        if self.path is None or self.report is None:
            self.banner.error("Choose a valid file first.")
            return
        if not self.report.ok:
            self.banner.error("This file has errors; fix them (or the field mapping) before importing.")
            return
        path, name = self.path, self.display_name
        strategy = self.global_strategy.value
        per = {k: v for k, v in self.choices.items() if v != strategy} or None
        mapping = dict(self.mapping) or None
        password = self.zip_password.value or None
        token = CancelToken()
        self._cancel = token
        self.start_btn.disabled = True
        self.cancel_btn.disabled = False
        show(self.undo_btn, False)
        self.result.value = ""
        self.banner.info(f"Importing {name}…")
        self.progress.start("Preparing import…")

        def work() -> Any:
            return import_file(path, strategy=strategy, per_conversation=per, mapping=mapping,
                               progress=self.progress, cancel=token, password=password, db=self.db,
                               source_name=name)

        run_in_thread(work, on_done=self._done, on_error=self._failed, on_finally=self._idle,
                      name="claudelens-import")

    def cancel(self) -> None:
        request_cancel(self._cancel, self.cancel_btn, self.banner)

    def _done(self, result: Any) -> None:
        self.last_job = result.job_id
        counts = {k: int(getattr(result, k, 0) or 0) for k in ("inserted", "replaced", "merged", "skipped", "failed")}
        handled = sum(counts.values()) - counts["failed"]
        total = self.progress.total or sum(counts.values())
        self.progress.stages.value = "<div class='cl-stages'>" + "".join(
            f"<span class='cl-stage cl-stage-done'>✓ {esc(s)}</span>" for s in STAGES) + "</div>"
        self.progress.finish(f"<b>Done</b> • <span class='cl-imported-count'>{handled:,} of "
                             f"{plural(total, 'conversation')} imported</span>")
        self.result.value = "<div class='cl-summary'>" + "".join(
            f"<div class='cl-stat cl-result-{k}' data-value='{v}'><div class='cl-stat-value'>{v:,}</div>"
            f"<div class='cl-stat-label'>{k.capitalize()}</div></div>" for k, v in counts.items()
        ) + "</div>"
        errs = list(getattr(result, "errors", []) or [])
        msg = (f"Import finished: {counts['inserted']:,} inserted, {counts['replaced']:,} replaced, "
               f"{counts['merged']:,} merged, {counts['skipped']:,} skipped, {counts['failed']:,} failed "
               f"({plural(int(getattr(result, 'messages_written', 0) or 0), 'message')} written).")
        if errs:
            self.banner.warning(msg + " First problem: " + str(errs[0]))
        else:
            self.banner.ok(msg)
        show(self.undo_btn, True)
        self.undo_btn.disabled = False

    def _failed(self, exc: BaseException) -> None:
        self.progress.failed(exc, self.banner, what="Import", cancelled="Import cancelled.")

    def _idle(self) -> None:
        self._cancel = None
        self.cancel_btn.disabled = True
        if self.uploaded is not None:
            self._drop_upload()
            self.path = None
        self.start_btn.disabled = True  # choose the file again to import it again
        if self.on_finished:
            self.on_finished()

    def undo(self) -> None:
        from ..imports import undo_import
        from ..imports.undo import undo_summary

        if not self.last_job:
            return
        job = self.last_job
        self.undo_btn.disabled = True

        def done(counts: Any) -> None:
            self.banner.ok(f"Import undone: {undo_summary(counts)}.")
            show(self.undo_btn, False)
            self.last_job = None
            if self.on_finished:
                self.on_finished()

        def failed(exc: BaseException) -> None:
            self.undo_btn.disabled = False
            self.banner.error(f"Undo failed: {describe_error(exc)}")

        run_in_thread(lambda: undo_import(job, db=self.db), on_done=done, on_error=failed, name="claudelens-undo")


def _safe_name(name: str) -> str:
    """An uploaded file's own name, fit to be a file name here (no folders, no odd characters)."""
    base = re.sub(r"[^\w.\-() ]", "_", Path(name.replace("\\", "/")).name).strip(". ") or "upload"
    stem, ext = os.path.splitext(base)
    return stem[:120] + ext[:16]  # a private folder, mode 0600: the name is only ever read


def _named(name: str, text: str) -> str:
    """'✗ name: text', without repeating the name when the text starts with it."""
    return f"✗ {text}" if text.startswith(f"{name}:") or text.startswith(f"{name} ") else f"✗ {name}: {text}"


def _failure_text(name: str, exc: BaseException) -> str:
    from ..errors import ErrorCode

    code = getattr(exc, "code", None)
    if code == ErrorCode.PASSWORD_REQUIRED:
        return f"✗ {name} is encrypted: type its password in the zip password field and press Enter."
    if code == ErrorCode.WRONG_PASSWORD:
        return f"✗ Wrong password for {name}: type it again and press Enter."
    return _named(name, describe_error(exc))


def _get(obj: Any, key: str, default: Any = None) -> Any:
    if isinstance(obj, dict):
        return obj.get(key, default)
    return getattr(obj, key, default)


def _short(value: Any, n: int = 40) -> str:
    if isinstance(value, list):
        return f"[Array: {len(value)} items]"
    if isinstance(value, dict):
        return "{…}"
    text = str(value)
    return text if len(text) <= n else text[: n - 1] + "…"


def _css_id(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in text)[:60]


def _version(title: str, messages: Any, updated: Any, cost: Any) -> str:
    return (f"<b>{esc(title)}</b><br>Messages: {esc(messages if messages is not None else '—')}<br>"
            f"Last Updated: {esc(when(updated))}<br>Cost: {esc(money(cost))}")

