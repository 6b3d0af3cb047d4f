"""Claude Code transcripts (`~/.claude/projects/<encoded path>/<session>.jsonl`) as conversations.

Input: a `projects` folder, one project folder, one `.jsonl`, `~/.claude` itself, or a zip of
any of them. Files are read one project folder at a time; sub-agent files
(`<session>/subagents/agent-*.jsonl`) join their parent session through `sessionId`.

Messages are shaped the way ClaudeLens's ingest shapes them: the line's `uuid` is the
message id (stable, so a re-import only adds new lines), `messageData` is the raw
`message`, an assistant line's tool_use blocks become `{uuid}_tool_{i}` documents whose
parent is the assistant message, a user line's tool_result parts become `{uuid}_result_{i}`
documents whose parent is the tool_use document they answer (else the user message).
Unlike ClaudeLens, split-out tool documents keep the line's own `isSidechain`, so
"sidechain" keeps meaning "written by a sub-agent".

Choices where the input is ambiguous:
- A `uuid` seen twice in one session: the line from the session's own file wins over a
  copy in another file, then the earlier line; a differing copy is reported as a warning.
- One API response written as several lines (same `message.id` and `requestId`): the
  earliest line carries usage and cost, the others get tokens None and cost None.
- Malformed lines are reported as warnings (file and line number) and skipped, so the
  rest of the input is imported (the import engine stops on errors).
- `summary` lines attach to the session holding their `leafUuid` (the summary of the latest
  leaf wins); `custom-title` beats `ai-title` for the title; without either the title is
  derived (summary, else the first user message that the user typed: not a caveat, a
  slash-command echo or a reminder).
"""

from __future__ import annotations

import itertools
import json
import math
import os
import re
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from .. import pricing, records
from ..reading import ReadReport
from . import archive
from .content import (
    as_str,
    duration_seconds,
    empty_tokens,
    flatten,
    parse_time,
    tool_summary,
)

KIND = "claude_code"
MESSAGE_KINDS = frozenset({"user", "assistant", "system"})
# Bookkeeping lines Claude Code writes that hold nothing a conversation needs.
SKIPPED_KINDS = frozenset({
    "file-history-snapshot", "queue-operation", "progress", "attachment", "last-prompt",
    "agent-name", "mode", "permission-mode", "cost-state", "tag", "pr-link", "hook",
})
TITLE_KINDS = {"custom-title": "customTitle", "ai-title": "aiTitle"}
_CONSUMED = frozenset({
    "type", "uuid", "parentUuid", "timestamp", "sessionId", "isSidechain", "message",
    "costUSD", "costUsd",
})
_USAGE_KEYS = (("input", "input_tokens"), ("output", "output_tokens"),
               ("cache_creation", "cache_creation_input_tokens"),
               ("cache_read", "cache_read_input_tokens"))
_COPIED_TO_PARTS = ("cwd", "gitBranch", "version", "userType", "requestId")
_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")
UNKNOWN_PROJECT = ("Unknown Project", "unknown")


def default_projects_dir() -> Path:
    """Where Claude Code keeps transcripts: $CLAUDE_CONFIG_DIR/projects or ~/.claude/projects."""
    base = os.environ.get("CLAUDE_CONFIG_DIR")
    return (Path(base).expanduser() if base else Path.home() / ".claude") / "projects"


def project_of(cwd: str | None) -> tuple[str, str]:
    """(name, path) of the project a working directory belongs to; Windows paths too."""
    if not cwd or not isinstance(cwd, str):
        return UNKNOWN_PROJECT
    windows = "\\" in cwd or bool(_DRIVE.match(cwd))
    pure = PureWindowsPath(cwd) if windows else PurePosixPath(cwd)
    return (pure.name or cwd), cwd


# ---------------------------------------------------------------- reading lines

@dataclass
class _Line:
    obj: dict[str, Any]
    file: str
    line: int
    order: int  # position in the whole read, for stable sorting
    ts: datetime


@dataclass
class _Plan:
    """What a cheap first pass over one project folder learns, before any line is parsed whole.

    Session ids, timestamps and line types come from a byte search on each line; only summary
    and title lines are parsed. The second pass then builds one session at a time, in time order.
    """

    entries: list[archive.Entry]
    files_of: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    first_ts: dict[str, datetime] = field(default_factory=dict)
    home: dict[str, str] = field(default_factory=dict)  # file -> the session it belongs to
    summaries: dict[str, list[tuple[int, str]]] = field(default_factory=lambda: defaultdict(list))
    summary_count: int = 0
    titles: dict[str, dict[str, str]] = field(default_factory=lambda: defaultdict(dict))


