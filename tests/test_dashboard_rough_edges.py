"""Rough edges of the page, in headless Chromium: the file picker names the file, the field
mapping is a table of real dropdowns (arrow, aligned, no inner scroll, message fields kept in
the message's metadata), an encrypted upload takes its password with Enter, banners name the
file once and never our internal name, dark mode survives a reload, and at 390 px the tabs,
pickers and history fit. Screenshots go to test-output/."""

from __future__ import annotations

import os
from unittest import mock

import pytest
from e2e.fixtures import *  # noqa: F403
from e2e.harness import background, banner, open_app, screenshot, tab, upload

from claudelens_nb.exports import export

DARK_BG = "rgb(15, 23, 42)"
LIGHT_BG = "rgb(255, 255, 255)"


@pytest.fixture(scope="module")
def sample(e2e_db, tmp_path_factory):
    folder = tmp_path_factory.mktemp("rough")
    with mock.patch.dict(os.environ, e2e_db.env):
        plain = export({"tags": ["bug"]}, "json", folder / "team backup.json", db=e2e_db.db)
        secret = export(None, "jsonl", folder / "locked.zip", options={"password": "s3cret"}, db=e2e_db.db)
    return plain.path, secret.path


def test_the_picker_names_the_file_and_the_mapping_is_a_real_table(app_page, sample, output_dir):
    page = app_page
    plain, _ = sample
    tab(page, "Import Data")
    assert page.inner_text(".cl-upload-name") == "No file chosen"
    upload(page, plain)
    assert "team backup.json is valid" in banner(page, "cl-validation", "ok")
    assert page.inner_text(".cl-upload-name").startswith("team backup.json (")
    assert "(0)" not in page.inner_text(".cl-drop-box")
    # Dropdowns look like dropdowns and sit in their rows.
    arrow = page.eval_on_selector(".cl-map-title select", "e => getComputedStyle(e).backgroundImage")
    assert arrow.startswith("url(") and "svg" in arrow
    rows = page.evaluate("""() => [...document.querySelectorAll('.cl-mapping > .cl-map-source')].slice(0, 6)
        .map(src => { const dd = src.nextElementSibling.querySelector('select');
                      const a = src.getBoundingClientRect(), b = dd.getBoundingClientRect();
                      return [a.top + a.height / 2, b.top + b.height / 2]; })""")
    assert rows and all(abs(a - b) <= 3 for a, b in rows), rows
    inner = page.eval_on_selector(".cl-mapping", "e => [e.scrollHeight, e.clientHeight]")
    assert inner[0] <= inner[1] + 1, f"the mapping table scrolls inside a box: {inner}"
    label = page.eval_on_selector(".cl-map-message-metadata select",
                                  "e => e.options[e.selectedIndex].text.replace(/\\u00a0/g, ' ')")
    assert label == "Message › Metadata (kept as is)"
    screenshot(page, output_dir / "rough-import-mapping-light.png")


def test_an_encrypted_upload_takes_its_password_with_enter(app_page, sample):
    page = app_page
    _, locked = sample
    tab(page, "Import Data")
    upload(page, locked)
    text = banner(page, "cl-validation", "error", contains="encrypted")
    assert text == "✗ locked.zip is encrypted: type its password in the zip password field and press Enter."
    page.fill(".cl-zip-password input", "wrong")
    page.press(".cl-zip-password input", "Enter")
    text = banner(page, "cl-validation", "error", contains="Wrong password")
    assert text.count("locked.zip") == 1 and ".upload" not in text and "upload-" not in text
    page.fill(".cl-zip-password input", "s3cret")
    page.press(".cl-zip-password input", "Enter")
    assert "locked.zip is valid: 20 conversations" in banner(page, "cl-validation", "ok")
    # "Use this file" with no server path checks the uploaded file again (it asked for a path).
    page.fill(".cl-zip-password input", "")
    page.press(".cl-zip-password input", "Enter")
    banner(page, "cl-validation", "error", contains="encrypted")
    page.fill(".cl-zip-password input", "s3cret")
    page.click(".cl-use-path")
    assert "locked.zip is valid" in banner(page, "cl-validation", "ok")
    assert not page.is_disabled(".cl-start-import")
    page.fill(".cl-zip-password input", "")


def test_dark_mode_survives_a_reload(context, dashboard, output_dir):
    page = open_app(context, dashboard.url)
    try:
        assert background(page) == LIGHT_BG
        page.click(".cl-theme-toggle")
        page.wait_for_function(f"getComputedStyle(document.querySelector('.cl-app')).backgroundColor === '{DARK_BG}'")
        page.reload()
        page.wait_for_selector(".cl-app[data-theme-ready]", timeout=180_000)
        assert background(page) == DARK_BG and background(page, "body") == DARK_BG
        page.click(".cl-theme-toggle")  # and back: light is kept too
        page.reload()
        page.wait_for_selector(".cl-app[data-theme-ready]", timeout=180_000)
        assert background(page) == LIGHT_BG
    finally:
        page.close(run_before_unload=True)


def test_at_390px_tabs_pickers_and_history_fit(browser, dashboard, e2e_db, output_dir):
    with mock.patch.dict(os.environ, e2e_db.env):
        export(None, "markdown", db=e2e_db.db)
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, color_scheme="dark")
    try:
        page = open_app(ctx, dashboard.url)
        tabs = page.evaluate("""() => [...document.querySelectorAll('.cl-tabs .lm-TabBar-tab')].map(t => {
            const r = t.getBoundingClientRect(), l = t.querySelector('.lm-TabBar-tabLabel');
            return [t.innerText.trim(), r.left, r.right, l.scrollWidth <= l.clientWidth + 1]; })""")
        assert [t[0] for t in tabs] == ["⬇ Export Data", "⬆ Import Data", "◷ Export History"]
        assert all(left >= 0 and right <= 390 and whole for _, left, right, whole in tabs), tabs
        for picker in ("cl-tags", "cl-types", "cl-projects", "cl-models"):
            size = page.eval_on_selector(f".{picker} select", "e => [e.scrollHeight, e.clientHeight, e.options.length]")
            assert size[0] <= size[1] + 1, f"{picker} clips its choices: {size}"
        assert page.locator(".cl-field-hint:has-text('Ctrl/⌘-click for several')").count() == 4
        screenshot(page, output_dir / "rough-export-390-dark.png")
        tab(page, "Export History")
        page.click(".cl-history-refresh")
        page.wait_for_selector(".cl-export-format:has-text('Markdown')")
        formats = page.eval_on_selector_all(".cl-export-format", "els => els.map(e => e.innerText)")
        assert any(f.endswith("Markdown") for f in formats) and not any("MARKDOWN" in f for f in formats)
        assert page.locator(".cl-history-table > .cl-th").first.is_hidden()  # rows are labelled cards
        overflow = page.evaluate("(() => { const a = document.querySelector('.cl-app');"
                                 " return a.scrollWidth - a.clientWidth; })()")
        assert overflow <= 1
        assert "Page 1 of 1" in page.inner_text(".cl-export-history .cl-pager")
        screenshot(page, output_dir / "rough-history-390-dark.png")
        page.close(run_before_unload=True)
    finally:
        ctx.close()
