"""The bulk writer: conversations in, ClaudeLens documents out, conflicts resolved.

Conversations are written a batch at a time (at most 1,000 messages per write): first
what undo needs (write-ahead, in `import_undo`), then each conversation's messages, then
its session with derived fields from those stored messages (a merge that only adds new
messages adds their figures to the stored session's, without reading its messages). A
batch that is cancelled before it starts is not written at all, so the database only ever
holds whole conversations. Message inserts are keyed on `uuid`: a re-run after a kill finds the
messages already there and completes the conversation without duplicates.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import bson
from bson import ObjectId
from pymongo import ReplaceOne
from pymongo.database import Database
from pymongo.errors import BulkWriteError, DuplicateKeyError, WriteError

from .. import records
from ..errors import Cancelled
from ..progress import CancelToken
from ..sources.claude_code_shape import project_description
from ..store import collections as names
from ..store import validation
from ..store.schema import collection_for_write, ensure_message_indexes
from .model import Counts

IMPORT_UNDO = "import_undo"
BATCH_MESSAGES = 1000
BATCH_CONVERSATIONS = 200
# Inserts are sized to take about this long (at most 1,000 documents), so that a cancel
# is acted on within a second whatever the server's speed.
CHUNK_SECONDS = 0.4
MIN_CHUNK = 20
SNAPSHOT_CHUNK_BYTES = 8 * 1024 * 1024
DEFAULT_PROJECT_PATH = "imported"


@dataclass
class _Plan:
    record: dict[str, Any]
    action: str  # insert / replace / merge / skip
    docs: list[dict[str, Any]] = field(default_factory=list)  # messages to insert
    colls: list[str] = field(default_factory=list)
    replace_docs: list[dict[str, Any]] = field(default_factory=list)
    replace_colls: list[str] = field(default_factory=list)
    delete: list[tuple[str, Any]] = field(default_factory=list)  # (coll, _id)
    stored: list[dict[str, Any]] = field(default_factory=list)  # all messages after the write
    existing: dict[str, Any] | None = None
    existing_msgs: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    project_id: Any = None
    failed: str | None = None
    uncertain: bool = False
    session: dict[str, Any] | None = None
    figures: dict[str, Any] | None = None  # a merge's session figures, when known without `stored`


@dataclass
class _Batch:
    plans: list[_Plan]
    created: list[dict[str, Any]]
    undo: list[dict[str, Any]]


_COUNT_OF = {"insert": "inserted", "replace": "replaced", "merge": "merged"}


# What a merge reads of the stored messages an incoming one may repeat: found by the incoming
# uuids, and by their timestamps (the merge key and upstream's contentHash both hold the time),
# with the text only for the latter.
REPEAT_FIELDS = {"uuid": 1, "sessionId": 1, "contentHash": 1}
SAME_TIME_FIELDS = {**REPEAT_FIELDS, "type": 1, "content": 1, "timestamp": 1}
# What the session's figures are computed from (records.session_stats).
STATS_FIELDS = {"sessionId": 1, "type": 1, "timestamp": 1, "costUsd": 1, "usage": 1}


def _merge_key(doc: Mapping[str, Any]) -> tuple[Any, ...]:
    return (doc.get("type"), doc.get("content"), doc.get("timestamp"))


class Writer:
    def __init__(
        self,
        db: Database,
        job_id: ObjectId,
        strategy: str,
        per_conversation: Mapping[str, str],
        cancel: CancelToken | None = None,
        *,
        owner: ObjectId | None = None,
        kind: str | None = None,
    ) -> None:
        self.db = db
        self.owner = owner  # upstream's `user_id` for the projects written
        self.kind = kind
        self.cancel = cancel
        self.chunk = 200
        self.job_id = job_id
        self.strategy = strategy
        self.per_conversation = dict(per_conversation)
        self.single = names.uses_single_collection(db)
        self.created: set[str] = set()  # message collections made here: indexed at the end
        self.pending: list[dict[str, Any]] = []
        self.pending_messages = 0
        self.counts = Counts()
        self.seq = 0
        self.projects: dict[str, Any] = {}
        self.touched_projects: set[Any] = set()
        self.uncertain: list[str] = []
        self.now = datetime.now(UTC)

    # ------------------------------------------------------------ queueing

    def add(self, record: dict[str, Any]) -> bool:
        """Queue one conversation; True when the batch is full and should be flushed."""
        self.pending.append(record)
        self.pending_messages += len(record["messages"])
        return self.pending_messages >= BATCH_MESSAGES or len(self.pending) >= BATCH_CONVERSATIONS

    def drop_pending(self) -> int:
        n = len(self.pending)
        self.pending, self.pending_messages = [], 0
        return n

    # ------------------------------------------------------------ planning

    def _coll(self, ts: datetime) -> str:
        return collection_for_write(self.db, ts, single=self.single, created=self.created).name

    def finish_indexes(self) -> None:
        """Build the full index set on the message collections this import created."""
        for name in sorted(self.created):
            ensure_message_indexes(self.db[name])
        self.created.clear()

    def _project(self, rec: Mapping[str, Any], created: list[dict[str, Any]]) -> Any:
        path = rec.get("project_path")
        name = rec.get("project_name")
        key = f"path:{path}" if path else f"name:{name}"
        if key in self.projects:
            return self.projects[key]
        projects = self.db[names.PROJECTS]
        found = None
        fields = {"_id": 1, "user_id": 1}
        if path:
            found = projects.find_one({"path": path}, fields)
        elif name:
            found = projects.find_one({"name": name}, fields) or projects.find_one(
                {"path": name}, fields)
        else:
            found = projects.find_one({"path": DEFAULT_PROJECT_PATH}, fields)
        if found:
            pid = found["_id"]
            if self.owner is not None and found.get("user_id") is None:
                projects.update_one({"_id": pid}, {"$set": {"user_id": self.owner}})
        else:
            wanted = rec.get("project_id")
            pid = ObjectId(wanted) if wanted and ObjectId.is_valid(wanted) else ObjectId()
            if projects.find_one({"_id": pid}, {"_id": 1}):
                pid = ObjectId()
            doc_path = path or name or DEFAULT_PROJECT_PATH
            created.append(self._project_doc(pid, name, doc_path))
        self.projects[key] = pid
        return pid

    def _project_doc(self, pid: ObjectId, name: str | None, path: str) -> dict[str, Any]:
        """A new project as upstream creates one (no null where its validator wants text)."""
        name = name or path.rstrip("/").rsplit("/", 1)[-1] or path
        doc: dict[str, Any] = {"_id": pid, "name": name, "path": path}
        if self.kind == "claude_code":
            doc["description"] = project_description(name)
        if self.owner is not None:
            doc["user_id"] = self.owner
        doc.update(createdAt=self.now, updatedAt=self.now,
                   stats={"message_count": 0, "session_count": 0})
        return doc

    def _stored_repeats(self, plans: list[tuple[_Plan, list[dict[str, Any]]]]
                        ) -> dict[str, tuple[set[Any], set[Any], set[tuple[Any, ...]]]]:
        """Per merged session: the uuids, contentHashes and merge keys of its stored messages
        that an incoming one could repeat, read by the incoming uuids and timestamps (both
        indexed), not by reading the session's every message."""
        found: dict[str, tuple[set[Any], set[Any], set[tuple[Any, ...]]]] = {
            p.record["id"]: (set(), set(), set()) for p, _ in plans}
        uuids = sorted({d["uuid"] for _, docs in plans for d in docs})
        stamps = sorted({d["timestamp"] for _, docs in plans for d in docs})
        for coll in names.message_collection_names(self.db):
            if coll in self.created:
                continue  # made by this import: none of these sessions' stored messages is there
            for key, values, fields in (("uuid", uuids, REPEAT_FIELDS),
                                        ("timestamp", stamps, SAME_TIME_FIELDS)):
                for i in range(0, len(values), BATCH_MESSAGES):
                    for d in self.db[coll].find({key: {"$in": values[i:i + BATCH_MESSAGES]}}, fields):
                        sets = found.get(d.get("sessionId"))
                        if sets is None:
                            continue
                        if key == "uuid":
                            sets[0].add(d.get("uuid"))
                        if d.get("contentHash"):
                            sets[1].add(d["contentHash"])
                        if key == "timestamp":
                            sets[2].add(_merge_key(d))
        return found

    def _stored_stats_docs(self, ids: list[str]) -> dict[str, list[dict[str, Any]]]:
        """The fields session_stats reads of every stored message of these sessions."""
        out: dict[str, list[dict[str, Any]]] = {sid: [] for sid in ids}
        for coll in names.message_collection_names(self.db):
            for i in range(0, len(ids), BATCH_CONVERSATIONS):
                for d in self.db[coll].find({"sessionId": {"$in": ids[i:i + BATCH_CONVERSATIONS]}},
                                            STATS_FIELDS):
                    out[d["sessionId"]].append(d)
        return out

    def _plan_merges(self, plans: list[tuple[_Plan, list[dict[str, Any]], list[str]]]) -> None:
        """De-duplicate each merge's incoming messages against the stored ones, and work out its
        session figures: a merge that only adds messages none of which was stored already adds
        their figures to the session's (the stored messages are not read); otherwise they are
        recomputed from every stored message (a killed run's messages may be there uncounted)."""
        repeats = self._stored_repeats([(p, docs) for p, docs, _ in plans])
        recount = []
        for p, docs, colls in plans:
            s_uuids, s_hashes, s_keys = repeats[p.record["id"]]
            uuids, hashes, keys = set(), set(), set()  # of the incoming messages kept
            repeated = False
            for d, c in zip(docs, colls, strict=True):
                key = _merge_key(d)
                if d["uuid"] in s_uuids or d.get("contentHash") in s_hashes or key in s_keys:
                    repeated = True
                    continue
                if d["uuid"] in uuids or d.get("contentHash") in hashes or key in keys:
                    continue
                p.docs.append(d)
                p.colls.append(c)
                uuids.add(d["uuid"])
                if d.get("contentHash"):
                    hashes.add(d["contentHash"])
                keys.add(key)
            assert p.existing is not None
            p.figures = None if repeated else records.added_session_stats(p.existing, p.docs)
            if p.figures is None:
                recount.append(p)
        stored = self._stored_stats_docs([p.record["id"] for p in recount]) if recount else {}
        for p in recount:
            p.stored = stored[p.record["id"]] + p.docs

    def _plan(self) -> list[_Plan]:
        recs = self.pending
        ids = [r["id"] for r in recs]
        existing = {s["sessionId"]: s for s in self.db[names.SESSIONS].find({"sessionId": {"$in": ids}})}
        plans = []
        for r in recs:
            if r["id"] in existing:
                action = self.per_conversation.get(r["id"], self.strategy)
            else:
                action = "insert"
            plans.append(_Plan(r, action, existing=existing.get(r["id"])))
        replaced = [p.record["id"] for p in plans if p.action == "replace"]
        stored: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        # A replace keeps whole documents (undo puts them back).
        for coll in names.message_collection_names(self.db) if replaced else ():
            for doc in self.db[coll].find({"sessionId": {"$in": replaced}}):
                stored.setdefault(doc["sessionId"], []).append((coll, doc))
        merges = []
        for p in plans:
            if p.action == "skip":
                continue
            cid = p.record["id"]
            docs = [records.message_document(cid, m) for m in p.record["messages"]]
            colls = [self._coll(d["timestamp"]) for d in docs]
            if p.action == "insert":
                p.docs, p.colls, p.stored = docs, colls, list(docs)
            elif p.action == "replace":
                p.existing_msgs = stored.get(cid, [])
                p.replace_docs, p.replace_colls = docs, colls
                keep = set(zip(colls, (d["uuid"] for d in docs), strict=True))
                p.delete = [(c, d["_id"]) for c, d in p.existing_msgs if (c, d["uuid"]) not in keep]
                p.stored = list(docs)
            else:
                merges.append((p, docs, colls))
        if merges:
            self._plan_merges(merges)
        return plans

    # ------------------------------------------------------------ undo data

    def _undo_docs(self, plans: list[_Plan], created: list[dict[str, Any]]) -> list[dict[str, Any]]:
        inserted = []
        for p in plans:
            if p.action in ("insert", "merge") and p.docs:
                by_coll: dict[str, list[str]] = {}
                for d, c in zip(p.docs, p.colls, strict=True):
                    by_coll.setdefault(c, []).append(d["uuid"])
                inserted.append({
                    "sessionId": p.record["id"],
                    "session": p.action == "insert",
                    "messages": [{"coll": c, "uuids": u} for c, u in by_coll.items()],
                })
            elif p.action == "insert":
                inserted.append({"sessionId": p.record["id"], "session": True, "messages": []})
        out: list[dict[str, Any]] = [{
            "job_id": self.job_id, "seq": self.seq, "type": "batch", "inserted": inserted,
            "created_projects": [c["_id"] for c in created],
        }]
        for p in plans:
            if p.action not in ("replace", "merge") or p.existing is None:
                continue
            # A merge only adds messages (the batch entry lists them): its snapshot is the
            # session document alone.
            out.append({"job_id": self.job_id, "seq": self.seq, "type": "session",
                        "sessionId": p.record["id"], "doc": p.existing,
                        "messages_kept": p.action == "merge"})
            if p.action == "merge":
                continue
            chunk: list[dict[str, Any]] = []
            size = 0
            for coll, doc in p.existing_msgs:
                n = len(bson.encode(doc))
                if chunk and size + n > SNAPSHOT_CHUNK_BYTES:
                    out.append({"job_id": self.job_id, "seq": self.seq, "type": "messages",
                                "sessionId": p.record["id"], "docs": chunk})
                    chunk, size = [], 0
                chunk.append({"coll": coll, "doc": doc})
                size += n
            if chunk:
                out.append({"job_id": self.job_id, "seq": self.seq, "type": "messages",
                            "sessionId": p.record["id"], "docs": chunk})
        return out

    # ------------------------------------------------------------ writing

    def _insert(self, plans: list[_Plan]) -> None:
        by_coll: dict[str, list[tuple[_Plan, dict[str, Any]]]] = {}
        for p in plans:
            if p.failed is None:
                for d, c in zip(p.docs, p.colls, strict=True):
                    by_coll.setdefault(c, []).append((p, d))
        written: list[tuple[str, list[tuple[_Plan, dict[str, Any]]]]] = []
        for coll, pairs in by_coll.items():
            i = 0
            while i < len(pairs):
                if self.cancel is not None and self.cancel.cancelled:
                    self._take_back(written)
                    raise Cancelled("cancelled by the user")
                part = pairs[i:i + self.chunk]
                i += len(part)
                started = time.monotonic()
                try:
                    self.db[coll].insert_many([d for _, d in part], ordered=False)
                except BulkWriteError as exc:
                    self._duplicates(coll, part, exc)
                written.append((coll, part))
                self._pace(len(part), time.monotonic() - started)

    def _pace(self, n: int, seconds: float) -> None:
        """Size the next insert so that it takes about CHUNK_SECONDS (cancel stays quick)."""
        rate = n / max(seconds, 1e-3)
        self.chunk = max(MIN_CHUNK, min(BATCH_MESSAGES, int(rate * CHUNK_SECONDS)))

    def _take_back(self, written: list[tuple[str, list[tuple[_Plan, dict[str, Any]]]]]) -> None:
        """Cancelled half-way through a batch: remove its messages, so that only whole
        conversations stay (none of this batch's sessions was written yet)."""
        for coll, part in written:
            by_session: dict[str, list[str]] = {}
            for p, d in part:
                by_session.setdefault(p.record["id"], []).append(d["uuid"])
            for sid, uuids in by_session.items():
                self.db[coll].delete_many({"sessionId": sid, "uuid": {"$in": uuids}})

    def _duplicates(self, coll: str, part: list[tuple[_Plan, dict[str, Any]]],
                    exc: BulkWriteError) -> None:
        """Messages already there: ours from a killed run (same session) are completed;
        another conversation's are a failure of this one."""
        dups = []
        for err in exc.details.get("writeErrors", []):
            if err.get("code") != 11000:
                raise exc
            dups.append(part[err["index"]])
        owners = {d["uuid"]: d for d in self.db[coll].find(
            {"uuid": {"$in": [doc["uuid"] for _, doc in dups]}}, {"sessionId": 1, "uuid": 1})}
        ops = []
        for plan, doc in dups:
            found = owners.get(doc["uuid"])
            if found is None:
                raise exc
            if found.get("sessionId") == plan.record["id"]:
                body = {k: v for k, v in doc.items() if k != "_id"}
                ops.append(ReplaceOne({"_id": found["_id"]}, body))
                plan.uncertain = True
            else:
                plan.failed = (f"conversation {plan.record['id']!r}: message id {doc['uuid']!r} "
                               f"already belongs to conversation {found.get('sessionId')!r}")
        if ops:
            self.db[coll].bulk_write(ops, ordered=False)

    def _replace(self, plans: list[_Plan]) -> None:
        by_coll: dict[str, list[ReplaceOne]] = {}
        for p in plans:
            for d, c in zip(p.replace_docs, p.replace_colls, strict=True):
                by_coll.setdefault(c, []).append(ReplaceOne({"uuid": d["uuid"]}, d, upsert=True))
        for coll, ops in by_coll.items():
            for i in range(0, len(ops), BATCH_MESSAGES):
                self.db[coll].bulk_write(ops[i:i + BATCH_MESSAGES], ordered=False)
        deletes: dict[str, list[Any]] = {}
        for p in plans:
            for c, _id in p.delete:
                deletes.setdefault(c, []).append(_id)
        for coll, ids in deletes.items():
            for i in range(0, len(ids), BATCH_MESSAGES):
                self.db[coll].delete_many({"_id": {"$in": ids[i:i + BATCH_MESSAGES]}})

    def _rollback_failed(self, p: _Plan) -> None:
        by_coll: dict[str, list[str]] = {}
        for d, c in zip(p.docs, p.colls, strict=True):
            by_coll.setdefault(c, []).append(d["uuid"])
        for c, uuids in by_coll.items():
            self.db[c].delete_many({"sessionId": p.record["id"], "uuid": {"$in": uuids}})

    def _session_doc(self, p: _Plan) -> dict[str, Any]:
        rec = p.record
        if p.action == "merge" and p.existing is not None:
            pid = p.existing.get("projectId") or p.project_id
            incoming = records.session_document(rec, pid)
            base = {k: v for k, v in p.existing.items() if k != "_id"}
            stamp = p.existing.get("endedAt") or p.existing.get("updatedAt")
            mine = rec.get("updated_at") or rec.get("created_at")
            if stamp is None or (mine is not None and mine >= stamp):
                base.update(incoming)  # the newer metadata wins; older is left as stored
            base["projectId"] = pid
            doc = base
        else:
            doc = records.session_document(rec, p.project_id)
        doc.update(p.figures if p.figures is not None else records.session_stats(p.stored))
        return doc

    def prepare(self) -> _Batch:
        """Plan the queued conversations and build every document (reads, no writes)."""
        plans = self._plan()
        created: list[dict[str, Any]] = []
        for p in plans:
            if p.action in ("insert", "replace") or (
                    p.action == "merge" and not (p.existing or {}).get("projectId")):
                p.project_id = self._project(p.record, created)
        undo = self._undo_docs(plans, created)
        for p in plans:
            if p.action != "skip":
                p.session = self._session_doc(p)
        self.seq += 1
        self.drop_pending()
        return _Batch(plans, created, undo)

    def _create_projects(self, batch: _Batch) -> None:
        for c in batch.created:
            try:
                self.db[names.PROJECTS].insert_one(c)
            except WriteError as exc:
                if exc.code != validation.DOCUMENT_FAILED_VALIDATION:
                    raise
                # Refused by the database's validator: none of its conversations is written.
                for p in batch.plans:
                    if p.session is not None and p.session.get("projectId") == c["_id"]:
                        p.failed = (f"conversation {p.record['id']!r}: the database refused its "
                                    f"project {c['path']!r}: {validation.describe(exc.details or {})}")
            except DuplicateKeyError:
                # Created meanwhile by someone else: use theirs.
                found = self.db[names.PROJECTS].find_one({"path": c["path"]}, {"_id": 1})
                if found is None:
                    raise
                for k, v in list(self.projects.items()):
                    if v == c["_id"]:
                        self.projects[k] = found["_id"]
                for p in batch.plans:
                    if p.session is not None and p.session.get("projectId") == c["_id"]:
                        p.session["projectId"] = found["_id"]

    def commit(self, batch: _Batch) -> list[_Plan]:
        """Write a prepared batch: undo data first, then messages, then sessions."""
        plans = batch.plans
        self.db[IMPORT_UNDO].insert_many(batch.undo, ordered=True)
        self._create_projects(batch)
        self._insert([p for p in plans if p.action in ("insert", "merge")])
        self._replace([p for p in plans if p.action == "replace" and p.failed is None])
        ops = []
        written = []
        for p in plans:
            if p.action == "skip":
                self.counts.skipped += 1
                continue
            if p.failed:
                self._rollback_failed(p)
                self.counts.failed += 1
                self.counts.errors.append(p.failed)
                continue
            doc = p.session
            assert doc is not None
            self.touched_projects.add(doc.get("projectId"))
            if p.existing is not None and p.action != "insert":
                self.touched_projects.add(p.existing.get("projectId"))
                ops.append(ReplaceOne({"_id": p.existing["_id"]}, doc))
            else:
                ops.append(ReplaceOne({"sessionId": p.record["id"]}, doc, upsert=True))
            written.append(p)
        refused = self._write_sessions(ops, written)
        for p in written:
            if id(p) in refused:
                continue
            if p.uncertain:
                self.uncertain.append(p.record["id"])
            name = _COUNT_OF[p.action]
            setattr(self.counts, name, getattr(self.counts, name) + 1)
            self.counts.messages_written += len(p.docs) + len(p.replace_docs)
        return plans

    def _write_sessions(self, ops: list[ReplaceOne], plans: list[_Plan]) -> set[int]:
        """Write the session documents; a session the database's validator refuses takes its
        conversation's messages back with it (never messages without their session)."""
        if not ops:
            return set()
        try:
            self.db[names.SESSIONS].bulk_write(ops, ordered=False)
            return set()
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if any(e.get("code") != validation.DOCUMENT_FAILED_VALIDATION for e in errors):
                raise
        refused = set()  # id() of the refused plans
        for err in errors:
            p = plans[err["index"]]
            refused.add(id(p))
            if p.action == "replace":
                self._restore_replaced(p)
            else:
                self._rollback_failed(p)
            self.counts.failed += 1
            self.counts.errors.append(f"conversation {p.record['id']!r}: the database refused its "
                                      f"session: {validation.describe(err)}")
        return refused

    def _restore_replaced(self, p: _Plan) -> None:
        """Put back the messages a refused replace had replaced or removed."""
        kept = {(c, d["uuid"]) for c, d in p.existing_msgs}
        for d, c in zip(p.replace_docs, p.replace_colls, strict=True):
            if (c, d["uuid"]) not in kept:
                self.db[c].delete_one({"sessionId": p.record["id"], "uuid": d["uuid"]})
        for c, d in p.existing_msgs:
            self.db[c].replace_one({"_id": d["_id"]}, d, upsert=True)

    def flush(self) -> list[_Plan]:
        """Write the queued conversations now. Returns their plans."""
        if not self.pending:
            return []
        return self.commit(self.prepare())

    # ------------------------------------------------------------ after the writes

    def recompute(self, session_ids: list[str]) -> None:
        """Derived session fields from the stored messages, across all message collections."""
        colls = names.message_collection_names(self.db)
        fields = {"costUsd": 1, "timestamp": 1, "usage": 1, "type": 1, "sessionId": 1}
        for i in range(0, len(session_ids), 200):
            chunk = session_ids[i:i + 200]
            by: dict[str, list[dict[str, Any]]] = {sid: [] for sid in chunk}
            for c in colls:
                for d in self.db[c].find({"sessionId": {"$in": chunk}}, fields):
                    by[d["sessionId"]].append(d)
            for sid, docs in by.items():
                self.db[names.SESSIONS].update_one({"sessionId": sid}, {"$set": records.session_stats(docs)})


