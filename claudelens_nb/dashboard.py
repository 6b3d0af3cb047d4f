"""Serve the import/export dashboard with Voila (in this process).

`serve()` points the kernels at the right database (through environment variables they
inherit), seeds demo data on the first run of an empty database, raises Tornado's
websocket message limit so browser uploads up to 100 MB get through, and adds one route,
`/cl-download/<job_id>`, that streams a finished export to the browser. Download links
are signed by the kernel with a per-server secret and the file is always looked up with
`export_file_path(job_id)`, so expired, deleted or foreign files are refused.

`python -m claudelens_nb.dashboard [--port P] [--host H] [--no-demo] [--uri URI]`
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import hmac
import json
import os
import secrets
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from . import state
from .config import ENV_DB, ENV_URI, settings

ENV_SECRET = "CLAUDELENS_DASHBOARD_SECRET"
ENV_BASE_URL = "CLAUDELENS_DASHBOARD_BASE_URL"
DEFAULT_PORT = 8866
# Uploads travel inside one websocket message: 100 MB of file plus base64/JSON overhead.
WEBSOCKET_MAX_MESSAGE_BYTES = 256 * 1024 * 1024
LINK_LIFETIME_S = 24 * 3600
_CHUNK = 1024 * 1024

NOTEBOOK_SOURCE = """\
from claudelens_nb.ui import ImportExportApp

