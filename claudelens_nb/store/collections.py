"""The one place that knows where messages live.

Current ClaudeLens writes messages into monthly collections `messages_YYYY_MM` chosen by
the message's timestamp; old deployments have a single `messages` collection. Readers go
through `message_collections`, writers through `collection_for`.
"""

from __future__ import annotations

import re
from datetime import datetime

from pymongo.collection import Collection
from pymongo.database import Database

PROJECTS = "projects"
SESSIONS = "sessions"
EXPORT_JOBS = "export_jobs"
IMPORT_JOBS = "import_jobs"
FACTS = "claudelens_nb_facts"
LEGACY_MESSAGES = "messages"
_MONTHLY = re.compile(r"^messages_(\d{4})_(\d{2})$")


def monthly_name(ts: datetime) -> str:
    return f"messages_{ts.year:04d}_{ts.month:02d}"


def message_collection_names(db: Database) -> list[str]:
    """Every message collection in the database, legacy first, then months in order."""
    names = db.list_collection_names()
    monthly = sorted(n for n in names if _MONTHLY.match(n))
    return ([LEGACY_MESSAGES] if LEGACY_MESSAGES in names else []) + monthly


def message_collections(db: Database) -> list[Collection]:
    return [db[name] for name in message_collection_names(db)]


def uses_single_collection(db: Database) -> bool:
    """True for an old deployment: messages in a `messages` collection, no monthly ones.

    Upstream's db_init creates an empty `messages` beside the monthly collections its ingest
    writes, so an empty one does not count.
    """
    names = message_collection_names(db)
    return names == [LEGACY_MESSAGES] and db[LEGACY_MESSAGES].find_one({}, {"_id": 1}) is not None


def collection_for(db: Database, ts: datetime, *, single: bool | None = None) -> Collection:
    """Where ClaudeLens would write a message with timestamp `ts`."""
    if single is None:
        single = uses_single_collection(db)
    return db[LEGACY_MESSAGES] if single else db[monthly_name(ts)]
