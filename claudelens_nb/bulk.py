"""Settings for bulk work: loops that make and drop millions of small dicts.

CPython's cyclic garbage collector starts a young-generation pass every 700 net new
container objects, and every tenth of those scans older ones. A bulk export creates a
dict per message and keeps some thousands alive (the batch being written, messages
waiting for their conversation): about one pass per ten messages, 15% of an export's CPU,
for records that hold no reference cycles and are freed by reference counting anyway.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator

BULK_THRESHOLD = 50_000  # young objects between passes while bulk work runs

_lock = threading.Lock()
_depth = 0
_saved: tuple[int, int, int] | None = None


@contextlib.contextmanager
def fewer_collections() -> Iterator[None]:
    """Run the collector's young pass every BULK_THRESHOLD objects instead of 700 while
    inside; nested and concurrent uses share one setting, restored when the last leaves.

    The collector stays on, so a cycle made meanwhile (by another thread too) is still
    freed, only later.
    """
    global _depth, _saved
    with _lock:
        if _depth == 0:
            _saved = gc.get_threshold()
            gc.set_threshold(max(BULK_THRESHOLD, _saved[0]), _saved[1], _saved[2])
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _saved is not None:
                gc.set_threshold(*_saved)
                _saved = None