class Pipeline:
    """Commits one prepared batch in a worker thread while the next one is read and built,
    so that parsing and document building overlap the database's work."""

    def __init__(self, writer: Writer) -> None:
        self.writer = writer
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="claudelens-import")
        self.future: Future[list[_Plan]] | None = None

    def wait(self) -> int:
        """Wait for the batch in flight; its conversation count (its errors are raised)."""
        future, self.future = self.future, None
        return len(future.result()) if future is not None else 0

    def submit(self, batch: _Batch) -> int:
        done = self.wait()
        self.future = self.pool.submit(self.writer.commit, batch)
        return done

    def close(self) -> BaseException | None:
        """Let the batch in flight finish (or take itself back on cancel); never raises."""
        error = None
        try:
            self.wait()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            error = exc
        self.pool.shutdown(wait=True)
        return error


def refresh_project_stats(db: Database, project_ids: set[Any]) -> None:
    ids = [p for p in project_ids if p is not None]
    if not ids:
        return
    seen = set()
    for row in db[names.SESSIONS].aggregate([
        {"$match": {"projectId": {"$in": ids}}},
        {"$group": {"_id": "$projectId", "sessions": {"$sum": 1}, "messages": {"$sum": "$messageCount"}}},
    ]):
        seen.add(row["_id"])
        db[names.PROJECTS].update_one(
            {"_id": row["_id"]},
            {"$set": {"stats": {"session_count": row["sessions"], "message_count": row["messages"]}}},
        )
    for pid in set(ids) - seen:
        db[names.PROJECTS].update_one(
            {"_id": pid}, {"$set": {"stats": {"session_count": 0, "message_count": 0}}})
