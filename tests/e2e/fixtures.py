"""Module-scoped fixtures: one seeded database, one dashboard server and one browser per test module.

Import them into a test module with `from e2e.fixtures import *`. A module may set
`E2E_SESSIONS` / `E2E_MESSAGES` to seed more or fewer demo conversations.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pymongo.database import Database

from claudelens_nb import state
from claudelens_nb.store import connection

from .harness import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DashboardServer,
    dashboard_server,
    open_app,
    require_chromium,
)


@dataclass
class E2EDatabase:
    db: Database
    env: dict[str, str]
    home: Path
    export_dir: Path


@pytest.fixture(scope="module")
def e2e_db(mongo_uri: str, request: pytest.FixtureRequest,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[E2EDatabase]:
    """A fresh database seeded with demo conversations, and the env that points at it."""
    from claudelens_nb.demo import seed_demo

    require_chromium()
    name = f"e2e_{uuid.uuid4().hex[:10]}"
    home = tmp_path_factory.mktemp("e2e-home")
    export_dir = home / "exports"
    db = connection.connect(mongo_uri, name)
    sessions = getattr(request.module, "E2E_SESSIONS", 20)
    messages = getattr(request.module, "E2E_MESSAGES", 30)
    seed_demo(db, sessions=sessions, messages_per_session=messages, seed=7)
    env = {
        "CLAUDELENS_MONGODB_URI": mongo_uri, "CLAUDELENS_DB": name,
        "CLAUDELENS_HOME": str(home), "CLAUDELENS_EXPORT_DIR": str(export_dir),
        # Known to the test, so it can sign (and forge) download links.
        "CLAUDELENS_DASHBOARD_SECRET": uuid.uuid4().hex,
    }
    yield E2EDatabase(db, env, home, export_dir)
    db.client.drop_database(name)
    state.forget(db)


@pytest.fixture(scope="module")
def dashboard(e2e_db: E2EDatabase, output_dir: Path, request: pytest.FixtureRequest) -> Iterator[DashboardServer]:
    log = output_dir / f"dashboard-{request.module.__name__.rsplit('.', 1)[-1]}.log"
    with dashboard_server(e2e_db.env, log) as server:
        yield server


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    require_chromium()
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture(scope="module")
def context(browser: object) -> Iterator[object]:
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True,  # type: ignore[attr-defined]
                              color_scheme="light")
    ctx.set_default_timeout(60_000)
    yield ctx
    ctx.close()


@pytest.fixture(scope="module")
def app_page(context: object, dashboard: DashboardServer) -> Iterator[object]:
    """One loaded dashboard page shared by the tests of a module (a kernel start is slow)."""
    page = open_app(context, dashboard.url)
    yield page
    page.close()


__all__ = ["app_page", "browser", "context", "dashboard", "e2e_db"]