_META_TYPES = frozenset({b"summary", *(k.encode() for k in TITLE_KINDS)})


def _string_value(raw: bytes, key: bytes) -> bytes | None:
    """The text value of the first `"key": "..."` in a raw line, found without parsing it."""
    i = raw.find(key)
    if i < 0:
        return None
    start = raw.find(b'"', i + len(key))
    end = raw.find(b'"', start + 1)
    if start < 0 or end < 0 or raw[i + len(key):start].strip() != b":":
        return None
    return raw[start + 1:end]


def _unit_of(name: str) -> str:
    p = PurePosixPath(name)
    if p.parent.name == "subagents":
        return str(p.parent.parent.parent)
    return str(p.parent)


def _plan(entries: list[archive.Entry], report: ReadReport) -> _Plan:
    plan = _Plan(entries)
    first_raw: dict[str, bytes] = {}
    for index, entry in enumerate(entries):
        counts: Counter = Counter()
        titles: list[tuple[str | None, str, str]] = []
        with entry.open() as fh:
            for raw in fh:
                found = _string_value(raw, b'"sessionId"')
                if found:
                    sid = found.decode("utf-8", "replace")
                    counts[sid] += 1
                    # ISO stamps of one writer compare as bytes; parsed once at the end.
                    stamp = _string_value(raw, b'"timestamp"')
                    if stamp and (sid not in first_raw or stamp < first_raw[sid]):
                        first_raw[sid] = stamp
                if _string_value(raw, b'"type"') in _META_TYPES:
                    _meta_line(raw, plan, titles, report)
        for sid in counts:
            plan.files_of[sid].append(index)
        stem = PurePosixPath(entry.name).stem
        owner = stem if stem in counts else (counts.most_common(1)[0][0] if counts else None)
        if owner:
            plan.home[entry.name] = owner
        for sid, key, text in titles:
            if sid or owner:
                plan.titles[sid or owner][key] = text  # type: ignore[index]
    for sid, stamp in first_raw.items():
        ts = parse_time(stamp.decode("ascii", "replace"))
        if ts is not None:
            plan.first_ts[sid] = ts
    return plan


def _meta_line(raw: bytes, plan: _Plan, titles: list[tuple[str | None, str, str]],
               report: ReadReport) -> None:
    """A summary or title line (anything else, or broken JSON, is left to the second pass)."""
    try:
        obj = json.loads(raw)
    except ValueError:
        return
    kind = as_str(obj.get("type")) if isinstance(obj, dict) else None
    if kind == "summary":
        leaf, text = obj.get("leafUuid"), obj.get("summary")
        if isinstance(leaf, str) and isinstance(text, str) and text.strip():
            plan.summaries[leaf].append((plan.summary_count, text))
            plan.summary_count += 1
        else:
            report.skipped["summary (empty)"] += 1
    elif kind in TITLE_KINDS:
        text = obj.get(TITLE_KINDS[kind]) or obj.get("title")
        if isinstance(text, str) and text.strip():
            sid = obj.get("sessionId") if isinstance(obj.get("sessionId"), str) else None
            titles.append((sid, kind, text.strip()))
            report.used[kind] += 1
        else:
            report.skipped[kind] += 1


def _parse_file(entry: archive.Entry, report: ReadReport, seq: Iterator[int]) -> Iterator[_Line]:
    """The message lines of one file; everything else is counted or reported."""
    report.files += 1
    with entry.open() as fh:
        for number, raw in enumerate(fh, start=1):
            if raw.isspace() or not raw:
                continue
            report.lines += 1
            line = _parse_line(raw, entry.name, number, report)
            if line is not None:
                obj, ts = line
                yield _Line(obj, entry.name, number, next(seq), ts)


