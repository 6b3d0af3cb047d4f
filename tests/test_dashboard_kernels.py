"""The served dashboard does not leak kernels: a closed page's kernel ends within seconds (the
shutdown beacon is accepted, and a page gone without one is noticed), a kernel nobody connects
to is culled, past the cap a page load gets a clear busy page instead of another kernel, and one
preheated kernel waits for the next page (which then shows fresh numbers). Measured on the real
server process tree (psutil) in headless Chromium."""

from __future__ import annotations

import contextlib
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from e2e.fixtures import browser, context, e2e_db  # noqa: F401
from e2e.harness import DashboardServer, dashboard_server, open_app

E2E_SESSIONS = 8
E2E_MESSAGES = 10
MAX_KERNELS = 3
IDLE_TIMEOUT_S = 8
GRACE_S = 3
LOADS = 20
POOL = 1  # the preheated kernel that always waits for the next page


@pytest.fixture(scope="module")
def server(e2e_db, output_dir: Path) -> Iterator[DashboardServer]:  # noqa: F811
    env = {**e2e_db.env,
           "CLAUDELENS_DASHBOARD_MAX_KERNELS": str(MAX_KERNELS),
           "CLAUDELENS_DASHBOARD_IDLE_TIMEOUT": str(IDLE_TIMEOUT_S),
           "CLAUDELENS_DASHBOARD_DISCONNECT_GRACE": str(GRACE_S),
           "CLAUDELENS_DASHBOARD_PREHEAT": str(POOL)}
    with dashboard_server(env, output_dir / "dashboard-kernels.log") as s:
        wait_kernels(s, POOL, timeout=120)  # the pool is filled before the first page
        yield s


def _tree(server: DashboardServer) -> list[psutil.Process]:
    root = psutil.Process(server.proc.pid)
    return [root, *root.children(recursive=True)]


def kernels(server: DashboardServer) -> list[psutil.Process]:
    out = []
    for p in _tree(server)[1:]:
        try:
            if "ipykernel_launcher" in " ".join(p.cmdline()):
                out.append(p)
        except psutil.NoSuchProcess:
            pass
    return out


def rss_mb(server: DashboardServer) -> float:
    total = 0
    for p in _tree(server):
        with contextlib.suppress(psutil.NoSuchProcess):
            total += p.memory_info().rss
    return total / 1e6


