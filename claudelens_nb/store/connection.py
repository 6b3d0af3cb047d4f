"""connect(): the URI argument, then CLAUDELENS_MONGODB_URI, then the embedded server."""

from __future__ import annotations

import re

from pymongo import MongoClient, uri_parser
from pymongo.database import Database
from pymongo.errors import ConfigurationError, InvalidURI, PyMongoError

from .. import state
from ..config import settings
from ..errors import DatabaseUnavailable
from .schema import ensure_schema
from .server import ensure_server

_SELECTION_TIMEOUT_MS = 4000


def redact_uri(uri: str) -> str:
    """The URI with any password replaced by `***`."""
    return re.sub(r"(mongodb(?:\+srv)?://[^:/@]+):[^@]*@", r"\1:***@", uri)


def _hosts(uri: str) -> str:
    """The hosts a URI names (a mongodb+srv URI: its domain, not looked up), by pymongo's parser."""
    plain = uri
    if uri.startswith(uri_parser.SRV_SCHEME):
        plain = uri_parser.SCHEME + uri[len(uri_parser.SRV_SCHEME):]
    try:
        nodes = uri_parser.parse_uri(plain, default_port=None, validate=False)["nodelist"]
    except (InvalidURI, ConfigurationError, ValueError):
        return redact_uri(uri)
    return ",".join((f"[{h}]" if ":" in h else h) + ("" if p is None else f":{p}") for h, p in nodes)


def client_for(uri: str) -> MongoClient:
    """A shared, pinged client for `uri`; raises DatabaseUnavailable naming the host."""
    with state.clients_lock:
        client = state.clients.get(uri)
        if client is not None:
            return client
        try:
            client = MongoClient(
                uri,
                tz_aware=True,
                serverSelectionTimeoutMS=_SELECTION_TIMEOUT_MS,
                connectTimeoutMS=_SELECTION_TIMEOUT_MS,
                appname="claudelens_nb",
            )
            client.admin.command("ping")
        except (InvalidURI, ConfigurationError) as exc:
            raise DatabaseUnavailable(
                f"invalid MongoDB URI {redact_uri(uri)}: {redact_uri(str(exc))}"
            ) from None
        except PyMongoError as exc:
            kind = type(exc).__name__
            raise DatabaseUnavailable(
                f"cannot reach MongoDB at {_hosts(uri)} ({redact_uri(uri)}): {kind}"
            ) from None
        state.clients[uri] = client
        return client


def uri_of(client: MongoClient) -> str | None:
    """The URI a shared client was made from (None for a client made elsewhere)."""
    with state.clients_lock:
        return next((uri for uri, c in state.clients.items() if c is client), None)


def resolve_uri(uri: str | None = None) -> str:
    """Which server to use, in the documented order; starts the embedded one if needed."""
    if uri:
        return uri
    cfg = settings()
    if cfg.uri:
        return cfg.uri
    return ensure_server(cfg.home).uri


def connect(uri: str | None = None, db_name: str | None = None) -> Database:
    """A handle on the ClaudeLens database, with its indexes in place."""
    real_uri = resolve_uri(uri)
    client = client_for(real_uri)
    # Else the URI's database (pymongo parsed it), else CLAUDELENS_DB.
    db = client.get_database(db_name) if db_name else client.get_default_database(settings().db_name)
    ensure_schema(db)
    return db


def close_all() -> None:
    """Close every cached client (tests, dashboard shutdown)."""
    state.close_clients()
