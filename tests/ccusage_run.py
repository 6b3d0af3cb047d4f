"""Running ccusage (the pinned npm package scripts/bootstrap.sh installs) beside our import."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

from pymongo.database import Database

from claudelens_nb.store import collections as names

REPO = Path(__file__).resolve().parents[1]
VERSION = "20.0.24"
TOKEN_FIELDS = (("inputTokens", "input_tokens"), ("outputTokens", "output_tokens"),
                ("cacheCreationTokens", "cache_creation_input_tokens"),
                ("cacheReadTokens", "cache_read_input_tokens"))


def ccusage_binary() -> str | None:
    """$CCUSAGE, else .venv/ccusage, else ccusage on PATH; only the pinned version counts."""
    for candidate in (os.environ.get("CCUSAGE"), str(REPO / ".venv/ccusage/node_modules/.bin/ccusage"),
                      shutil.which("ccusage")):
        if candidate and Path(candidate).exists():
            out = subprocess.run([candidate, "--version"], capture_output=True, text=True, check=False)
            if out.stdout.strip() == f"ccusage {VERSION}":
                return candidate
    return None


def ccusage_sessions(binary: str, config_dir: Path, home: Path) -> dict[str, dict[str, Any]]:
    """`ccusage claude session --json --offline` on CLAUDE_CONFIG_DIR=config_dir, by session id.

    HOME is a scratch folder, so nothing of the machine's own ~/.claude is read.
    """
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home),
           "CLAUDE_CONFIG_DIR": str(config_dir), "NO_COLOR": "1", "TZ": "UTC"}
    out = subprocess.run([binary, "claude", "session", "--json", "--offline"], capture_output=True,
                         text=True, env=env, check=False, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return {s["sessionId"]: s for s in json.loads(out.stdout)["sessions"]}


def claude_code_layout(files: list[Path], projects: Path) -> list[str]:
    """The fixture lines as Claude Code itself writes them: one compact-JSON file per session,
    `<sessionId>.jsonl`. A line without a session id (summary, broken line) stays with the
    session of the file it came from, byte for byte. Returns the session ids written."""
    out: dict[str, list[str]] = defaultdict(list)
    for f in files:
        parsed: list[tuple[str | None, str]] = []
        for raw in f.read_text(encoding="utf-8", errors="surrogateescape").splitlines():
            try:
                obj = json.loads(raw)
            except ValueError:
                parsed.append((None, raw))
                continue
            sid = obj.get("sessionId") if isinstance(obj, dict) else None
            text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
            parsed.append((sid if isinstance(sid, str) else None, text))
        sids = [s for s, _ in parsed if s]
        home = max(set(sids), key=sids.count) if sids else f.stem
        for sid, text in parsed:
            out[sid or home].append(text)
    folder = projects / "-tmp"
    folder.mkdir(parents=True, exist_ok=True)
    for sid, lines in out.items():
        (folder / f"{sid}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8",
                                             errors="surrogateescape")
    return sorted(out)


def our_sessions(db: Database) -> dict[str, dict[str, Any]]:
    """Tokens and cost per session as stored by our import (sessions with any tokens)."""
    totals: dict[str, dict[str, Any]] = defaultdict(lambda: {k: 0 for k, _ in TOKEN_FIELDS})
    for coll in names.message_collections(db):
        for doc in coll.find({"usage": {"$exists": True}}, {"sessionId": 1, "usage": 1}):
            t = totals[doc["sessionId"]]
            for ours, src in TOKEN_FIELDS:
                t[ours] += int(doc["usage"].get(src) or 0)
    for s in db[names.SESSIONS].find({"sessionId": {"$in": list(totals)}}):
        totals[s["sessionId"]]["totalCost"] = s["totalCost"].to_decimal()
    return {sid: t for sid, t in totals.items() if any(t[k] for k, _ in TOKEN_FIELDS)}


def disagreements(ours: dict[str, dict[str, Any]], theirs: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Session id -> what differs (tokens exactly, cost to a billionth of a dollar)."""
    out: dict[str, str] = {}
    for sid in sorted(set(ours) | set(theirs)):
        a, b = ours.get(sid), theirs.get(sid)
        if a is None or b is None:
            out[sid] = "only in ours" if b is None else "only in ccusage"
            continue
        diff = [f"{k} {a[k]} vs {b[k]}" for k, _ in TOKEN_FIELDS if a[k] != b[k]]
        if abs(a["totalCost"] - Decimal(str(b["totalCost"]))) > Decimal("0.000000001"):
            diff.append(f"cost {a['totalCost']} vs {b['totalCost']}")
        if diff:
            out[sid] = "; ".join(diff)
    return out
