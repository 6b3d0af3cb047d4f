"""claudelens-nb: the command line, a thin face over the library.

Each verb lives in its own module with `register(subparsers)`; the handler it sets
returns the process exit code.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from ..errors import ClaudeLensError

# Modules that add verbs, in the order `--help` lists them.
COMMAND_MODULES = [
    "claudelens_nb.cli.db_cmd",
    "claudelens_nb.cli.demo_cmd",
    "claudelens_nb.cli.dashboard_cmd",
    "claudelens_nb.cli.import_cmd",
    "claudelens_nb.cli.export_cmd",
    "claudelens_nb.cli.history_cmd",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="claudelens-nb",
        description="Export, import and analyse ClaudeLens conversations.",
    )
    parser.add_argument("--uri", help="MongoDB URI (default: $CLAUDELENS_MONGODB_URI, else the embedded server)")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def _version() -> str:
    from .. import __version__

    return __version__


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        return int(args.handler(args) or 0)
    except ClaudeLensError as exc:
        print(f"error [{exc.code}]: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
