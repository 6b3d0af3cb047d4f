"""What an import warns about (skipped lines with file:line, unpriced models...): the first
few for printing, as mongoimport does, and every one kept in the import job record."""

from __future__ import annotations

from collections.abc import Sequence

from bson import ObjectId
from pymongo.database import Database

from ..reading import Problem
from ..store import collections as names

SHOWN = 10  # warnings printed after an import
JOB_BYTES = 4 * 1024**2  # warning text kept in one job document (the count is always exact)


def keep(db: Database, job_id: ObjectId, warnings: Sequence[Problem | str], count: int) -> None:
    """Store the warnings in the job record: all of them, up to JOB_BYTES of text."""
    kept: list[str] = []
    size = 0
    for w in warnings:
        text = str(w)
        size += len(text.encode("utf-8", "replace")) + 8
        if size > JOB_BYTES:
            break
        kept.append(text)
    db[names.IMPORT_JOBS].update_one({"_id": job_id}, {"$set": {
        "warnings": kept, "warning_count": max(count, len(kept))}})


def summary(messages: Sequence[str], count: int, shown: int = SHOWN) -> list[str]:
    """Lines to print: the count, the first `shown` warnings, how many more and where they are."""
    if not count:
        return []
    lines = [f"{count} warning(s):" if count <= shown else f"{count} warnings, the first {shown}:"]
    lines += [f"  {m}" for m in messages[:shown]]
    if count > shown:
        lines.append(f"  ... and {count - shown} more (all in the import job record)")
    return lines
