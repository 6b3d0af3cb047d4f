"""The export's read path: conversation records from the database, in batches.

Two readers, one interface (`iter(cancel)` yielding lists of records, `close()`):
- `scan.CollectionScan`: one plain, unsorted pass over the sessions collection and then
  every message collection, for the machine formats (JSON, JSONL, CSV, Parquet) when they
  take a good share of the database. Its fetching runs in a child process
  (`store.drain.RawDrain`) that talks over `multiprocessing.connection` pipes.
- `chunks.Prefetch`: chunks of conversations fetched by id (oldest first for Markdown and
  PDF, or id order), fetched ahead by a thread.

`open_stream` picks one. A scan that meets a message its session document says cannot be
there raises `LateMessage`; the export then starts again with `by_chunks`.
See docs/architecture.md ("Concurrency") for what runs where.
"""

from __future__ import annotations

from pymongo.database import Database

from ...filters import Filter
from ...store import collections as names
from ...store.drain import available as scan_available
from .chunks import BY_DATE, BY_ID, Prefetch, by_chunks, iter_conversations, plan_chunks
from .scan import CollectionScan, LateMessage

SCAN_SHARE = 0.25  # of all conversations: from here one scan beats fetching by id

__all__ = ["BY_DATE", "BY_ID", "CollectionScan", "LateMessage", "Prefetch", "by_chunks",
           "iter_conversations", "open_stream", "plan_chunks"]


def open_stream(db: Database, flt: Filter, *, order: str, matched: int,
                chunk_size: int) -> Prefetch | CollectionScan:
    """The cheaper reader for this export; `matched` is how many conversations it has.

    `order` is the format's (formats.Format.order): a scan for "any" and "placed" (the
    writer places conversations by `CollectionScan.positions`), else chunks oldest first.
    """
    if order in ("any", "placed"):
        total = db[names.SESSIONS].estimated_document_count()
        if total and matched >= SCAN_SHARE * total and scan_available(db):
            return CollectionScan(db, flt)
    return by_chunks(db, flt, chunk_size, order=order)
