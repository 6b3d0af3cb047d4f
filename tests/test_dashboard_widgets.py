"""Dashboard widgets in-process on a real database: selection follows the ticks, the history
says what each export is (names, progress, why no download, page totals, delete asks first),
counts read as words ("1 conversation"), and multi-choice pickers show all their choices."""

from __future__ import annotations

from pathlib import Path

import pytest

from claudelens_nb.errors import Cancelled
from claudelens_nb.exports import export
from claudelens_nb.progress import CancelToken
from claudelens_nb.ui.parts import plural
from tests.conftest import wait_until as _wait


@pytest.fixture()
def app(seeded_db, monkeypatch):
    from claudelens_nb.ui import ImportExportApp

    monkeypatch.delenv("CLAUDELENS_DASHBOARD_SECRET", raising=False)
    a = ImportExportApp(db=seeded_db)
    _wait(lambda: "data-value" in a.export_tab.stats.value and a.export_tab.models.options)
    return a


def _listed(tab) -> list[str]:
    return [c.description for row, c, _ in tab.rows if "cl-hidden" not in row._dom_classes]


def test_ticking_selects_only_those_and_the_list_then_shows_them(app):
    tab = app.export_tab
    assert tab.mode.value == "all" and len(_listed(tab)) == 8
    first, second = tab.rows[0][1], tab.rows[3][1]
    titles = {first.description, second.description}
    first.value = True
    assert tab.mode.value == "selected"  # the export follows the ticks
    second.value = True
    assert len(_listed(tab)) == 8  # still the picker while ticking
    _wait(lambda: "cl-stat-conversations' data-value='2'" in tab.stats.value)
    tab._go_page(0)  # listed again: only the selected ones
    _wait(lambda: len(_listed(tab)) == 2)
    assert set(_listed(tab)) == titles
    assert "2 selected" in tab.page_label.value
    tab.mode.value = "filtered"
    _wait(lambda: len(_listed(tab)) == 8)
    assert tab.mode.options[2][0] == "Selected Only (2)"


def test_multi_choice_pickers_show_every_choice(app):
    tab = app.export_tab
    for picker in (tab.tags, tab.types, tab.projects, tab.models):
        assert picker.rows == min(len(picker.options), 8) or picker.rows == 2
    assert tab.types.rows == len(tab.types.options) == 6


def test_words_for_counts():
    assert plural(1, "conversation") == "1 conversation"
    assert plural(0, "conversation") == "0 conversations"
    assert plural(1200, "message") == "1,200 messages"


def _export_rows(history) -> list[list[str]]:
    """The export table's cells as text, a row of six per job."""
    cells = list(history.exports.children)[6:]  # after the header
    text = [getattr(c, "value", "") for c in cells]
    return [text[i:i + 6] for i in range(0, len(text) - 5, 6)]


def test_history_names_formats_shows_progress_reasons_and_totals(app, seeded_db, tmp_path):
    export(None, "markdown", db=seeded_db)
    export(None, "json", tmp_path / "elsewhere.json", db=seeded_db)
    token = CancelToken()

    def stop_at_seven(event) -> None:
        if event.stage == "Exporting" and event.done >= 7:
            token.cancel()

    with pytest.raises(Cancelled):
        export(None, "pdf", progress=stop_at_seven, cancel=token, db=seeded_db)
    history = app.history
    history.refresh()
    _wait(lambda: len(history.exports.children) >= 6 + 3 * 6)
    rows = _export_rows(history)
    assert len(rows) == 3
    cancelled, elsewhere, markdown = rows
    assert cancelled[1].endswith(">PDF") and cancelled[2].endswith(">7 of 20")
    assert "Cancelled" in cancelled[4]
    assert markdown[1].endswith(">Markdown") and markdown[2].endswith(">20")
    actions = history.exports.children[6 + 6 + 5]  # the second row's actions
    text = " ".join(getattr(w, "value", "") for box in actions.children
                    for w in getattr(box, "children", [box]))
    assert "Not served" in text and "written outside the export folder" in text
    assert str(tmp_path / "elsewhere.json") in text
    assert history.export_label.value == "Page 1 of 1 · 3 exports"
    assert history.import_label.value == "Page 1 of 1 · 0 imports"


def test_deleting_an_export_asks_first(app, seeded_db):
    res = export(None, "jsonl", db=seeded_db)
    history = app.history
    history.refresh()
    _wait(lambda: len(history.exports.children) == 12)
    box = history.exports.children[11].children[0]
    delete = box.children[1]
    delete.click()
    assert Path(res.path).exists()  # nothing deleted yet
    texts = [getattr(w, "value", getattr(w, "description", "")) for w in box.children]
    assert "Delete this export and its file?" in texts[0] and texts[1:] == ["Delete", "Keep"]
    box.children[2].click()  # Keep
    assert box.children[1] is delete and Path(res.path).exists()
    delete.click()
    box.children[1].click()  # confirm
    _wait(lambda: not Path(res.path).exists())
    _wait(lambda: "Deleted export" in history.banner.value)
