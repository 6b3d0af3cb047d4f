"""--watch and watch_claude_code: new transcript lines are imported within seconds, a
half-written line waits, Ctrl-C (SIGINT) stops cleanly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from claude_code_lines import assistant, usage, user, write

from claudelens_nb import watch_claude_code
from claudelens_nb.progress import CancelToken
from claudelens_nb.store import collections as names


def _line(obj: dict) -> str:
    return json.dumps(obj, separators=(",", ":")) + "\n"


def _appears(db, uuid: str, seconds: float = 10.0) -> float | None:
    """Seconds until a message is stored, or None if it is not within `seconds`."""
    t = time.monotonic()
    while time.monotonic() - t < seconds:
        if any(c.find_one({"uuid": uuid}) for c in names.message_collections(db)):
            return time.monotonic() - t
        time.sleep(0.05)
    return None


def _session(root: Path) -> Path:
    return write(root / "-home-u-app" / "w1.jsonl", [
        user("w-u1", "w1", "2025-07-05T10:00:00.000Z"),
        assistant("w-a1", "w1", "2025-07-05T10:00:01.000Z", usage(3, 4))])


def test_watch_imports_appended_lines(db, tmp_path: Path) -> None:
    root = tmp_path / "projects"
    f = _session(root)
    stop = CancelToken()
    synced: list = []
    t = threading.Thread(target=lambda: synced.append(watch_claude_code(
        root, db=db, interval=0.2, stop=stop)), daemon=True)
    t.start()
    try:
        assert _appears(db, "w-a1") is not None
        half = _line(user("w-u2", "w1", "2025-07-05T10:01:00.000Z", "half"))
        with f.open("a") as fh:
            fh.write(half[:30])
        assert _appears(db, "w-u2", 1.0) is None  # waits for the rest of the line
        with f.open("a") as fh:
            fh.write(half[30:])
        took = _appears(db, "w-u2")
        assert took is not None and took < 5
    finally:
        stop.cancel()
        t.join(5)
    assert not t.is_alive() and synced == [2]
    session = db[names.SESSIONS].find_one({"sessionId": "w1"})
    assert session["messageCount"] == 3
    assert all(j["status"] == "completed" for j in db[names.IMPORT_JOBS].find())


def test_cli_watch_stops_on_ctrl_c(db, tmp_path: Path) -> None:
    cfg = tmp_path / "cfg"
    f = _session(cfg / "projects")
    env = dict(os.environ, CLAUDE_CONFIG_DIR=str(cfg), PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "claudelens_nb.cli", "import", "--claude-code",
                             "--watch", "--interval", "0.2", "--quiet"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert _appears(db, "w-a1", 30) is not None
        with f.open("a") as fh:
            fh.write(_line(user("w-u3", "w1", "2025-07-05T10:02:00.000Z", "more")))
        took = _appears(db, "w-u3")
        assert took is not None and took < 5
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "watching " in out and "stopped after 2 import(s)" in out
    assert "Traceback" not in err


def test_cli_watch_refuses_what_is_not_a_claude_code_folder(db, tmp_path: Path, capsys) -> None:
    from claudelens_nb.cli import main

    (tmp_path / "exports").mkdir()
    (tmp_path / "exports" / "a.jsonl").write_text('{"id": "c1", "messages": []}\n')
    assert main(["import", str(tmp_path / "exports"), "--watch"]) == 2
    assert "not one" in capsys.readouterr().err
    assert db[names.SESSIONS].count_documents({}) == 0
