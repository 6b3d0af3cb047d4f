"""Helpers shared by the CLI verbs."""

from __future__ import annotations

import argparse

from pymongo.database import Database


def database(args: argparse.Namespace) -> Database:
    from ..store import connect

    return connect(getattr(args, "uri", None))


def human_size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if abs(n) < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"
