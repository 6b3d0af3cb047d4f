"""The embedded SecantusDB server: started once per data folder, shared by every process.

A state file (`server.json`: pid, port, storage path) under CLAUDELENS_HOME lets a second
process find and reuse a running server; a lock file serialises start-up; a state file
whose process is gone or whose port does not answer is stale and replaced.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil
from filelock import FileLock
from pymongo import MongoClient
from pymongo.errors import PyMongoError

from ..config import settings
from ..errors import DatabaseUnavailable

START_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class ServerInfo:
    pid: int
    port: int
    storage_path: str

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/?directConnection=true"


def _paths(home: Path) -> tuple[Path, Path, Path, Path]:
    return home / "server.json", home / "server.lock", home / "db", home / "server.log"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pid_alive(pid: object) -> bool:
    """True when a process with this pid exists and is not a zombie."""
    if not isinstance(pid, int):
        return False
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True
    except ValueError:  # a negative pid
        return False


def ping(uri: str, timeout_ms: int = 1500) -> bool:
    """True when a MongoDB-protocol server answers `ping` at `uri`."""
    client: MongoClient = MongoClient(
        uri, serverSelectionTimeoutMS=timeout_ms, connectTimeoutMS=timeout_ms
    )
    try:
        client.admin.command("ping")
        return True
    except PyMongoError:
        return False
    finally:
        client.close()


def _read_state(state_file: Path) -> ServerInfo | None:
    try:
        data = json.loads(state_file.read_text())
        return ServerInfo(int(data["pid"]), int(data["port"]), str(data["storage_path"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _locked(lock_file: Path) -> FileLock:
    """An exclusive lock between processes on this data folder (held while starting or stopping)."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    return FileLock(lock_file)


def _executable() -> list[str]:
    beside = Path(sys.executable).with_name("secantusd-py")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("secantusd-py")
    if found:
        return [found]
    return [sys.executable, "-c", "import sys; from secantus.cli import main; sys.exit(main())"]


def status(home: Path | None = None) -> ServerInfo | None:
    """The running server for this data folder, or None (a stale state file counts as none)."""
    home = home or settings().home
    state_file, _, _, _ = _paths(home)
    info = _read_state(state_file)
    if info and pid_alive(info.pid) and ping(info.uri):
        return info
    return None


def ensure_server(home: Path | None = None) -> ServerInfo:
    """Return the running server for `home`, starting one if there is none."""
    home = home or settings().home
    state_file, lock_file, storage, log_file = _paths(home)
    with _locked(lock_file):
        info = _read_state(state_file)
        if info and pid_alive(info.pid) and ping(info.uri):
            return info
        if info and pid_alive(info.pid):
            # Alive but not answering: a wedged server still holds the WiredTiger files.
            _terminate(info.pid)
        state_file.unlink(missing_ok=True)
        storage.mkdir(parents=True, exist_ok=True)
        port = _free_port()
        cmd = [
            *_executable(),
            "--host", "127.0.0.1",
            "--port", str(port),
            "--storage-path", str(storage),
            "--log-level", "WARNING",
        ]
        with open(log_file, "ab") as log:
            proc = subprocess.Popen(
                cmd,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                close_fds=True,
            )
        info = ServerInfo(proc.pid, port, str(storage))
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise DatabaseUnavailable(
                    f"the embedded SecantusDB server exited at start (code {proc.returncode}); "
                    f"see {log_file}"
                )
            if ping(info.uri, timeout_ms=500):
                state_file.write_text(json.dumps(asdict(info)))
                return info
            time.sleep(0.2)
        _terminate(proc.pid)
        raise DatabaseUnavailable(
            f"the embedded SecantusDB server did not answer within {START_TIMEOUT_S:.0f}s; "
            f"see {log_file}"
        )


def _terminate(pid: int, timeout: float = 15.0) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        # Reap it if it is our child; otherwise poll for it to disappear.
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, os.WNOHANG)
        if not pid_alive(pid):
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def stop_server(home: Path | None = None) -> bool:
    """Stop the server for `home`. True when one was running."""
    home = home or settings().home
    state_file, lock_file, _, _ = _paths(home)
    with _locked(lock_file):
        info = _read_state(state_file)
        state_file.unlink(missing_ok=True)
        if info and pid_alive(info.pid):
            _terminate(info.pid)
            return True
        return False
