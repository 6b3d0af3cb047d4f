"""How long the served dashboard's kernels live, and how many may.

Every page load starts an ipykernel of ~200 MB. They end in three ways:

- the page's `beforeunload` beacon (`POST /voila/api/shutdown/<id>`): it carries the `_xsrf`
  cookie, which the page handler now sets (Voila's own handler never did, so the server
  refused every beacon with 403);
- the websocket closing without a beacon (a crashed or discarded tab): once a kernel has no
  connection left for `disconnect_grace` seconds, it is shut down;
- jupyter-server's culler: a kernel nobody ever connected to (a plain GET of the page) is
  shut down after `cull_idle_timeout` seconds without activity.

A page load beyond `max_kernels` live kernels gets a short "busy" page (HTTP 503) instead
of one more kernel.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import os

from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from traitlets import Float, Integer

ENV_MAX_KERNELS = "CLAUDELENS_DASHBOARD_MAX_KERNELS"
ENV_IDLE_TIMEOUT = "CLAUDELENS_DASHBOARD_IDLE_TIMEOUT"
ENV_DISCONNECT_GRACE = "CLAUDELENS_DASHBOARD_DISCONNECT_GRACE"
ENV_PREHEAT = "CLAUDELENS_DASHBOARD_PREHEAT"
DEFAULT_MAX_KERNELS = 10
# Kernels kept started, the app built, for the next page: it opens ~2 s faster (2.2 s instead of
# 4 s measured), but the server then always holds one more kernel (~200 MB), and each page load
# starts the next one at once (seconds of CPU beside the new page's own first work). So none by
# default; `--preheat 1` where load time matters more.
DEFAULT_PREHEAT = 0
DEFAULT_IDLE_TIMEOUT_S = 300
DEFAULT_DISCONNECT_GRACE_S = 15.0
CULL_INTERVAL_S = 30


def _env_number(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    try:
        return float(raw) if raw else default
    except ValueError:
        return default


def max_kernels() -> int:
    return max(1, int(_env_number(ENV_MAX_KERNELS, DEFAULT_MAX_KERNELS)))


def idle_timeout() -> int:
    return max(1, int(_env_number(ENV_IDLE_TIMEOUT, DEFAULT_IDLE_TIMEOUT_S)))


def disconnect_grace() -> float:
    return max(0.0, _env_number(ENV_DISCONNECT_GRACE, DEFAULT_DISCONNECT_GRACE_S))


def preheat() -> int:
    return max(0, int(_env_number(ENV_PREHEAT, DEFAULT_PREHEAT)))


def voila_arguments() -> list[str]:
    """Command-line settings for Voila: our kernel manager, jupyter-server's culler, and
    Voila's pool of preheated kernels (the page opens on a kernel that has run the notebook)."""
    manager = f"{DashboardKernelManager.__module__}.{DashboardKernelManager.__name__}"
    interval = min(CULL_INTERVAL_S, idle_timeout())
    pool = (["--VoilaConfiguration.preheat_kernel=True", f"--VoilaConfiguration.default_pool_size={preheat()}"]
            if preheat() else [])
    return [*pool,
        f"--VoilaConfiguration.multi_kernel_manager_class={manager}",
        f"--MappingKernelManager.cull_idle_timeout={idle_timeout()}",
        f"--MappingKernelManager.cull_interval={interval}",
        "--MappingKernelManager.cull_connected=False",
        f"--DashboardKernelManager.disconnect_grace={disconnect_grace()}",
        f"--DashboardKernelManager.max_kernels={max_kernels()}",
    ]


class DashboardKernelManager(AsyncMappingKernelManager):
    """jupyter-server's kernel manager plus: shut a kernel down once its last page is gone."""

    disconnect_grace = Float(DEFAULT_DISCONNECT_GRACE_S, config=True,
                             help="seconds a kernel may stay without a connection once it had one")
    max_kernels = Integer(DEFAULT_MAX_KERNELS, config=True,
                          help="live kernels beyond which a page load gets the busy page")

    def notify_disconnect(self, kernel_id: str) -> None:
        super().notify_disconnect(kernel_id)
        if self._kernel_connections.get(kernel_id) == 0:
            loop = asyncio.get_event_loop()
            loop.call_later(self.disconnect_grace,
                            lambda: asyncio.ensure_future(self._end_if_abandoned(kernel_id)))

    async def _end_if_abandoned(self, kernel_id: str) -> None:
        if kernel_id not in self or self._kernel_connections.get(kernel_id, 0) > 0:
            return
        self.log.info("Kernel %s has had no page for %.0f s: shutting it down",
                      kernel_id, self.disconnect_grace)
        with contextlib.suppress(KeyError, Exception):
            await self.shutdown_kernel(kernel_id)

    def pooled(self) -> int:
        """Preheated kernels waiting for a page (Voila's pool, when preheating)."""
        pools = getattr(self, "_pools", {}) or {}
        return sum(1 for pool in pools.values() for f in pool
                   if f.done() and not f.cancelled() and f.exception() is None
                   and f.result().get("kernel_id") in self)

    def in_use(self) -> int:
        return len(self.list_kernel_ids()) - self.pooled()

    def is_full(self) -> bool:
        return self.in_use() >= self.max_kernels


BUSY_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>ClaudeLens dashboard: too many open pages</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 36rem; margin: 4rem auto; padding: 0 1rem;
        color: #111827; background: #fff; line-height: 1.5; }}
@media (prefers-color-scheme: dark) {{ body {{ color: #e5e7eb; background: #0f172a; }} }}
h1 {{ font-size: 1.4rem; }}
</style></head>
<body class="cl-busy">
<h1>The dashboard is open in too many pages</h1>
<p>{live} pages are open on this server, and it runs at most {limit} at once
(each one holds its own Python process).</p>
<p>Close a tab you no longer use: its session ends within seconds.
A page left without a connection ends after {grace} seconds, one never opened after
{idle} seconds. Then <a href="">load this page again</a>.</p>
</body></html>
"""


def busy_page(live: int, limit: int) -> str:
    return BUSY_PAGE.format(live=live, limit=limit, grace=html.escape(f"{disconnect_grace():.0f}"),
                            idle=idle_timeout())


def page_handler_class() -> type:
    """Voila's page handler that sets the `_xsrf` cookie and refuses loads beyond the cap."""
    import tornado.web
    from voila.tornado.handler import TornadoVoilaHandler

    class DashboardPageHandler(TornadoVoilaHandler):
        @tornado.web.authenticated
        async def get(self, path: str | None = None) -> None:
            manager = self.kernel_manager
            if not path and isinstance(manager, DashboardKernelManager) and manager.is_full():
                self.set_status(503, reason="Too many open dashboard pages")
                self.set_header("Content-Type", "text/html; charset=utf-8")
                self.set_header("Cache-Control", "no-store")
                self.set_header("Retry-After", str(int(disconnect_grace()) + 5))
                self.finish(busy_page(manager.in_use(), manager.max_kernels))
                return
            # Reading the token sets the cookie the page's shutdown beacon sends back.
            _ = self.xsrf_token
            await super().get(path)

    return DashboardPageHandler
