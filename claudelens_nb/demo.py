"""Deterministic, realistic ClaudeLens demo data; also the fixture factory for tests.

Shapes follow ClaudeLens's ingest: an assistant message's tool_use blocks become their own
documents (`{uuid}_tool_{i}`), a user message's tool_result parts likewise
(`{uuid}_result_{i}`); costs are Decimal128 computed from the usage with the price table.
"""

from __future__ import annotations

import json
import random
import uuid as uuidlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bson import Decimal128, ObjectId
from pymongo.database import Database

from . import pricing, records
from .store import collections as names
from .store.schema import collection_for_write

PROJECTS = [
    ("my-app", "/home/ana/src/my-app", "A React front end with a FastAPI back end"),
    ("data-pipeline", "/home/ana/src/data-pipeline", "Nightly ETL into the warehouse"),
    ("café-menu", "/home/ana/src/café-menu", "Menu site for a café in Lyon"),
    ("翻訳ツール", "/home/ana/src/honyaku", "A translation helper (Japanese/English)"),
    ("infra", "/srv/infra", None),
]
MODELS = [
    ("claude-sonnet-4-5-20250929", 5),
    ("claude-opus-4-5-20251101", 2),
    ("claude-haiku-4-5-20251001", 2),
    ("claude-opus-4-1-20250805", 1),
]
TAGS = ["bug", "refactor", "docs", "feature", "research", "urgent"]
TOOLS = [
    ("Bash", lambda r: {"command": r.choice(["pytest -q", "ls -la src", "git status", "npm run build"])}),
    ("Read", lambda r: {"file_path": r.choice(["/home/ana/src/my-app/main.py", "README.md", "src/日本語.txt"])}),
    ("Edit", lambda r: {"file_path": "src/app.py", "old_string": "x = 1", "new_string": "x = 2"}),
    ("Grep", lambda r: {"pattern": r.choice(["TODO", "def main", "café"]), "path": "."}),
]
USER_PROMPTS = [
    "Can you fix the failing test in `tests/test_api.py`? It says `KeyError: 'user_id'`.",
    "Refactor the date parsing so it accepts ISO strings and Unix seconds.",
    "Écris une fonction qui calcule la moyenne pondérée des notes, s'il te plaît. Merci ! 🙏",
    "このコードのバグを見つけてください。日本語のコメントも追加してください。",
    "Why is the build slow? Here is the log:\n```\nStep 4/9 : RUN npm ci\n ---> 312.4s\n```",
    "Add a retry with exponential back-off to the HTTP client 🚀",
    "Summarise what changed in the last three commits.",
    "Мне нужен SQL-запрос, который считает заказы по месяцам.",
    "Please review this function:\n```python\ndef total(xs):\n    return sum(x['price'] for x in xs)\n```",
    "The deploy key is sk-ant-api03-Zx9vQ2demoKEYdoNotUse000000000000000000000000 — why does auth fail?",
    "Write a short README section for contributors (contact: ana.lopez@example.com, +1 415 555 0134).",
    "Explain the difference between a mutex and a semaphore, with an example in Go.",
]
# The title and summary of a conversation that opens with USER_PROMPTS[i] (same order).
TOPICS = [
    ("Fix the failing API test", "Fixed the KeyError in tests/test_api.py: the user fixture now has a user_id."),
    ("Date parsing refactor", "Refactored date parsing to accept ISO strings and Unix seconds."),
    ("Moyenne pondérée des notes", "Écriture d'une fonction de moyenne pondérée, avec le cas des coefficients nuls."),
    ("バグ修正と日本語コメント", "ループ範囲のバグを修正し、日本語のコメントを追加しました。"),
    ("Slow build investigation", "The build was slow in npm ci; caching ~/.npm between runs fixes it."),
    ("HTTP client retry with back-off", "Added an exponential back-off retry helper to the HTTP client."),
    ("Summary of the last three commits", "Summarised the changes of the last three commits."),
    ("SQL-запрос: заказы по месяцам", "Написан SQL-запрос, который считает заказы по месяцам."),
    ("Review of the total() function", "Reviewed total(): it fails on items without a price."),
    ("Deploy key authentication failure", "Auth failed because the deploy key was revoked; a new key is needed."),
    ("README section for contributors", "Wrote a contributors section for the README with contact details."),
    ("Mutex vs semaphore in Go", "Explained mutexes and semaphores, with a buffered-channel semaphore in Go."),
]
ASSISTANT_TEXTS = [
    "I'll look at the test first.\n\nThe failure comes from the fixture returning a dict without `user_id`. "
    "Here is the fix:\n\n```python\n@pytest.fixture\ndef user():\n    return {\"user_id\": 42, \"name\": \"Zoë\"}\n```",
    "Voici une version simple :\n\n```python\ndef moyenne_ponderee(notes, coeffs):\n    total = sum(n * c for n, c in zip(notes, coeffs))\n"
    "    return total / sum(coeffs)\n```\n\nElle lève `ZeroDivisionError` si tous les coefficients sont nuls.",
    "問題は `for` ループの範囲です。`range(len(xs) - 1)` ではなく `range(len(xs))` を使ってください。✅",
    "The build spends most of its time in `npm ci`. Caching `~/.npm` between runs should cut it to under a minute.",
    "Here is a back-off helper:\n\n```typescript\nexport async function retry<T>(fn: () => Promise<T>, n = 5): Promise<T> {\n"
    "  for (let i = 0; ; i++) {\n    try { return await fn(); }\n    catch (e) { if (i >= n) throw e; await sleep(2 ** i * 100); }\n  }\n}\n```",
    "Вот запрос:\n\n```sql\nSELECT date_trunc('month', created_at) AS month, count(*)\nFROM orders GROUP BY 1 ORDER BY 1;\n```",
    "A mutex lets one goroutine in at a time; a semaphore lets up to N. "
    + "In Go a buffered channel of size N works as a semaphore. " * 12,
    "Done. I updated three files and all 48 tests pass. 🎉",
]
TOOL_OUTPUTS = [
    "===== 48 passed in 3.21s =====",
    "total 24\ndrwxr-xr-x  4 ana ana 4096 main.py\n-rw-r--r--  1 ana ana  812 README.md",
    "On branch main\nnothing to commit, working tree clean",
    "src/app.py:12: # TODO: handle café names with accents",
]


