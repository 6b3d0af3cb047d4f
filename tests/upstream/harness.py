"""Runs upstream ClaudeLens's own code (../shared/upstream/claudelens) against our server.

Every upstream piece runs in a process of its own, with `shim/` on its PYTHONPATH (the
text-index shim), so nothing of upstream's leaks into the test process:
- `App`: its FastAPI backend under uvicorn on 127.0.0.1, on one database (its lifespan
  runs db_init: validators and indexes);
- `make_user`: a user and API key through its UserService;
- `sync`: its `claudelens sync` CLI on a Claude config folder, posting to an `App`.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
UPSTREAM = Path(os.environ.get("CLAUDELENS_UPSTREAM", REPO.parent / "shared" / "upstream" / "claudelens"))
BACKEND = UPSTREAM / "backend"
CLI = UPSTREAM / "cli"
# Upstream's AI settings refuse to load without a Fernet key; a fixed test key.
FERNET_KEY = "ZmRmZGZkZmRmZGZkZmRmZGZkZmRmZGZkZmRmZGZkZmQ="


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def upstream_env(mongo_uri: str, db_name: str, home: Path, *paths: Path) -> dict[str, str]:
    """The environment of an upstream process on database `db_name`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLAUDELENS_", "CLAUDE_"))}
    env.update(
        PYTHONPATH=os.pathsep.join(str(p) for p in (HERE / "shim", *paths)),
        MONGODB_URL=mongo_uri,
        DATABASE_NAME=db_name,
        CLAUDELENS_ENCRYPTION_KEY=FERNET_KEY,
        HOME=str(home),
        BACKUP_STORAGE_PATH=str(home / "backups"),
        LOG_LEVEL="WARNING",
    )
    home.mkdir(parents=True, exist_ok=True)
    return env


def run_backend_script(code: str, mongo_uri: str, db_name: str, home: Path) -> str:
    """Runs `code` with upstream's backend importable; its `app.*` modules; returns stdout."""
    env = upstream_env(mongo_uri, db_name, home, BACKEND)
    done = subprocess.run([sys.executable, "-c", code], cwd=BACKEND, env=env,
                          capture_output=True, text=True, timeout=120)
    if done.returncode:
        raise RuntimeError(f"upstream script failed:\n{done.stderr[-4000:]}")
    return done.stdout


def db_init(mongo_uri: str, db_name: str, home: Path) -> None:
    """Upstream's initialize_database (validators, indexes) on `db_name`."""
    run_backend_script(
        "import asyncio\n"
        "from motor.motor_asyncio import AsyncIOMotorClient\n"
        "from app.core.config import settings\n"
        "from app.core.db_init import initialize_database\n"
        "async def main():\n"
        "    c = AsyncIOMotorClient(settings.MONGODB_URL)\n"
        "    await initialize_database(c[settings.DATABASE_NAME])\n"
        "asyncio.run(main())\n",
        mongo_uri, db_name, home)


def make_user(mongo_uri: str, db_name: str, home: Path, username: str = "alice") -> dict[str, str]:
    """A user made by upstream's UserService: {'user_id', 'api_key', 'username'}."""
    out = run_backend_script(
        "import asyncio, json\n"
        "from motor.motor_asyncio import AsyncIOMotorClient\n"
        "from app.core.config import settings\n"
        "from app.models.user import UserCreate, UserRole\n"
        "from app.services.user import UserService\n"
        "async def main():\n"
        "    c = AsyncIOMotorClient(settings.MONGODB_URL)\n"
        "    svc = UserService(c[settings.DATABASE_NAME])\n"
        f"    user, key = await svc.create_user(UserCreate(email='{username}@example.com',"
        f" username='{username}', role=UserRole.ADMIN))\n"
        "    print(json.dumps({'user_id': str(user.id), 'api_key': key}))\n"
        "asyncio.run(main())\n",
        mongo_uri, db_name, home)
    info = json.loads(out.strip().splitlines()[-1])
    info["username"] = username
    return info


class App:
    """Upstream's FastAPI backend served by uvicorn on 127.0.0.1."""

    def __init__(self, mongo_uri: str, db_name: str, home: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = home / f"uvicorn-{db_name}.log"
        env = upstream_env(mongo_uri, db_name, home, BACKEND)
        env["MIN_CONNECTIONS_COUNT"] = "0"
        self._logf = open(self.log, "w")  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1",
             "--port", str(self.port), "--log-level", "warning"],
            cwd=BACKEND, env=env, stdout=self._logf, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"upstream app exited:\n{self.log.read_text()[-4000:]}")
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"upstream app did not start:\n{self.log.read_text()[-4000:]}")
            time.sleep(0.2)

    def client(self, api_key: str) -> httpx.Client:
        return httpx.Client(base_url=f"{self.url}/api/v1", headers={"X-API-Key": api_key},
                            timeout=60, follow_redirects=True)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._logf.close()


def sync(app: App, api_key: str, claude_dir: Path, home: Path, *extra: str) -> str:
    """Upstream's `claudelens sync` of `claude_dir` (a folder holding `projects/`)."""
    env = upstream_env("", "", home, CLI)
    for k in ("MONGODB_URL", "DATABASE_NAME"):
        env.pop(k)
    env.update(CLAUDELENS_API_URL=app.url, CLAUDELENS_API_KEY=api_key,
               CLAUDE_DIR=str(claude_dir), COLUMNS="200")
    done = subprocess.run(
        [sys.executable, "-m", "claudelens_cli", "sync", "--claude-dir", str(claude_dir), *extra],
        cwd=CLI, env=env, capture_output=True, text=True, timeout=300)
    if done.returncode:
        raise RuntimeError(f"upstream sync failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done.stdout
