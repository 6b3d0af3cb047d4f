"""Shared benchmark plumbing: a throwaway embedded server, seeding, and measuring a step
in a fresh subprocess (wall time and peak RSS of that process alone)."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from claudelens_nb.store import connection, server

DB_NAME = "bench"


@contextmanager
def embedded_server() -> Any:
    """An embedded SecantusDB server in a temporary data folder, stopped afterwards."""
    home = Path(tempfile.mkdtemp(prefix="claudelens-bench-"))
    info = server.ensure_server(home)
    try:
        yield info.uri, home
    finally:
        connection.close_all()
        server.stop_server(home)


def seed(uri: str, messages: int, per_session: int = 100, seed: int = 1, db_name: str = DB_NAME) -> float:
    from claudelens_nb.demo import seed_demo

    db = connection.connect(uri, db_name)
    t = time.perf_counter()
    seed_demo(db, sessions=messages // per_session, messages_per_session=per_session, seed=seed)
    return time.perf_counter() - t


def measure(script: str, step: str, **params: Any) -> dict[str, Any]:
    """Run `script --step STEP --params JSON` in a fresh interpreter; it prints one JSON line."""
    out = subprocess.run(
        [sys.executable, script, "--step", step, "--params", json.dumps(params)],
        capture_output=True, text=True, check=False, env=os.environ.copy(),
    )
    if out.returncode != 0:
        raise RuntimeError(f"step {step} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_step(fn: Callable[[], Any]) -> None:
    """Inside the subprocess: time `fn`, print seconds, peak RSS (MB) and its result."""
    t = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - t
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb, "result": result}))


def baseline_rss_mb(imports: str) -> float:
    """Peak RSS of an interpreter that only imports `imports` (what a step costs on top)."""
    code = f"{imports}\nimport resource; print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip())
