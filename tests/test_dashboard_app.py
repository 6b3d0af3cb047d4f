"""The dashboard without a browser: serving pieces (signed links, offline template, CLI) and the
widgets driven in-process against a real database."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from claudelens_nb import dashboard
from claudelens_nb.cli import build_parser
from claudelens_nb.store import collections as names
from tests.conftest import wait_until as _wait


def test_signed_download_links(monkeypatch):
    monkeypatch.delenv(dashboard.ENV_SECRET, raising=False)
    assert dashboard.download_url("job1") is None  # a plain notebook has no download route
    monkeypatch.setenv(dashboard.ENV_SECRET, "s3cret")
    url = dashboard.download_url("job1")
    assert url.startswith("/cl-download/job1?expires=")
    query = dict(p.split("=") for p in url.split("?")[1].split("&"))
    assert dashboard.verify_link("job1", query["expires"], query["sig"])
    assert not dashboard.verify_link("job2", query["expires"], query["sig"])
    assert not dashboard.verify_link("job1", str(int(query["expires"]) + 1), query["sig"])
    old = dashboard.download_url("job1", now=time.time() - 2 * dashboard.LINK_LIFETIME_S)
    q2 = dict(p.split("=") for p in old.split("?")[1].split("&"))
    assert not dashboard.verify_link("job1", q2["expires"], q2["sig"])
    assert not dashboard.verify_link("job1", "abc", query["sig"])


def test_page_template_loads_nothing_from_the_network(tmp_path):
    root = dashboard.install_template(tmp_path)
    page = (root / "voila" / "templates" / "claudelens" / "index.html.j2").read_text()
    assert "cdn.jsdelivr.net" not in page and "fontawesome" not in page
    assert "{%- block body_loop -%}" in page
    assert (root / "voila" / "templates" / "claudelens" / "conf.json").is_file()


def test_cli_has_the_dashboard_verb():
    args = build_parser().parse_args(["dashboard", "--port", "9999", "--no-demo", "--host", "127.0.0.1"])
    assert (args.port, args.no_demo, args.host) == (9999, True, "127.0.0.1")
    assert build_parser().parse_args(["dashboard"]).port == dashboard.DEFAULT_PORT


def test_prepare_seeds_an_empty_database_once_and_exports_settings(db, monkeypatch):
    monkeypatch.delenv(dashboard.ENV_SECRET, raising=False)
    uri = os.environ["CLAUDELENS_MONGODB_URI"]
    real, name, seeded = dashboard.prepare(uri, demo=True)
    assert (real, name) == (uri, db.name) and seeded
    assert db[names.SESSIONS].count_documents({}) == 20
    assert dashboard.prepare(uri, demo=True)[2] is None  # not on the second run
    assert os.environ[dashboard.ENV_SECRET]
    assert os.environ["CLAUDELENS_DB"] == db.name


def test_prepare_without_demo_leaves_the_database_empty(db):
    assert dashboard.prepare(os.environ["CLAUDELENS_MONGODB_URI"], demo=False)[2] is None
    assert db[names.SESSIONS].count_documents({}) == 0


def test_serving_elsewhere_than_localhost_prints_a_warning_and_the_url(db, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "claudelens_nb.cli", "dashboard", "--host", "127.0.0.2", "--port", str(port),
         "--no-demo"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy(),
        start_new_session=True,
    )
    try:
        line = proc.stdout.readline()
        while line and "ClaudeLens dashboard:" not in line:
            line = proc.stdout.readline()
        assert f"http://127.0.0.2:{port}/" in line
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert "WARNING: serving on 127.0.0.2" in err


# ---------------------------------------------------------------- widgets in-process

@pytest.fixture()
def app(seeded_db):
    from claudelens_nb.ui import ImportExportApp

    a = ImportExportApp(db=seeded_db)
    assert a.tabs is not None, a.banner.value
    _wait(lambda: "data-value" in a.export_tab.stats.value and a.export_tab.models.options)
    return a


def test_app_builds_with_preview_and_pickers_from_the_database(app, seeded_db):
    tab = app.export_tab
    _wait(lambda: len(tab.projects.options) > 0)
    assert "data-value='20'" in tab.stats.value
    assert "data-value='600'" in tab.stats.value
    assert set(tab.projects.options) == {p["name"] for p in seeded_db[names.PROJECTS].find()}
    assert tab.mode.options[0][0] == "All Conversations (20)"
    assert sum(1 for _, c, _ in tab.rows if c.description) == 8


def test_selection_counts_and_selected_only_export(app, monkeypatch, tmp_path):
    monkeypatch.delenv(dashboard.ENV_SECRET, raising=False)
    tab = app.export_tab
    tab.rows[0][1].value = True
    tab.rows[1][1].value = True
    assert len(tab.selected) == 2
    assert tab.mode.options[2][0] == "Selected Only (2)"
    tab.mode.value = "selected"
    _wait(lambda: "cl-stat-conversations' data-value='2'" in tab.stats.value)
    tab.choose_format("jsonl")
    tab.start()
    _wait(lambda: "cl-msg-ok" in tab.banner.value)
    assert "Exported 2 conversations" in tab.banner.value
    # In a plain notebook the file comes as a data: URI (no dashboard server to stream it).
    assert "href='data:application/octet-stream;base64," in tab.download.value


def test_failures_become_red_banners(app, monkeypatch):
    tab = app.export_tab
    tab.mode.value = "selected"
    tab.select_none()
    tab.start_btn.click()
    assert "cl-msg-error" in tab.banner.value and "no conversations are selected" in tab.banner.value
    tab.mode.value = "filtered"
    tab.min_cost.value = "abc"
    _wait(lambda: "cl-msg-error" in tab.preview_note.value)
    assert "not a number" in tab.preview_note.value
    imp = app.import_tab
    imp.server_path.value = "/nonexistent/file.json"
    imp.path_btn.click()
    assert "No such file" in imp.validation.value


def test_an_unreachable_database_shows_a_banner(monkeypatch):
    from claudelens_nb.ui import ImportExportApp

    monkeypatch.setenv("CLAUDELENS_MONGODB_URI", "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=300")
    a = ImportExportApp()
    assert a.tabs is None
    assert "could not start" in a.banner.value and "cl-msg-error" in a.banner.value


def test_import_from_a_server_path_in_process(app, seeded_db, tmp_path, monkeypatch):
    from claudelens_nb.exports import export

    src = export(None, "json", path=tmp_path / "again.json", db=seeded_db)
    imp = app.import_tab
    imp.server_path.value = str(src.path)
    imp.path_btn.click()
    _wait(lambda: "cl-msg-ok" in imp.validation.value)
    assert "20 conversations" in imp.file_info.value
    assert not imp.start_btn.disabled
    imp.start()
    _wait(lambda: "Import finished" in imp.banner.value)
    assert "20 skipped" in imp.banner.value
    assert Path(src.path).exists()  # a server-side file is never removed


def test_changing_a_field_mapping_revalidates(app, seeded_db, tmp_path):
    from claudelens_nb.exports import export

    src = export(None, "json", path=tmp_path / "map.json", db=seeded_db)
    imp = app.import_tab
    imp.server_path.value = str(src.path)
    imp.path_btn.click()
    _wait(lambda: "cl-msg-ok" in imp.validation.value)
    first_report = imp.report
    dropdowns = [c for c in imp.mapping_box.children if "cl-map-title" in c._dom_classes]
    assert dropdowns and dropdowns[0].value == "title"  # the smart default
    dropdowns[0].value = "skip"
    assert imp.mapping == {"title": "skip"}
    _wait(lambda: imp.report is not first_report and "cl-msg-ok" in imp.validation.value)
    targets = {m.source: m.target for m in imp.report.mapping}
    assert targets["title"] == "skip"


def test_export_options_reach_the_engine(app, monkeypatch):
    import pyzipper

    monkeypatch.delenv(dashboard.ENV_SECRET, raising=False)
    tab = app.export_tab
    tab.choose_format("json")
    tab.opt["include_tool_calls"].value = False
    tab.password.value = "pw-123"
    assert tab.export_options()["compress"] is True  # a password implies a zip
    tab.start()
    _wait(lambda: "cl-msg-ok" in tab.banner.value or "cl-msg-error" in tab.banner.value)
    assert "(zip, encrypted)" in tab.banner.value, tab.banner.value
    from claudelens_nb.exports import export_file_path, history

    path = export_file_path(history(db=app.db)[0]["job_id"], db=app.db)
    with pyzipper.AESZipFile(path) as z:
        z.setpassword(b"pw-123")
        name = next(n for n in z.namelist() if n.endswith(".json") and n != "manifest.json")
        data = json.loads(z.read(name))
    types = {m["type"] for c in data["conversations"] for m in c["messages"]}
    assert types and not types & {"tool_use", "tool_result"}