@dataclass(frozen=True)
class DemoSummary:
    projects: int
    sessions: int
    messages: int
    collections: list[str]

    def __str__(self) -> str:
        return (
            f"{self.projects} projects, {self.sessions} conversations, {self.messages} messages "
            f"in {len(self.collections)} message collections"
        )


def _uuid(rng: random.Random) -> str:
    return str(uuidlib.UUID(int=rng.getrandbits(128), version=4))


def _usage(rng: random.Random, turn: int) -> dict[str, Any]:
    return {
        "input_tokens": rng.randint(5, 400),
        "output_tokens": rng.randint(40, 2500),
        "cache_creation_input_tokens": rng.choice([0, 0, rng.randint(500, 8000)]),
        "cache_read_input_tokens": rng.randint(0, 30000) if turn else 0,
    }


class _Session:
    """Builds one conversation's message documents, ClaudeLens-style."""

    def __init__(self, rng: random.Random, session_id: str, start: datetime, model: str, cwd: str):
        self.rng, self.sid, self.t, self.model, self.cwd = rng, session_id, start, model, cwd
        self.docs: list[dict[str, Any]] = []
        self.parent: str | None = None

    def _tick(self, lo: int = 2, hi: int = 90) -> datetime:
        self.t += timedelta(seconds=self.rng.randint(lo, hi), milliseconds=self.rng.randint(0, 999))
        return self.t

    def _add(self, uuid: str, type_: str, content: str, data: Any, **extra: Any) -> dict[str, Any]:
        ts = records.utc(self.t)
        doc: dict[str, Any] = {
            "uuid": uuid, "sessionId": self.sid, "type": type_, "timestamp": ts,
            "parentUuid": self.parent, "content": content, "messageData": data,
            "isSidechain": extra.pop("isSidechain", False), "cwd": self.cwd,
            "gitBranch": "main", "version": "2.0.46", "userType": "external",
        }
        doc.update(extra)
        if type_ not in records.SPLIT_TYPES:  # upstream hashes a line's own document only
            doc["contentHash"] = records.content_hash(uuid, type_, ts, data)
        doc["createdAt"] = ts
        self.docs.append(doc)
        return doc

    def user(self, text: str) -> None:
        self._tick(20, 600)
        uid = _uuid(self.rng)
        self._add(uid, "user", text, {"role": "user", "content": text})
        self.parent = uid

    def assistant(self, text: str, tools: int, sidechain: bool = False) -> list[str]:
        self._tick()
        uid = _uuid(self.rng)
        usage = _usage(self.rng, len(self.docs))
        blocks: list[dict[str, Any]] = [{"type": "text", "text": text}]
        tool_ids = []
        for _ in range(tools):
            name, make_input = self.rng.choice(TOOLS)
            tid = "toolu_" + uuidlib.UUID(int=self.rng.getrandbits(128)).hex[:24]
            blocks.append({"type": "tool_use", "id": tid, "name": name, "input": make_input(self.rng)})
            tool_ids.append(tid)
        data = {
            "id": "msg_" + uuidlib.UUID(int=self.rng.getrandbits(128)).hex[:24],
            "type": "message", "role": "assistant", "model": self.model, "content": blocks,
            "stop_reason": "tool_use" if tools else "end_turn", "usage": usage,
        }
        cost = pricing.cost_from_usage(self.model, usage)
        if cost is None:
            raise ValueError(f"no price for the demo model {self.model}")
        self._add(
            uid, "assistant", text, data, model=self.model, usage=usage,
            costUsd=Decimal128(cost), requestId="req_" + uuidlib.UUID(int=self.rng.getrandbits(128)).hex[:20],
            durationMs=self.rng.randint(800, 40000), isSidechain=sidechain,
        )
        self.parent = uid
        for i, block in enumerate(blocks[1:]):
            summary = f"Tool: {block['name']}\n```json\n{json.dumps(block['input'], ensure_ascii=False)}\n```"
            self._add(f"{uid}_tool_{i}", "tool_use", summary, block, isSidechain=sidechain)
        return tool_ids

    def tool_results(self, tool_ids: list[str]) -> None:
        self._tick(1, 20)
        uid = _uuid(self.rng)
        parts = [
            {"type": "tool_result", "tool_use_id": tid, "content": self.rng.choice(TOOL_OUTPUTS)}
            for tid in tool_ids
        ]
        self._add(uid, "user", "", {"role": "user", "content": parts},
                  toolUseResult={"stdout": parts[0]["content"], "interrupted": False})
        for i, part in enumerate(parts):
            self._add(f"{uid}_result_{i}", "tool_result", part["content"], part)
        self.parent = uid


