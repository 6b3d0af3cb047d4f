"""The state the package keeps in its process between calls, in one place.

- `clients`: one pinged MongoClient per URI (`store/connection.py`);
- `schema_ready` / `indexed`: databases, and message collections, whose indexes are in
  place (`store/schema.py`);
- `recent_facts`: a database's facts as last read, for a couple of seconds (`store/facts.py`);
- `bulk_gc`: the collector's threshold while bulk work runs (`bulk.py`);
- environment variables the package sets (`set_environ`: the dashboard's settings for its
  kernels).

`forget(db)` drops what is remembered about one database (after it is dropped);
`reset()` returns the process to a fresh start (tests).
"""

from __future__ import annotations

import gc
import os
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pymongo import MongoClient
    from pymongo.database import Database

clients: dict[str, MongoClient] = {}
clients_lock = threading.Lock()

schema_ready: set[tuple[str, str]] = set()
indexed: set[tuple[str, str, str]] = set()
schema_lock = threading.Lock()

recent_facts: dict[tuple[str, str], tuple[float, dict[str, list]]] = {}


@dataclass
class BulkGc:
    """How many bulk loops are running, and the threshold to restore when the last ends."""

    depth: int = 0
    saved: tuple[int, int, int] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)


bulk_gc = BulkGc()

# name -> (value before our first write, value we wrote last)
_environ: dict[str, tuple[str | None, str]] = {}


def db_key(db: Database) -> tuple[str, str]:
    """How the caches name a database: its server's address and its name."""
    return repr(db.client.address), db.name


def set_environ(name: str, value: str, *, keep: bool = False) -> str:
    """Set an environment variable (`keep`: only when unset); returns its value."""
    before = os.environ.get(name)
    if keep and before is not None:
        return before
    _environ[name] = (_environ[name][0] if name in _environ else before, value)
    os.environ[name] = value
    return value


def forget(db: Database) -> None:
    """Drop what is remembered about one database (its indexes, its facts)."""
    key = db_key(db)
    with schema_lock:
        schema_ready.discard(key)
        indexed.difference_update({k for k in indexed if k[:2] == key})
    recent_facts.pop(key, None)


def close_clients() -> None:
    with clients_lock:
        for client in clients.values():
            client.close()
        clients.clear()


def reset() -> None:
    """Back to a fresh process: clients closed, caches emptied, the collector's threshold
    restored, and environment variables we set put back (unless changed since)."""
    close_clients()
    with schema_lock:
        schema_ready.clear()
        indexed.clear()
    recent_facts.clear()
    with bulk_gc.lock:
        if bulk_gc.saved is not None:
            gc.set_threshold(*bulk_gc.saved)
        bulk_gc.depth, bulk_gc.saved = 0, None
    for name, (before, wrote) in list(_environ.items()):
        if os.environ.get(name) == wrote:
            if before is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = before
        del _environ[name]