ImportExportApp()
"""


# ---------------------------------------------------------------- signed links

def _signature(secret: str, job_id: str, expires: int) -> str:
    msg = f"{job_id}:{expires}".encode()
    return hmac.new(secret.encode(), msg, hashlib.sha256).hexdigest()


def download_url(job_id: str, *, now: float | None = None) -> str | None:
    """A signed link to an export, or None outside a dashboard served by `serve()`."""
    secret = os.environ.get(ENV_SECRET)
    if not secret:
        return None
    base = os.environ.get(ENV_BASE_URL, "/")
    expires = int((now or time.time()) + LINK_LIFETIME_S)
    sig = _signature(secret, job_id, expires)
    return f"{base.rstrip('/')}/cl-download/{quote(job_id, safe='')}?expires={expires}&sig={sig}"


def verify_link(job_id: str, expires: str, sig: str, *, secret: str | None = None) -> bool:
    secret = secret or os.environ.get(ENV_SECRET)
    if not secret or not expires.isdigit() or int(expires) < time.time():
        return False
    return hmac.compare_digest(_signature(secret, job_id, int(expires)), sig)


def _download_handler_class() -> type:
    import tornado.web

    class DownloadHandler(tornado.web.RequestHandler):
        """Stream one export file; refuses bad signatures and anything export_file_path refuses."""

        async def get(self, job_id: str) -> None:
            from .errors import ClaudeLensError
            from .exports import export_file_path

            if not verify_link(job_id, self.get_argument("expires", ""), self.get_argument("sig", "")):
                raise tornado.web.HTTPError(403, reason="This download link is not valid")
            try:
                path = export_file_path(job_id)
            except ClaudeLensError as exc:
                self.set_status(410, reason="Export not available")
                self.set_header("Content-Type", "text/plain; charset=utf-8")
                self.finish(f"This export cannot be downloaded: {exc}\n")
                return
            name = path.name
            self.set_header("Content-Type", "application/octet-stream")
            self.set_header(
                "Content-Disposition",
                f"attachment; filename=\"{name.encode('ascii', 'replace').decode()}\"; "
                f"filename*=UTF-8''{quote(name)}",
            )
            self.set_header("Content-Length", str(path.stat().st_size))
            self.set_header("Cache-Control", "no-store")
            self.set_header("X-Content-Type-Options", "nosniff")
            with open(path, "rb") as fh:
                while chunk := fh.read(_CHUNK):
                    self.write(chunk)
                    await self.flush()
            self.finish()

    return DownloadHandler


def _voila_class() -> type:
    from jupyter_server.utils import url_path_join
    from voila.app import Voila
    from voila.tornado.handler import TornadoVoilaHandler

    from .dashboard_kernels import page_handler_class

    class ClaudeLensVoila(Voila):
        """Voila plus the signed download route (placed before Voila's catch-all), and a page
        handler that sets the xsrf cookie and caps live kernels (`dashboard_kernels`)."""

        def init_handlers(self) -> list:
            page = page_handler_class()
            handlers = [(h[0], page, *h[2:]) if h[1] is TornadoVoilaHandler else h
                        for h in super().init_handlers()]
            route = url_path_join(self.server_url, r"/cl-download/([^/]+)")
            return [(route, _download_handler_class()), *handlers]

    return ClaudeLensVoila


# ---------------------------------------------------------------- the notebook

def notebook_path() -> Path:
    """dashboards/import_export.ipynb from the checkout, else a generated copy."""
    here = Path(__file__).resolve().parents[1] / "dashboards" / "import_export.ipynb"
    if here.is_file():
        return here
    target = settings().home / "dashboard" / "import_export.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    nb = {
        "cells": [{"cell_type": "code", "execution_count": None, "id": "build-app", "metadata": {}, "outputs": [],
                   "source": NOTEBOOK_SOURCE.splitlines(keepends=True)}],
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
        "nbformat": 4, "nbformat_minor": 5,
    }
    target.write_text(json.dumps(nb, indent=1))
    return target


# ---------------------------------------------------------------- the page template

TEMPLATE = "claudelens"


def install_template(root: Path) -> Path:
    """Write Voila's `lab` page template minus its CDN links (nothing loads from the network).

    The lab template links Font Awesome from a CDN; the copy under `root` (a Jupyter data
    folder put first on JUPYTER_PATH) drops those lines and inherits everything else.
    """
    from jupyter_core.paths import jupyter_path

    source = next((Path(p) / "voila" / "templates" / "lab" / "index.html.j2" for p in jupyter_path()
                   if (Path(p) / "voila" / "templates" / "lab" / "index.html.j2").is_file()), None)
    if source is None:
        raise FileNotFoundError("Voila's lab template is not installed")
    lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [line for line in lines if "cdn.jsdelivr.net" not in line and "fontawesome" not in line]
    target = root / "voila" / "templates" / TEMPLATE
    target.mkdir(parents=True, exist_ok=True)
    (target / "index.html.j2").write_text("".join(kept), encoding="utf-8")
    (target / "conf.json").write_text(json.dumps({"base_template": "lab"}), encoding="utf-8")
    return root


# ---------------------------------------------------------------- serving

def prepare(uri: str | None = None, *, demo: bool = True) -> tuple[str, str, str | None]:
    """Connect, seed the demo on an empty database, and export the settings to kernels.

    Returns (uri, database name, demo summary text or None).
    """
    from .demo import ensure_demo
    from .store import connect
    from .store.connection import resolve_uri

    real_uri = resolve_uri(uri)
    db = connect(real_uri)
    seeded = ensure_demo(db) if demo else None
    # Warm the facts cache (model lists, type counts) so the first page's pickers and
    # preview are quick on a large database; a thread, so the server starts at once.
    threading.Thread(target=_warm_facts, args=(db,), daemon=True, name="warm-facts").start()
    state.set_environ(ENV_URI, real_uri)
    state.set_environ(ENV_DB, db.name)
    state.set_environ(ENV_SECRET, secrets.token_hex(32), keep=True)
    return real_uri, db.name, str(seeded) if seeded else None


def _warm_facts(db: Any) -> None:
    from .query import filter_options

    with contextlib.suppress(Exception):
        filter_options(db=db)


def serve(
    port: int = DEFAULT_PORT,
    host: str = "127.0.0.1",
    *,
    uri: str | None = None,
    demo: bool = True,
    open_browser: bool = False,
    max_kernels: int | None = None,
    idle_timeout: int | None = None,
    preheat: int | None = None,
) -> int:
    """Run the dashboard until interrupted. Returns an exit code.

    `max_kernels`, `idle_timeout` and `preheat` override CLAUDELENS_DASHBOARD_MAX_KERNELS,
    CLAUDELENS_DASHBOARD_IDLE_TIMEOUT and CLAUDELENS_DASHBOARD_PREHEAT (see `dashboard_kernels`).
    """
    from .dashboard_kernels import ENV_IDLE_TIMEOUT, ENV_MAX_KERNELS, ENV_PREHEAT

    for env, value in ((ENV_MAX_KERNELS, max_kernels), (ENV_IDLE_TIMEOUT, idle_timeout),
                       (ENV_PREHEAT, preheat)):
        if value is not None:
            state.set_environ(env, str(value))
    from .dashboard_kernels import voila_arguments
    from .store import redact_uri

    if host not in ("127.0.0.1", "localhost", "::1"):
        print(
            f"WARNING: serving on {host}: anyone who can reach this address can read, "
            "export and import your conversations (there is no login).",
            file=sys.stderr,
        )
    real_uri, db_name, seeded = prepare(uri, demo=demo)
    if seeded:
        print(f"first run: seeded demo data ({seeded})")
    print(f"database: {redact_uri(real_uri)} (database {db_name!r})")
    state.set_environ(ENV_BASE_URL, "/")
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    print(f"ClaudeLens dashboard: http://{shown}:{port}/", flush=True)

    jupyter_root = install_template(settings().home / "jupyter")
    state.set_environ("JUPYTER_PATH", os.pathsep.join(
        p for p in (str(jupyter_root), os.environ.get("JUPYTER_PATH", "")) if p
    ))
    app = _voila_class()()
    argv = [
        str(notebook_path()),
        f"--template={TEMPLATE}",
        f"--port={port}",
        f"--Voila.ip={host}",
        "--Voila.port_retries=0",
        "--VoilaConfiguration.show_tracebacks=False",
        "--Voila.base_url=/",
        *voila_arguments(),
    ]
    if not open_browser:
        argv.append("--no-browser")
    app.initialize(argv)
    app.tornado_settings = {
        **app.tornado_settings,
        "websocket_max_message_size": WEBSOCKET_MAX_MESSAGE_BYTES,
    }
    app.start()
    return 0


def build_parser(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    p = parser or argparse.ArgumentParser(prog="python -m claudelens_nb.dashboard",
                                          description="Serve the import/export dashboard.")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    p.add_argument("--host", default="127.0.0.1",
                   help="interface to listen on (default 127.0.0.1; anything else prints a warning)")
    p.add_argument("--no-demo", action="store_true", help="do not seed demo data into an empty database")
    p.add_argument("--open", action="store_true", help="open a browser")
    p.add_argument("--max-kernels", type=int, metavar="N",
                   help="pages open at once (one Python kernel of ~200 MB each); beyond, a page "
                        "load gets a 'too many pages' notice (default $CLAUDELENS_DASHBOARD_MAX_KERNELS or 10)")
    p.add_argument("--idle-timeout", type=int, metavar="SECONDS",
                   help="end a kernel no page is connected to after this long without activity "
                        "(default $CLAUDELENS_DASHBOARD_IDLE_TIMEOUT or 300)")
    p.add_argument("--preheat", type=int, metavar="N",
                   help="kernels kept ready with the app built, so a page opens in about half the "
                        "time, at the cost of a kernel start right after each page load "
                        "(default $CLAUDELENS_DASHBOARD_PREHEAT or 0)")
    if parser is None:
        p.add_argument("--uri", help="MongoDB URI (default: $CLAUDELENS_MONGODB_URI, else the embedded server)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    from .errors import ClaudeLensError

    args = build_parser().parse_args(argv)
    try:
        return serve(args.port, args.host, uri=args.uri, demo=not args.no_demo, open_browser=args.open,
                     max_kernels=args.max_kernels, idle_timeout=args.idle_timeout, preheat=args.preheat)
    except ClaudeLensError as exc:
        print(f"error [{exc.code}]: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