def _weighted(rng: random.Random, pairs: list[tuple[str, int]]) -> str:
    return rng.choices([p for p, _ in pairs], weights=[w for _, w in pairs])[0]


def generate(
    sessions: int = 20,
    messages_per_session: int = 30,
    seed: int = 42,
    *,
    start: datetime = datetime(2026, 5, 1, tzinfo=UTC),
    months: int = 6,
) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """Yield (session document without projectId, message documents) per conversation."""
    rng = random.Random(seed)
    span = months * 30 * 86400
    for n in range(sessions):
        sid = _uuid(rng)
        project = PROJECTS[n % len(PROJECTS)] if n < len(PROJECTS) else rng.choice(PROJECTS)
        begin = start + timedelta(seconds=rng.randint(0, span))
        model = _weighted(rng, MODELS)
        s = _Session(rng, sid, begin, model, project[1])
        first: int | None = None
        while len(s.docs) < messages_per_session:
            prompt = rng.randrange(len(USER_PROMPTS))  # the same draws as rng.choice
            first = prompt if first is None else first
            s.user(USER_PROMPTS[prompt])
            tools = rng.choice([0, 0, 1, 2]) if len(s.docs) + 6 < messages_per_session else 0
            tool_ids = s.assistant(rng.choice(ASSISTANT_TEXTS), tools, sidechain=rng.random() < 0.05)
            if tool_ids:
                s.tool_results(tool_ids)
        docs = s.docs[:messages_per_session]
        # Title and summary tell what the conversation is about: its opening prompt's topic.
        # (Each draw stays the draw it was, so a seed gives the same data otherwise.)
        topic_title, topic_summary = TOPICS[first or 0]
        summary = None if rng.randrange(5) == 0 else topic_summary
        session: dict[str, Any] = {
            "sessionId": sid, "_project": project,
            "createdAt": docs[0]["timestamp"], "updatedAt": docs[-1]["timestamp"],
            **records.session_stats(docs),
        }
        if summary is not None:  # upstream's validator: text or no field
            session["summary"] = summary
        if rng.random() < 0.6:
            session["tags"] = sorted(rng.sample(TAGS, rng.randint(1, 3)))
        if rng.random() < 0.3:
            rng.randrange(6)
            session["title"] = topic_title
        yield session, docs


