"""nbval runs the notebooks as a new user would: against an embedded server they start
themselves, here in a throwaway data folder so the run never touches a real one."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

_HOME: Path | None = None


def pytest_configure(config) -> None:  # noqa: ANN001
    global _HOME
    if not config.getoption("--nbval", default=False):
        return
    _HOME = Path(tempfile.mkdtemp(prefix="claudelens-notebooks-"))
    os.environ["CLAUDELENS_HOME"] = str(_HOME)
    os.environ.pop("CLAUDELENS_MONGODB_URI", None)
    os.environ.pop("CLAUDELENS_DB", None)
    os.environ["CLAUDELENS_EXPORT_DIR"] = str(_HOME / "exports")


def pytest_unconfigure(config) -> None:  # noqa: ANN001
    if _HOME is None:
        return
    from claudelens_nb.store import server

    server.stop_server(_HOME)
    shutil.rmtree(_HOME, ignore_errors=True)