def _parse_line(raw: bytes, file: str, number: int,
                report: ReadReport) -> tuple[dict[str, Any], datetime] | None:
    try:
        obj = json.loads(raw)
    except json.JSONDecodeError as first:
        failure = first
        try:  # again without the newline, so the message points into the line
            json.loads(raw.rstrip())
        except json.JSONDecodeError as exc:
            failure = exc
        report.warning(f"not valid JSON ({failure.msg} at column {failure.colno}); line skipped",
                       file=file, line=number)
        return None
    except ValueError as exc:  # bytes that are not UTF-8
        report.warning(f"not valid JSON ({exc}); line skipped", file=file, line=number)
        return None
    if not isinstance(obj, dict):
        report.warning(f"line is a JSON {type(obj).__name__}, not an object; line skipped",
                       file=file, line=number)
        return None
    kind = obj.get("type")
    if not isinstance(kind, str) or not kind:
        report.warning("line has no 'type'; line skipped", file=file, line=number)
        return None
    if kind in MESSAGE_KINDS:
        missing = [k for k in ("uuid", "sessionId") if not isinstance(obj.get(k), str) or not obj[k]]
        ts = parse_time(obj.get("timestamp"))
        if ts is None:
            missing.append("timestamp")
        if missing:
            uid = obj.get("uuid") if isinstance(obj.get("uuid"), str) else None
            report.warning(f"{kind} line without a valid {', '.join(missing)}; line skipped",
                           file=file, line=number, record=uid)
            return None
        return obj, ts  # type: ignore[return-value]
    if kind == "summary" or kind in TITLE_KINDS:
        pass  # taken in the first pass
    elif kind in SKIPPED_KINDS:
        report.skipped[kind] += 1
    else:
        if not report.skipped.get(kind):
            report.warning(f"unknown line type {kind!r} skipped (counted in the report)",
                           file=file, line=number)
        report.skipped[kind] += 1
    return None


# ---------------------------------------------------------------- lines -> messages

class _Session:
    """Builds one session's message records in timestamp order."""

    def __init__(self, sid: str, report: ReadReport) -> None:
        self.sid = sid
        self.report = report
        self.messages: list[dict[str, Any]] = []
        self.tool_docs: dict[str, str] = {}  # tool_use block id -> tool_use document id
        self.responses: set[tuple[str, Any]] = set()

    def add(self, ln: _Line) -> None:
        obj = ln.obj
        kind = obj["type"]
        meta: dict[str, Any] = {"messageData": obj["message"]} if "message" in obj else {}
        meta.update({k: v for k, v in obj.items() if k not in _CONSUMED})
        base = {
            "id": obj["uuid"],
            "parent_id": as_str(obj.get("parentUuid")),
            "type": kind,
            "content": "",
            "timestamp": ln.ts,
            "tokens": empty_tokens(),
            "cost_usd": None,
            "model": None,
            "tool_name": None,
            "tool_input": None,
            "is_sidechain": bool(obj.get("isSidechain")),
            "metadata": meta,
        }
        message = obj.get("message")
        if kind == "assistant":
            self._assistant(base, obj, message, ln)
        elif kind == "user":
            self._user(base, message, ln)
        else:
            if isinstance(obj.get("content"), (str, list)):
                base["content"] = flatten(obj["content"])
                meta.pop("content", None)
            elif isinstance(message, Mapping):
                base["content"] = flatten(message.get("content"))
            self.messages.append(base)

    def _part(self, base: dict[str, Any], suffix: str, type_: str, content: str,
              block: Any) -> dict[str, Any]:
        meta = {"messageData": block}
        meta.update((k, base["metadata"][k]) for k in _COPIED_TO_PARTS if k in base["metadata"])
        return {
            **base, "id": f"{base['id']}{suffix}", "parent_id": base["id"], "type": type_,
            "content": content, "tokens": empty_tokens(), "cost_usd": None, "model": None,
            "metadata": meta,
        }

    def _assistant(self, base: dict[str, Any], obj: Mapping[str, Any], message: Any,
                   ln: _Line) -> None:
        blocks = message.get("content") if isinstance(message, Mapping) else message
        base["content"] = flatten(blocks)
        if isinstance(message, Mapping):
            model = message.get("model") if isinstance(message.get("model"), str) else None
            base["model"] = model
            usage = message.get("usage") if isinstance(message.get("usage"), Mapping) else None
            key = (as_str(message.get("id")), as_str(obj.get("requestId")))
            first = key[0] is None or key not in self.responses
            self.responses.add(key)
            if first:
                self._usage_and_cost(base, obj, model, usage)
        self.messages.append(base)
        if not isinstance(blocks, list):
            return
        tools = [b for b in blocks if isinstance(b, Mapping) and b.get("type") == "tool_use"]
        for i, block in enumerate(tools):
            part = self._part(base, f"_tool_{i}", "tool_use",
                              tool_summary(block.get("name"), block.get("input")), block)
            part["tool_name"] = as_str(block.get("name"))
            part["tool_input"] = block.get("input")
            if isinstance(block.get("id"), str):
                self.tool_docs[block["id"]] = part["id"]
            self.messages.append(part)

    def _usage_and_cost(self, base: dict[str, Any], obj: Mapping[str, Any], model: str | None,
                        usage: Mapping[str, Any] | None) -> None:
        if usage is not None:
            tokens = base["tokens"]
            for key, src in _USAGE_KEYS:
                value = usage.get(src)
                ok = isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))
                tokens[key] = int(value) if ok else None
            if set(usage) - {src for _, src in _USAGE_KEYS}:
                base["metadata"]["usage"] = dict(usage)
        given = _money(obj.get("costUSD", obj.get("costUsd")))
        if given is not None:
            base["cost_usd"] = given
        elif usage is not None:
            try:
                cost = pricing.cost_from_usage(model, usage)
            except (ValueError, TypeError, OverflowError, ArithmeticError):
                cost = None  # token counts that are not numbers
            else:
                if cost is None and model and not model.startswith("<"):
                    self.report.unknown_models[model] += 1
            base["cost_usd"] = cost

    def _user(self, base: dict[str, Any], message: Any, ln: _Line) -> None:
        if isinstance(message, Mapping):
            if "content" not in message:
                self.report.warning("user message has no 'content'; stored with empty text",
                                    file=ln.file, line=ln.line, record=base["id"])
            blocks = message.get("content")
        else:
            blocks = message
        results = []
        if isinstance(blocks, list):
            results = [b for b in blocks if isinstance(b, Mapping) and b.get("type") == "tool_result"]
            blocks = [b for b in blocks if not (isinstance(b, Mapping) and b.get("type") == "tool_result")]
        base["content"] = flatten(blocks)
        self.messages.append(base)
        for i, block in enumerate(results):
            part = self._part(base, f"_result_{i}", "tool_result", flatten(block.get("content")), block)
            part["parent_id"] = self.tool_docs.get(as_str(block.get("tool_use_id")) or "", base["id"])
            self.messages.append(part)