def _ensure_projects(db: Database) -> dict[str, ObjectId]:
    ids: dict[str, ObjectId] = {}
    now = datetime(2026, 5, 1, tzinfo=UTC)
    for name, path, description in PROJECTS:
        found = db[names.PROJECTS].find_one({"path": path}, {"_id": 1})
        if found:
            ids[path] = found["_id"]
            continue
        ids[path] = db[names.PROJECTS].insert_one({
            "name": name, "path": path, "description": description,
            "createdAt": now, "updatedAt": now, "stats": {"message_count": 0, "session_count": 0},
        }).inserted_id
    return ids


def seed_demo(
    db: Database | None = None,
    sessions: int = 20,
    messages_per_session: int = 30,
    seed: int = 42,
    *,
    single_collection: bool = False,
    batch_size: int = 1000,
) -> DemoSummary:
    """Write demo conversations (idempotent for the same seed: existing ids are skipped)."""
    if db is None:
        from .store import connect

        db = connect()
    project_ids = _ensure_projects(db)
    pending: dict[str, list[dict[str, Any]]] = {}
    session_batch: list[dict[str, Any]] = []

    def flush() -> None:
        for coll_name, docs in pending.items():
            if docs:
                db[coll_name].insert_many(docs, ordered=False)
        pending.clear()
        if session_batch:
            db[names.SESSIONS].insert_many(session_batch, ordered=False)
            session_batch.clear()

    existing = set(db[names.SESSIONS].distinct("sessionId"))
    count = 0
    for session, docs in generate(sessions, messages_per_session, seed):
        if session["sessionId"] in existing:
            continue
        project = session.pop("_project")
        session["projectId"] = project_ids[project[1]]
        session_batch.append(session)
        for doc in docs:
            coll = collection_for_write(db, doc["timestamp"], single=single_collection)
            pending.setdefault(coll.name, []).append(doc)
            count += 1
        if count >= batch_size:
            flush()
            count = 0
    flush()
    _refresh_project_stats(db)
    return summarize(db)


def _refresh_project_stats(db: Database) -> None:
    for row in db[names.SESSIONS].aggregate([
        {"$group": {"_id": "$projectId", "sessions": {"$sum": 1}, "messages": {"$sum": "$messageCount"}}}
    ]):
        db[names.PROJECTS].update_one(
            {"_id": row["_id"]},
            {"$set": {"stats": {"session_count": row["sessions"], "message_count": row["messages"]}}},
        )


def summarize(db: Database) -> DemoSummary:
    colls = names.message_collection_names(db)
    return DemoSummary(
        projects=db[names.PROJECTS].estimated_document_count(),
        sessions=db[names.SESSIONS].estimated_document_count(),
        messages=sum(db[c].estimated_document_count() for c in colls),
        collections=colls,
    )


def ensure_demo(db: Database, **kwargs: Any) -> DemoSummary | None:
    """Seed demo data only when the database has no conversations yet."""
    if db[names.SESSIONS].estimated_document_count():
        return None
    return seed_demo(db, **kwargs)
