"""Dashboard behaviour in headless Chromium: cancel, two tabs at once, history delete/expiry,
download links, dark mode, narrow windows, and a screenshot of every tab in both themes."""

from __future__ import annotations

import os
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from e2e.fixtures import *  # noqa: F403
from e2e.harness import background, banner, download, open_app, screenshot, tab, upload

from claudelens_nb.exports import export
from claudelens_nb.store import collections as names

E2E_SESSIONS = 40  # enough for a PDF export that runs long enough to cancel

DARK_BG = "rgb(15, 23, 42)"
LIGHT_BG = "rgb(255, 255, 255)"


def _jobs(db, **query):
    return list(db[names.EXPORT_JOBS].find(query))


def test_cancel_a_long_export_within_a_second_or_so(app_page, e2e_db):
    page, db = app_page, e2e_db.db
    tab(page, "Export Data")
    page.click(".cl-format-pdf")
    page.click(".cl-start-export")
    page.wait_for_selector(".cl-export-progress .cl-progress-text:has-text('/ 40')", timeout=60_000)
    assert not page.is_disabled(".cl-cancel-export")
    # "Cancelling…" can be replaced by the final banner within one frame, so the page
    # records every banner text it shows (with its time) rather than the test polling.
    page_t0 = page.evaluate("""() => {
        const el = document.querySelector('.cl-export-banner');
        window.__bannerLog = [];
        new MutationObserver(() => window.__bannerLog.push([performance.now(), el.innerText]))
            .observe(el, {subtree: true, childList: true, characterData: true});
        return performance.now();
    }""")
    t0 = time.monotonic()
    page.click(".cl-cancel-export")
    text = banner(page, "cl-export-banner", "warning", contains="cancelled")
    elapsed = time.monotonic() - t0
    shown = page.evaluate("window.__bannerLog")
    seen = [t for t, txt in shown if "Cancelling" in txt]
    assert seen, f"the page never showed 'Cancelling': {shown}"
    acknowledged = (seen[0] - page_t0) / 1000
    print(f"\ncancel: acknowledged in {acknowledged:.2f}s, export stopped and cleaned up in {elapsed:.2f}s")
    assert "partial file was removed" in text
    assert acknowledged < 1.5, f"the page took {acknowledged:.1f}s to react to Cancel"
    assert elapsed < 5.0, f"cancel took {elapsed:.1f}s"
    jobs = _jobs(db, format="pdf")
    assert [j["status"] for j in jobs] == ["cancelled"]
    assert not list(e2e_db.export_dir.glob("*.pdf"))
    assert not page.is_disabled(".cl-start-export")


def test_two_browser_tabs_export_at_the_same_time(app_page, context, dashboard, e2e_db, tmp_path):
    db = e2e_db.db
    second = open_app(context, dashboard.url)
    try:
        for page, fmt in ((app_page, "markdown"), (second, "pdf")):
            tab(page, "Export Data")
            page.click(f".cl-format-{fmt}")
        second.click(".cl-start-export")
        app_page.click(".cl-start-export")
        deadline = time.monotonic() + 30
        seen_both = False
        while time.monotonic() < deadline and not seen_both:
            running = {j["format"] for j in _jobs(db, status={"$in": ["running", "completed"]})
                       if j["created_at"] > datetime.now(UTC) - timedelta(minutes=2)}
            seen_both = {"markdown", "pdf"} <= running
            time.sleep(0.2)
        assert seen_both
        banner(app_page, "cl-export-banner", "ok", timeout=120_000)
        banner(second, "cl-export-banner", "ok", timeout=120_000)
        md = download(app_page, ".cl-download-link", tmp_path)
        pdf = download(second, ".cl-download-link", tmp_path)
        assert md.read_text(encoding="utf-8").startswith("# ClaudeLens Export")
        assert pdf.read_bytes().startswith(b"%PDF-")
        # Each tab has its own kernel: the two jobs ran in two processes.
        done = [j for j in _jobs(db, status="completed", format={"$in": ["markdown", "pdf"]})
                if j["created_at"] > datetime.now(UTC) - timedelta(minutes=2)]
        assert len(done) == 2
        assert len({j["pid"] for j in done}) == 2
    finally:
        second.close()


