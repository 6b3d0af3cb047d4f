"""Connecting, the ClaudeLens schema, and where each collection lives."""

from .collections import collection_for, message_collection_names, message_collections
from .connection import connect, redact_uri
from .schema import ensure_message_indexes, ensure_schema

__all__ = [
    "collection_for",
    "connect",
    "ensure_message_indexes",
    "ensure_schema",
    "message_collection_names",
    "message_collections",
    "redact_uri",
]
