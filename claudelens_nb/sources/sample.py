"""A realistic Claude Code projects folder, generated: for notebooks, demos and benchmarks.

`write_projects(root, sessions, lines, seed)` writes `<encoded cwd>/<session>.jsonl` files
over ten project folders: user prompts, assistant text with tool_use (some responses split
over two lines sharing `message.id`/`requestId`, as Claude Code writes them), tool results
with `toolUseResult`, bookkeeping lines, summary and ai-title lines, and sub-agent files.
Deterministic for a given seed.
"""

from __future__ import annotations

import json
import random
import uuid as uuidlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

MODELS = ["claude-sonnet-4-5-20250929", "claude-opus-4-5-20251101", "claude-haiku-4-5-20251001"]
_PHRASE = ("the parser fails when the input has trailing spaces so we strip them first and "
           "then split on commas before converting each field café 日本語 ✅")
WORDS = _PHRASE.split(" ")
TOOLS = [("Bash", lambda r: {"command": r.choice(["pytest -q", "git status", "ls -la src"])}),
         ("Read", lambda r: {"file_path": f"src/mod_{r.randint(1, 40)}.py"}),
         ("Edit", lambda r: {"file_path": "src/app.py", "old_string": _text(r, 20), "new_string": _text(r, 25)}),
         ("Grep", lambda r: {"pattern": r.choice(["TODO", "def main", "import json"])})]


def _text(r: random.Random, words: int) -> str:
    return " ".join(r.choice(WORDS) for _ in range(words))


class _Writer:
    def __init__(self, r: random.Random, sid: str, cwd: str, start: datetime) -> None:
        self.r, self.sid, self.cwd, self.t = r, sid, cwd, start
        self.lines: list[str] = []
        self.parent: str | None = None

    def _id(self) -> str:
        return str(uuidlib.UUID(int=self.r.getrandbits(128), version=4))

    def _base(self, kind: str, sidechain: bool = False) -> dict:
        self.t += timedelta(seconds=self.r.randint(1, 40), milliseconds=self.r.randint(0, 999))
        uid = self._id()
        line = {"parentUuid": self.parent, "isSidechain": sidechain, "userType": "external",
                "cwd": self.cwd, "sessionId": self.sid, "version": "2.0.50", "gitBranch": "main",
                "type": kind, "uuid": uid, "timestamp": self.t.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"}
        self.parent = uid
        return line

    def emit(self, obj: dict) -> None:
        self.lines.append(json.dumps(obj, ensure_ascii=False))

    def user(self, sidechain: bool = False) -> None:
        line = self._base("user", sidechain)
        line["message"] = {"role": "user", "content": _text(self.r, self.r.randint(8, 120))}
        self.emit(line)

    def assistant(self, tools: int, sidechain: bool = False) -> list[str]:
        r = self.r
        model = r.choice(MODELS)
        msg_id, req = "msg_" + self._id()[:24], "req_" + self._id()[:24]
        usage: dict[str, Any] = {"input_tokens": r.randint(3, 400), "output_tokens": r.randint(20, 2000),
                 "cache_creation_input_tokens": r.choice([0, r.randint(500, 20000)]),
                 "cache_read_input_tokens": r.randint(0, 150000), "service_tier": "standard"}
        if usage["cache_creation_input_tokens"] and r.random() < 0.3:
            w = usage["cache_creation_input_tokens"]
            usage["cache_creation"] = {"ephemeral_5m_input_tokens": w // 2, "ephemeral_1h_input_tokens": w - w // 2}
        blocks: list[dict] = [{"type": "text", "text": _text(r, r.randint(10, 250))}]
        ids = []
        for _ in range(tools):
            name, make = r.choice(TOOLS)
            tid = "toolu_" + self._id()[:24]
            ids.append(tid)
            blocks.append({"type": "tool_use", "id": tid, "name": name, "input": make(r)})
        # Claude Code writes a response's blocks as separate lines sharing id and requestId.
        split = tools and r.random() < 0.5
        parts = [blocks[:1], blocks[1:]] if split else [blocks]
        for content in parts:
            line = self._base("assistant", sidechain)
            line["requestId"] = req
            line["message"] = {"id": msg_id, "type": "message", "role": "assistant", "model": model,
                               "content": content, "stop_reason": "tool_use" if tools else "end_turn",
                               "stop_sequence": None, "usage": usage}
            if r.random() < 0.1:
                line["costUSD"] = round(r.random() / 10, 6)
            self.emit(line)
        return ids

    def results(self, ids: list[str], sidechain: bool = False) -> None:
        line = self._base("user", sidechain)
        outs = [_text(self.r, self.r.randint(30, 400)) for _ in ids]
        line["message"] = {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": t, "content": o} for t, o in zip(ids, outs, strict=True)]}
        line["toolUseResult"] = {"stdout": outs[0], "stderr": "", "interrupted": False}
        self.emit(line)

    def bookkeeping(self) -> None:
        kind = self.r.choice(["progress", "file-history-snapshot", "attachment", "queue-operation"])
        if kind == "file-history-snapshot":
            self.emit({"type": kind, "messageId": self.parent, "isSnapshotUpdate": False,
                       "snapshot": {"messageId": self.parent, "trackedFileBackups": {}}})
        else:
            line = self._base(kind)
            line["data"] = {"type": "bash_progress", "output": _text(self.r, 10)}
            self.emit(line)


def write_projects(root: Path, sessions: int = 12, lines: int = 600, seed: int = 7) -> int:
    """Write the projects folder; returns the number of lines written."""
    r = random.Random(seed)
    per = lines // sessions
    total = 0
    prev_leaf: dict[int, str] = {}
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for n in range(sessions):
        project = n % 10
        cwd = f"/home/dev/src/project-{project}"
        folder = root / ("-" + cwd.strip("/").replace("/", "-"))
        folder.mkdir(parents=True, exist_ok=True)
        sid = str(uuidlib.UUID(int=r.getrandbits(128), version=4))
        t0 = start + timedelta(hours=n * 7)
        agent_target = per // 10 if n % 5 == 0 else 0
        agent = _Writer(r, sid, cwd, t0 + timedelta(minutes=5))
        while len(agent.lines) < agent_target:
            agent.user(True)
            agent.results(agent.assistant(1, True), True)
        agent.lines = agent.lines[:agent_target]
        w = _Writer(r, sid, cwd, t0)
        if project in prev_leaf:
            w.emit({"type": "summary", "summary": _text(r, 6), "leafUuid": prev_leaf[project]})
        main_target = per - agent_target - 1
        while len(w.lines) < main_target:
            w.user()
            ids = w.assistant(r.choice([0, 1, 1, 2]))
            if ids:
                if r.random() < 0.4:
                    w.bookkeeping()
                w.results(ids)
                w.assistant(0)
        w.lines = w.lines[:main_target]
        w.emit({"type": "ai-title", "aiTitle": _text(r, 4), "sessionId": sid})
        leaf = next((json.loads(x)["uuid"] for x in reversed(w.lines) if '"uuid"' in x), None)
        if leaf:
            prev_leaf[project] = leaf
        (folder / f"{sid}.jsonl").write_text("\n".join(w.lines) + "\n", encoding="utf-8")
        total += len(w.lines)
        if agent.lines:
            sub = folder / sid / "subagents"
            sub.mkdir(parents=True, exist_ok=True)
            (sub / "agent-a1b2c3.jsonl").write_text("\n".join(agent.lines) + "\n", encoding="utf-8")
            total += len(agent.lines)
    return total


