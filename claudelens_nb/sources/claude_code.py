"""Claude Code transcripts (`~/.claude/projects/<encoded path>/<session>.jsonl`) as conversations.

Input: a `projects` folder, one project folder, one `.jsonl`, `~/.claude` itself, or a zip of
any of them. Files are read one project folder at a time; sub-agent files
(`<session>/subagents/agent-*.jsonl`) join their parent session through `sessionId`.

Messages are the documents upstream ClaudeLens's sync writes (claude_code_shape.py;
docs/upstream.md lists where we deliberately differ): the line's `uuid` is the message id
(stable, so a re-import only adds new lines), `messageData` is the raw `message`, an
assistant line's tool_use blocks become `{uuid}_tool_{i}` documents whose parent is the
assistant message, a user line's tool_result parts become `{uuid}_result_{i}` documents
whose parent is the tool_use document they answer (a line of tool results alone gets no
user document of its own). The project is the folder the transcripts lie in.

Choices where the input is ambiguous:
- A `uuid` seen twice in one session: the line from the session's own file wins over a
  copy in another file, then the earlier line; a differing copy is reported as a warning.
- One API response written as several lines (same `message.id` and `requestId`; a streamed
  response's output count grows line by line): the most complete line carries usage and
  cost, as ccusage picks it (non-sidechain first, then the largest token total, then the
  earliest); the others get tokens None and cost None.
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
import os
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

from ..reading import ReadReport
from ..security import DEFAULT_LIMITS, Limits
from . import archive, checkpoints
from . import claude_code_shape as shape
from .claude_code_messages import UNKNOWN_PROJECT, Line, conversation, project_of
from .content import as_str, parse_time

__all__ = ["KIND", "UNKNOWN_PROJECT", "default_projects_dir", "project_of", "read"]

KIND = "claude_code"
MESSAGE_KINDS = frozenset({"user", "assistant", "system"})
# Bookkeeping lines Claude Code writes that hold nothing a conversation needs.
SKIPPED_KINDS = frozenset({
    "file-history-snapshot", "queue-operation", "progress", "attachment", "last-prompt",
    "agent-name", "mode", "permission-mode", "cost-state", "tag", "pr-link", "hook",
})
TITLE_KINDS = {"custom-title": "customTitle", "ai-title": "aiTitle"}


def default_projects_dir() -> Path:
    """Where Claude Code keeps transcripts: $CLAUDE_CONFIG_DIR/projects or ~/.claude/projects."""
    base = os.environ.get("CLAUDE_CONFIG_DIR")
    return (Path(base).expanduser() if base else Path.home() / ".claude") / "projects"


# ---------------------------------------------------------------- reading lines

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
        counts: Counter[str] = Counter()
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
        for title_sid, key, text in titles:
            target = title_sid or owner
            if target:
                plan.titles[target][key] = text
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


def _parse_file(entry: archive.Entry, report: ReadReport, seq: Iterator[int]) -> Iterator[Line]:
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
                yield Line(obj, entry.name, number, next(seq), ts)


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
        if missing or ts is None:  # (ts None is in missing)
            uid = obj.get("uuid") if isinstance(obj.get("uuid"), str) else None
            report.warning(f"{kind} line without a valid {', '.join(missing)}; line skipped",
                           file=file, line=number, record=uid)
            return None
        return obj, ts
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


# ---------------------------------------------------------------- sessions

def _kept_lines(sid: str, lines: list[Line], home: Mapping[str, str],
                report: ReadReport) -> list[Line]:
    """One line per uuid (own file first, then earliest), in timestamp order."""
    ranked = sorted(lines, key=lambda ln: (home.get(ln.file) != sid, ln.order))
    kept: dict[str, Line] = {}
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


class _UnitReader:
    """Builds a project folder's sessions one at a time, in order of their first line."""

    def __init__(self, entries: list[archive.Entry], report: ReadReport,
                 taken: set[str], yielded: set[str], project: tuple[str, str],
                 titles_read: dict[str, dict[str, str]] | None = None) -> None:
        self.report = report
        self.titles_read = titles_read
        self.project = project
        self.plan = _plan(entries, report)
        self.seq = itertools.count()
        self.buffers: dict[str, list[Line]] = defaultdict(list)
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
            if self.titles_read is not None:
                self.titles_read.setdefault(sid, dict(plan.titles[sid]))

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
        best: tuple[datetime, int, str, str] | None = None
        for ln in lines:
            self.taken.add(ln.obj["uuid"])
            for n, text in self.plan.summaries.get(ln.obj["uuid"], ()):
                self.linked.add(n)
                self.report.used["summary"] += 1
                if best is None or (ln.ts, n) >= best[:2]:
                    best = (ln.ts, n, text, ln.obj["uuid"])
        titles = self.plan.titles.get(sid, {})
        if self.titles_read is not None:
            self.titles_read[sid] = dict(titles)
        return conversation(sid, lines, best[2] if best else None, titles, self.report,
                            self.project, best[3] if best else None)


def _project(path: Path, unit: str) -> tuple[str, str]:
    """(name, path) of the project a project folder's sessions belong to, as upstream's sync
    names and keys it: the folder's absolute path (inside a zip: the zip's path, then the
    folder), named from the folder's name."""
    if archive.is_zip(path):
        folder = f"{path.resolve()}/{unit}" if unit != "." else str(path.resolve())
        name_of = unit if unit != "." else path.stem
    else:
        base = path if path.is_dir() else path.parent
        folder = str((base / unit).resolve())
        name_of = folder
    return shape.project_name(name_of), folder


def _projects_root(path: Path) -> Path:
    if path.is_dir() and (path / "projects").is_dir():
        return path / "projects"
    return path


def read(path: Path, report: ReadReport,
         windows: Mapping[str, tuple[int, int]] | None = None, *,
         limits: Limits = DEFAULT_LIMITS,
         titles_read: dict[str, dict[str, str]] | None = None) -> Iterator[dict[str, Any]]:
    """Canonical conversations from Claude Code transcripts, one project folder at a time.

    `windows` (relative file name -> byte range; see checkpoints.py) reads only those files,
    each only in its range: what an incremental sync has not imported yet. A zip is read in
    place under `limits` (the import's zip defence, security.open_zip). `titles_read`, when
    given, gets each yielded session's title lines read (kind -> text; {} for none), so that a
    windowed read can tell a title from its lines from one derived from the lines alone, and
    those of the sessions read without any message line (a window holding a title alone).
    """
    report.kind = KIND
    path = _projects_root(Path(path))
    with archive.listing(path, lambda name: name.endswith(".jsonl"), limits=limits) as files:
        if windows is not None:
            files = checkpoints.windowed(path, files, dict(windows))
        units: dict[str, list[archive.Entry]] = defaultdict(list)
        for entry in files:
            units[_unit_of(entry.name)].append(entry)
        taken: set[str] = set()
        yielded: set[str] = set()
        for key in sorted(units):
            project = _project(path, key)
            yield from _UnitReader(units[key], report, taken, yielded, project,
                                   titles_read).conversations()