def _money(value: Any) -> Decimal | None:
    """A given cost as a finite, non-negative Decimal, else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        d = Decimal(str(value).strip()) if isinstance(value, str) else records.to_decimal(value)
    except ArithmeticError:
        return None
    return d if d is not None and d.is_finite() and d >= 0 else None


# ---------------------------------------------------------------- sessions

def _kept_lines(sid: str, lines: list[_Line], home: Mapping[str, str],
                report: ReadReport) -> list[_Line]:
    """One line per uuid (own file first, then earliest), in timestamp order."""
    ranked = sorted(lines, key=lambda ln: (home.get(ln.file) != sid, ln.order))
    kept: dict[str, _Line] = {}
    for ln in ranked:
        first = kept.get(ln.obj["uuid"])
        if first is None:
            kept[ln.obj["uuid"]] = ln
        elif first.obj == ln.obj:
            report.skipped["duplicate line"] += 1
        else:
            report.warning(
                f"uuid {ln.obj['uuid']} also at {first.file}:{first.line}; that line is kept",
                file=ln.file, line=ln.line, record=ln.obj["uuid"])
            report.skipped["duplicate uuid"] += 1
    return sorted(kept.values(), key=lambda ln: (ln.ts, ln.order))


_NOT_TYPED = ("<command-", "<local-command-", "<system-reminder>", "<bash-",
              "Caveat: The messages below were generated by the user while running local commands")


def _typed_by_user(msg: Mapping[str, Any]) -> bool:
    """False for the caveats, slash-command echoes and reminders Claude Code writes as user lines."""
    return not msg["metadata"].get("isMeta") and not msg["content"].lstrip().startswith(_NOT_TYPED)


def _conversation(sid: str, lines: list[_Line], summary: str | None,
                  titles: Mapping[str, str], report: ReadReport) -> dict[str, Any]:
    builder = _Session(sid, report)
    for ln in lines:
        builder.add(ln)
    messages = builder.messages
    cwd = next((ln.obj["cwd"] for ln in lines if isinstance(ln.obj.get("cwd"), str) and ln.obj["cwd"]), None)
    name, path = project_of(cwd)
    start, end = lines[0].ts, max(ln.ts for ln in lines)
    prompts = [m for m in messages if m["type"] == "user" and _typed_by_user(m)]
    title = (titles.get("custom-title") or titles.get("ai-title")
             or records.derive_title(summary, prompts) or records.derive_title(summary, messages))
    return {
        "id": sid,
        "external_id": None,
        "title": title,
        "summary": summary,
        "project_id": None,
        "project_name": name,
        "project_path": path,
        "created_at": start,
        "updated_at": end,
        "duration_seconds": duration_seconds(start, end),
        "model": records.most_used_model(messages),
        "cost_usd": sum((m["cost_usd"] for m in messages if m["cost_usd"] is not None), Decimal(0)),
        "message_count": len(messages),
        "tags": [],
        "metadata": {"custom_fields": {}},
        "messages": messages,
        "branches": [],
        "parent_conversation_id": None,
    }


class _UnitReader:
    """Builds a project folder's sessions one at a time, in order of their first line."""

    def __init__(self, entries: list[archive.Entry], report: ReadReport,
                 taken: set[str], yielded: set[str]) -> None:
        self.report = report
        self.plan = _plan(entries, report)
        self.seq = itertools.count()
        self.buffers: dict[str, list[_Line]] = defaultdict(list)
        self.fed: set[int] = set()
        self.done: set[str] = set()
        self.taken = taken  # uuids already given to a session (in any project folder)
        self.yielded = yielded  # sessions already yielded (in any project folder)
        self.linked: set[int] = set()  # summaries attached

    def _feed(self, index: int) -> None:
        self.fed.add(index)
        for ln in _parse_file(self.plan.entries[index], self.report, self.seq):
            sid = ln.obj["sessionId"]
            if sid in self.done:
                self.report.warning(f"line of session {sid} found after that session was built; "
                                    "line skipped", file=ln.file, line=ln.line, record=ln.obj["uuid"])
                self.report.skipped["late line"] += 1
                continue
            self.buffers[sid].append(ln)

    def conversations(self) -> Iterator[dict[str, Any]]:
        plan = self.plan
        for sid in sorted(plan.first_ts, key=lambda s: (plan.first_ts[s], s)):
            for index in plan.files_of[sid]:
                if index not in self.fed:
                    self._feed(index)
            conv = self._finish(sid)
            if conv is not None:
                yield conv
        for index in range(len(plan.entries)):
            if index not in self.fed:
                self._feed(index)
        for sid in sorted(self.buffers, key=lambda s: (min(ln.ts for ln in self.buffers[s]), s)):
            conv = self._finish(sid)
            if conv is not None:
                yield conv
        self.report.skipped["summary (leaf not found)"] += plan.summary_count - len(self.linked)
        if not self.report.skipped["summary (leaf not found)"]:
            del self.report.skipped["summary (leaf not found)"]
        for sid in set(plan.titles) - self.done:
            self.report.skipped["title of a session without messages"] += len(plan.titles[sid])

    def _finish(self, sid: str) -> dict[str, Any] | None:
        self.done.add(sid)
        kept = _kept_lines(sid, self.buffers.pop(sid, []), self.plan.home, self.report)
        # A resumed session's file starts with a copy of the earlier session's lines (same
        # uuids, new sessionId): the earlier session keeps them, so message ids stay unique.
        lines = [ln for ln in kept if ln.obj["uuid"] not in self.taken]
        if len(lines) < len(kept):
            copied = len(kept) - len(lines)
            self.report.skipped["line copied from an earlier session"] += copied
            self.report.warning(f"{copied} line(s) of session {sid} repeat messages already read "
                                "(a resumed session, or a copied file); they are kept where first "
                                "read", record=sid)
        if not lines:
            self.done.discard(sid)
            return None
        if sid in self.yielded:
            self.report.warning(f"session {sid} was read from another project folder already; "
                                f"its {len(lines)} other line(s) here are skipped", record=sid,
                                file=lines[0].file)
            self.report.skipped["line of a session read from another folder"] += len(lines)
            return None
        self.yielded.add(sid)
        best: tuple[datetime, int, str] | None = None
        for ln in lines:
            self.taken.add(ln.obj["uuid"])
            for n, text in self.plan.summaries.get(ln.obj["uuid"], ()):
                self.linked.add(n)
                self.report.used["summary"] += 1
                if best is None or (ln.ts, n) >= best[:2]:
                    best = (ln.ts, n, text)
        titles = self.plan.titles.get(sid, {})
        return _conversation(sid, lines, best[2] if best else None, titles, self.report)


def _projects_root(path: Path) -> Path:
    if path.is_dir() and (path / "projects").is_dir():
        return path / "projects"
    return path


def read(path: Path, report: ReadReport) -> Iterator[dict[str, Any]]:
    """Canonical conversations from Claude Code transcripts, one project folder at a time."""
    report.kind = KIND
    path = _projects_root(Path(path))
    with archive.listing(path, lambda name: name.endswith(".jsonl"), report) as files:
        units: dict[str, list[archive.Entry]] = defaultdict(list)
        for entry in files:
            units[_unit_of(entry.name)].append(entry)
        taken: set[str] = set()
        yielded: set[str] = set()
        for key in sorted(units):
            yield from _UnitReader(units[key], report, taken, yielded).conversations()