def wait_kernels(server: DashboardServer, count: int, timeout: float) -> float:
    """Seconds until exactly `count` kernels run; fails after `timeout`."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if len(kernels(server)) == count:
            return time.monotonic() - t0
        time.sleep(0.2)
    raise AssertionError(f"{len(kernels(server))} kernels after {timeout}s, expected {count}:\n{server.log()}")


def test_leaving_the_page_ends_its_kernel_within_seconds(server, context):  # noqa: F811
    page = open_app(context, server.url)
    assert any(c["name"] == "_xsrf" for c in context.cookies()), "the page must set the _xsrf cookie"
    wait_kernels(server, 1 + POOL, timeout=60)  # the page's, and the pool refilled
    page.goto("about:blank")  # beforeunload: the shutdown beacon
    took = wait_kernels(server, POOL, timeout=GRACE_S - 0.5)  # before the disconnect fallback could act
    print(f"\nkernel ended {took:.1f}s after leaving the page")
    assert "403 POST /voila/api/shutdown" not in server.log()
    page.close()


def test_a_page_gone_without_a_beacon_ends_after_the_grace(server, context):  # noqa: F811
    page = open_app(context, server.url)
    wait_kernels(server, 1 + POOL, timeout=60)
    page.close()  # Playwright skips beforeunload: like a crashed or discarded tab
    took = wait_kernels(server, POOL, timeout=GRACE_S + 10)
    print(f"\nkernel without a beacon ended after {took:.1f}s")
    assert took >= GRACE_S - 1


def test_twenty_loads_and_closes_leave_no_kernel_and_memory_comes_back(server, context, output_dir):  # noqa: F811
    wait_kernels(server, POOL, timeout=30)
    before = rss_mb(server)
    peak_kernels, load_s = 0, []
    for i in range(LOADS):
        t0 = time.monotonic()
        page = open_app(context, server.url)
        load_s.append(time.monotonic() - t0)
        peak_kernels = max(peak_kernels, len(kernels(server)))
        if i % 4 == 3:
            page.close()  # no beacon now and then
        else:
            page.close(run_before_unload=True)
    took = wait_kernels(server, POOL, timeout=GRACE_S + 30)
    after = rss_mb(server)
    numbers = {"loads": LOADS, "kernels_after": len(kernels(server)), "peak_kernels": peak_kernels,
               "rss_before_mb": round(before), "rss_after_mb": round(after),
               "seconds_to_zero_kernels_after_last_close": round(took, 1),
               "page_load_s_median": round(sorted(load_s)[LOADS // 2], 1)}
    (output_dir / "dashboard-kernels-20-loads.json").write_text(json.dumps(numbers, indent=1))
    print(f"\n{numbers}")
    assert numbers["kernels_after"] == POOL  # the preheated one, nothing left from the pages
    assert peak_kernels <= 2 + POOL  # each page's kernel ended before the next few loads piled up
    # 20 leaked kernels would be ~4 GB; the server process itself may grow a little.
    assert after < before + 150, numbers


def test_a_kernel_nobody_connects_to_is_culled(server):
    wait_kernels(server, POOL, timeout=30)
    with urllib.request.urlopen(server.url, timeout=120) as r:  # a plain GET takes a kernel
        assert r.status == 200
        r.read()
    wait_kernels(server, 1 + POOL, timeout=60)
    took = wait_kernels(server, POOL, timeout=IDLE_TIMEOUT_S + IDLE_TIMEOUT_S + 15)
    print(f"\nunconnected kernel culled after {took:.1f}s")


def test_past_the_cap_a_page_load_gets_a_busy_page(server, context):  # noqa: F811
    wait_kernels(server, POOL, timeout=30)
    pages = [open_app(context, server.url) for _ in range(MAX_KERNELS)]
    try:
        wait_kernels(server, MAX_KERNELS + POOL, timeout=60)
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(server.url, timeout=30)
        assert err.value.code == 503
        body = err.value.read().decode()
        assert "open in too many pages" in body and f"at most {MAX_KERNELS}" in body
        assert len(kernels(server)) == MAX_KERNELS + POOL  # no kernel was taken for it
        busy = context.new_page()
        busy.goto(server.url)
        assert "Close a tab you no longer use" in busy.inner_text("body")
        busy.close()
        pages.pop().close(run_before_unload=True)
        wait_kernels(server, MAX_KERNELS - 1 + POOL, timeout=GRACE_S + 10)
        pages.append(open_app(context, server.url))  # room again
    finally:
        for p in pages:
            p.close(run_before_unload=True)
    wait_kernels(server, POOL, timeout=GRACE_S + 30)


def test_a_preheated_page_shows_what_is_in_the_database_now(server, context, e2e_db):  # noqa: F811
    from claudelens_nb.demo import seed_demo

    wait_kernels(server, POOL, timeout=60)  # its app was built with E2E_SESSIONS conversations
    time.sleep(2)
    seed_demo(e2e_db.db, sessions=1, messages_per_session=4, seed=1234)  # one more
    page = open_app(context, server.url)
    try:
        page.wait_for_selector(f".cl-stat-conversations[data-value='{E2E_SESSIONS + 1}']", timeout=30_000)
    finally:
        page.close(run_before_unload=True)
    e2e_db.db.sessions.delete_many({"messageCount": 4})


def test_kernel_settings_from_the_command_line_and_environment(monkeypatch):
    from claudelens_nb.cli import build_parser
    from claudelens_nb.dashboard_kernels import ENV_MAX_KERNELS, voila_arguments

    args = build_parser().parse_args(["dashboard", "--max-kernels", "4", "--idle-timeout", "60"])
    assert (args.max_kernels, args.idle_timeout) == (4, 60)
    monkeypatch.setenv(ENV_MAX_KERNELS, "4")
    monkeypatch.setenv("CLAUDELENS_DASHBOARD_IDLE_TIMEOUT", "60")
    argv = voila_arguments()
    assert "--DashboardKernelManager.max_kernels=4" in argv
    assert "--MappingKernelManager.cull_idle_timeout=60" in argv
    assert "--MappingKernelManager.cull_connected=False" in argv
    monkeypatch.setenv(ENV_MAX_KERNELS, "lots")
    assert "--DashboardKernelManager.max_kernels=10" in voila_arguments()
    monkeypatch.delenv("CLAUDELENS_DASHBOARD_PREHEAT", raising=False)
    assert not any("preheat" in a for a in voila_arguments())  # off unless asked for
    monkeypatch.setenv("CLAUDELENS_DASHBOARD_PREHEAT", "1")
    assert {"--VoilaConfiguration.preheat_kernel=True",
            "--VoilaConfiguration.default_pool_size=1"} <= set(voila_arguments())
