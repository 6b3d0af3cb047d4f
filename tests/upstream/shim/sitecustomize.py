"""Loaded by upstream ClaudeLens's processes in the interop tests (on their PYTHONPATH).

SecantusDB has no text indexes: the one shim the tests allow drops the text keys from
index requests (an index of only text keys is skipped), so the rest of upstream's index
set is created as upstream asks.
"""

from __future__ import annotations

from pymongo import collection as _collection
from pymongo.operations import IndexModel

_create_index = _collection.Collection.create_index
_create_indexes = _collection.Collection.create_indexes


def _no_text(keys):
    if isinstance(keys, str):
        return [(keys, 1)]
    if isinstance(keys, dict):
        keys = list(keys.items())
    return [(k, v) for k, v in keys if v != "text"]


def create_index(self, keys, *args, **kwargs):
    kept = _no_text(keys)
    if not kept:
        return "text_index_skipped"
    return _create_index(self, kept, *args, **kwargs)


def create_indexes(self, indexes, *args, **kwargs):
    kept = []
    for model in indexes:
        doc = dict(model.document)
        keys = _no_text(list(doc.pop("key").items()))
        if keys:
            doc.pop("name", None)
            kept.append(IndexModel(keys, **doc))
    if not kept:
        return []
    return _create_indexes(self, kept, *args, **kwargs)


_collection.Collection.create_index = create_index
_collection.Collection.create_indexes = create_indexes


# Upstream's code must reach nothing but this machine: a connection elsewhere is refused
# (its cost service, for one, has code that fetches a price list from the internet).
import ipaddress as _ipaddress  # noqa: E402
import socket as _socket  # noqa: E402

_connect = _socket.socket.connect


def _loopback(host) -> bool:
    if host in ("localhost", ""):
        return True
    try:
        return _ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def connect(self, address):
    if self.family in (_socket.AF_INET, _socket.AF_INET6) and not _loopback(address[0]):
        raise OSError(f"interop tests: upstream code may not connect to {address[0]}")
    return _connect(self, address)


_socket.socket.connect = connect
