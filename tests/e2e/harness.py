"""Start the dashboard as a subprocess and drive it with Playwright's headless Chromium."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]
REPO = Path(__file__).resolve().parents[2]
LOAD_TIMEOUT_MS = 180_000


def require_chromium() -> None:
    """Skip without Chromium locally; in CI a missing browser is a failure, never a skip."""
    if Path(CHROMIUM).exists():
        return
    if os.environ.get("CI"):
        pytest.fail(f"{CHROMIUM} is missing; CI must run the dashboard tests (apt-get install chromium)")
    pytest.skip(f"{CHROMIUM} not installed")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class DashboardServer:
    """`python -m claudelens_nb.dashboard` on a free port, with the given environment."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.env = {**os.environ, **env}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 120) -> DashboardServer:
        log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self._log = log
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "claudelens_nb.dashboard", "--port", str(self.port), "--no-demo"],
            env=self.env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"dashboard exited ({self.proc.returncode}):\n{self.log()}")
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            time.sleep(0.5)
        raise RuntimeError(f"dashboard did not start in {timeout}s:\n{self.log()}")

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        # Our own process group: Voila and the kernels it started.
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self._log.close()


@contextlib.contextmanager
def dashboard_server(env: dict[str, str], log_path: Path) -> Iterator[DashboardServer]:
    server = DashboardServer(env, log_path).start()
    try:
        yield server
    finally:
        server.stop()


# ---------------------------------------------------------------- page helpers

def open_app(context, url: str):
    """A new page on the dashboard, waiting until the kernel has built the app and its preview."""
    page = context.new_page()
    page.external_requests = []  # type: ignore[attr-defined]
    page.on("request", lambda r: None if r.url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:"))
            else page.external_requests.append(r.url))
    page.goto(url, timeout=LOAD_TIMEOUT_MS)
    page.wait_for_selector(".cl-app .cl-tabs", timeout=LOAD_TIMEOUT_MS)
    page.wait_for_selector(".cl-stat-conversations", timeout=60_000)
    return page


def tab(page, label: str) -> None:
    page.click(f".cl-tabs .lm-TabBar-tab:has-text('{label}')")
    page.wait_for_timeout(300)


def stat(page, key: str) -> str:
    return page.get_attribute(f".cl-preview-stats .cl-stat-{key}", "data-value")


def wait_stat(page, key: str, value: object, timeout: float = 15_000) -> None:
    page.wait_for_function(
        "([k, v]) => { const e = document.querySelector(`.cl-preview-stats .cl-stat-${k}`);"
        " return e && e.dataset.value === v; }",
        arg=[key, str(value)], timeout=timeout,
    )


def banner(page, cls: str, kind: str, timeout: float = 60_000, contains: str = "") -> str:
    """Wait for a banner of `kind` (ok/error/warning/info), holding `contains`, in the widget `cls`."""
    sel = f".{cls} [data-kind='{kind}']" + (f":has-text({contains!r})" if contains else "")
    el = page.wait_for_selector(sel, timeout=timeout)
    return el.inner_text()


def download(page, selector: str, dest_dir: Path) -> Path:
    with page.expect_download(timeout=60_000) as info:
        page.click(selector)
    dl = info.value
    target = dest_dir / dl.suggested_filename
    dl.save_as(target)
    return target


def screenshot(page, path: Path) -> Path:
    """The whole app (the page scrolls inside Voila's container, so grow the viewport)."""
    width = page.viewport_size["width"] if page.viewport_size else 1280
    height = page.evaluate("Math.ceil(document.querySelector('.cl-app').getBoundingClientRect().height) + 80")
    page.set_viewport_size({"width": width, "height": max(600, min(int(height), 6000))})
    page.wait_for_timeout(300)
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size({"width": width, "height": 900})
    return path


def background(page, selector: str = ".cl-app") -> str:
    return page.eval_on_selector(selector, "e => getComputedStyle(e).backgroundColor")


def upload(page, path: Path) -> None:
    """Pick a file in the FileUpload widget (its <input type=file> is not in the DOM)."""
    with page.expect_file_chooser() as chooser:
        page.click(".cl-upload")
    chooser.value.set_files(str(path))
