"""Following Claude Code transcripts while Claude Code writes them: a checkpointed sync every
`interval` seconds (polling stats files only; a file is read only when it changed), so new
lines are imported within seconds; a half-written last line waits for its newline."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from pymongo.database import Database

from ..errors import Cancelled, ClaudeLensError
from ..progress import CancelToken
from .sync import SyncResult, sync_claude_code


def watch_claude_code(
    path: str | Path | None = None,
    *,
    db: Database | None = None,
    interval: float = 1.0,
    stop: CancelToken | None = None,
    on_sync: Callable[[SyncResult], None] | None = None,
    on_error: Callable[[ClaudeLensError], None] | None = None,
    owner: str | None = None,
) -> int:
    """Sync now, then again every `interval` s until `stop` is cancelled (or Ctrl-C).

    `on_sync` gets each result that imported something. Returns how many syncs did. A stop
    during a sync cancels it: its job ends "cancelled" and its lines are read again next time.
    A sync that fails (a file that cannot be read, the database away) goes to `on_error` and
    watching goes on, the lines to be read again; without `on_error` it is raised.
    """
    stop = stop or CancelToken()
    done = 0
    try:
        while not stop.cancelled:
            try:
                result = sync_claude_code(path, db=db, cancel=stop, owner=owner)
            except Cancelled:
                break
            except ClaudeLensError as exc:
                if on_error is None:
                    raise
                on_error(exc)
                result = None
            if result is not None and result.status not in ("unchanged", "cancelled"):
                done += 1
                if on_sync is not None:
                    on_sync(result)
            deadline = time.monotonic() + interval
            while not stop.cancelled and time.monotonic() < deadline:
                time.sleep(min(0.1, interval))
    except KeyboardInterrupt:
        stop.cancel()
    return done
