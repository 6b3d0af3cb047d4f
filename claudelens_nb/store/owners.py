"""Who owns imported projects: upstream ClaudeLens lists only projects whose `user_id` is
the signed-in user's, so imports stamp the owner upstream's ingest would."""

from __future__ import annotations

import hashlib

from bson import ObjectId
from pymongo.database import Database

from ..errors import ErrorCode, ImportFileError

USERS = "users"


def resolve_owner(db: Database, owner: str | None = None) -> ObjectId | None:
    """The `users` _id that `owner` names (an id, user name, email or API key).

    Without `owner`: the database's only user, when it has exactly one; else None (the
    projects get no owner, as before upstream had users).
    """
    users = db[USERS]
    if owner is None:
        found = list(users.find({}, {"_id": 1}).limit(2))
        return found[0]["_id"] if len(found) == 1 else None
    owner = owner.strip()
    if ObjectId.is_valid(owner):
        doc = users.find_one({"_id": ObjectId(owner)}, {"_id": 1})
        if doc:
            return doc["_id"]
    doc = users.find_one({"$or": [{"username": owner}, {"email": owner}]}, {"_id": 1})
    if doc is None:
        key_hash = hashlib.sha256(owner.encode()).hexdigest()
        doc = users.find_one({"api_keys.key_hash": key_hash}, {"_id": 1})
    if doc is None:
        raise ImportFileError(
            f"owner {owner!r}: no user with that id, user name, email or API key in "
            f"'{db.name}.{USERS}'", code=ErrorCode.UNKNOWN_OWNER)
    return doc["_id"]