def test_history_delete_expiry_and_signed_links(app_page, e2e_db, dashboard):
    page, db = app_page, e2e_db.db
    with mock.patch.dict(os.environ, e2e_db.env):
        keep = export(None, "jsonl", db=db)
        gone = export(None, "csv", db=db)
        old = export(None, "json", db=db)
    db[names.EXPORT_JOBS].update_one({"_id": old.job_id},
                                     {"$set": {"expires_at": datetime.now(UTC) - timedelta(days=1)}})
    tab(page, "Export History")
    page.click(".cl-history-refresh")
    page.wait_for_selector(f".cl-job-{gone.job_id} .cl-history-delete")
    assert page.locator(f".cl-job-{keep.job_id} a.cl-history-download").count() == 1
    assert page.locator(f".cl-job-{old.job_id} a.cl-history-download").count() == 0
    assert "Expired" in page.inner_text(f".cl-job-{old.job_id}")
    assert "31 days" not in page.inner_text(".cl-note") and "30 days" in page.inner_text(".cl-note")

    # The history's Download link streams the file; the same link for an expired job is refused.
    with mock.patch.dict(os.environ, e2e_db.env):
        from claudelens_nb.dashboard import download_url

        good, expired = download_url(keep.job_id), download_url(old.job_id)
    with urllib.request.urlopen(dashboard.url.rstrip("/") + good) as resp:
        assert resp.read() == keep.path.read_bytes()
        assert "attachment" in resp.headers["Content-Disposition"]
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(dashboard.url.rstrip("/") + expired)
    assert err.value.code == 410
    forged = good.replace("sig=", "sig=0")
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(dashboard.url.rstrip("/") + forged)
    assert err.value.code == 403
    path = download(page, f".cl-job-{keep.job_id} a.cl-history-download", e2e_db.home)
    assert path.read_bytes() == keep.path.read_bytes()

    page.click(f".cl-job-{gone.job_id} .cl-history-delete")
    page.wait_for_selector(f".cl-job-{gone.job_id} .cl-history-delete-confirm")  # it asks first
    assert gone.path.exists()
    page.click(f".cl-job-{gone.job_id} .cl-history-delete-confirm")
    assert "Deleted export" in banner(page, "cl-history-banner", "ok")
    page.wait_for_selector(f".cl-job-{gone.job_id}", state="detached")
    assert db[names.EXPORT_JOBS].find_one({"_id": gone.job_id}) is None
    assert not gone.path.exists()


def test_dark_mode_toggle_and_screenshots_of_every_tab(app_page, browser, dashboard, e2e_db, output_dir):
    page, db = app_page, e2e_db.db
    # Something to show on the Import tab: a file whose conversations all exist already.
    with mock.patch.dict(os.environ, e2e_db.env):
        sample = export({"projects": ["my-app"]}, "json", db=db)
    tab(page, "Import Data")
    upload(page, sample.path)
    banner(page, "cl-validation", "ok")

    assert background(page) == LIGHT_BG
    shots = []
    for theme in ("light", "dark"):
        if theme == "dark":
            page.click(".cl-theme-toggle")
            page.wait_for_function(f"getComputedStyle(document.querySelector('.cl-app')).backgroundColor === '{DARK_BG}'")
            assert background(page) == DARK_BG
            assert background(page, "body") == DARK_BG  # no white frame around the app
            assert background(page, ".cl-since input") == DARK_BG  # inputs follow the theme
            assert background(page, ".cl-card") == "rgb(30, 41, 59)"
            assert page.eval_on_selector(".cl-title h1", "e => getComputedStyle(e).color") == "rgb(226, 232, 240)"
        for label, name in (("Export Data", "export"), ("Import Data", "import"), ("Export History", "history")):
            tab(page, label)
            shots.append(screenshot(page, output_dir / f"dashboard-{name}-{theme}.png"))
    page.click(".cl-theme-toggle")
    page.wait_for_function(f"getComputedStyle(document.querySelector('.cl-app')).backgroundColor === '{LIGHT_BG}'")
    assert all(p.stat().st_size > 10_000 for p in shots)

    # A browser that prefers dark gets dark on first load.
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, color_scheme="dark")
    try:
        narrow = open_app(ctx, dashboard.url)
        assert background(narrow) == DARK_BG
        overflow = narrow.evaluate("(() => { const a = document.querySelector('.cl-app');"
                                   " return a.scrollWidth - a.clientWidth; })()")
        assert overflow <= 1, f"the app is {overflow}px wider than a phone screen"
        screenshot(narrow, output_dir / "dashboard-export-narrow-dark.png")
        assert not narrow.external_requests, narrow.external_requests
    finally:
        ctx.close()
    assert not page.external_requests, page.external_requests
