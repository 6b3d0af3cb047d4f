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
from collections.abc import Iterator

from .state import bulk_gc

BULK_THRESHOLD = 50_000  # young objects between passes while bulk work runs


@contextlib.contextmanager
def fewer_collections() -> Iterator[None]:
    """Run the collector's young pass every BULK_THRESHOLD objects instead of 700 while
    inside; nested and concurrent uses share one setting, restored when the last leaves.

    The collector stays on, so a cycle made meanwhile (by another thread too) is still
    freed, only later.
    """
    with bulk_gc.lock:
        if bulk_gc.depth == 0:
            bulk_gc.saved = saved = gc.get_threshold()
            gc.set_threshold(max(BULK_THRESHOLD, saved[0]), saved[1], saved[2])
        bulk_gc.depth += 1
    try:
        yield
    finally:
        with bulk_gc.lock:
            bulk_gc.depth = max(0, bulk_gc.depth - 1)  # state.reset() may have cleared it
            if bulk_gc.depth == 0 and bulk_gc.saved is not None:
                gc.set_threshold(*bulk_gc.saved)
                bulk_gc.saved = None
