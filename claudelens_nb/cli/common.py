"""Helpers shared by the CLI verbs."""

from __future__ import annotations

import argparse

from pymongo.database import Database

from ..progress import human_size as human_size  # the verbs' import


def database(args: argparse.Namespace) -> Database:
    from ..store import connect

    return connect(getattr(args, "uri", None))
