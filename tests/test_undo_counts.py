"""Undo puts back only what an import changed, and says so in words."""

from __future__ import annotations

import json

from claudelens_nb.exports import export
from claudelens_nb.imports import import_file, undo_import
from claudelens_nb.imports.undo import undo_summary
from claudelens_nb.store import collections as names


def _messages(db) -> dict[str, dict]:
    return {d["uuid"]: d for c in names.message_collections(db) for d in c.find()}


def test_undoing_a_merge_that_added_nothing_restores_nothing(seeded_db, tmp_path):
    src = export(None, "json", tmp_path / "all.json", db=seeded_db).path
    before = _messages(seeded_db)
    result = import_file(src, strategy="merge", db=seeded_db)
    assert (result.merged, result.messages_written) == (20, 0)
    counts = undo_import(result.job_id, db=seeded_db)
    assert counts == {"removed_sessions": 0, "removed_messages": 0, "restored_sessions": 0,
                      "restored_messages": 0, "removed_projects": 0}
    assert undo_summary(counts) == "nothing to change: the import had changed nothing"
    assert _messages(seeded_db) == before


def test_undoing_a_replace_counts_the_messages_it_put_back(seeded_db, tmp_path):
    plain = {"remove_secrets": False}  # else the demo's fake keys come back redacted: a real change
    data = json.loads(export(None, "json", tmp_path / "all.json", options=plain, db=seeded_db).path.read_text())
    conv = data["conversations"][0]
    conv["messages"][0]["content"] = "edited by the import"
    added = {**conv["messages"][1], "id": "new-message-1", "content": "added by the import"}
    conv["messages"].append(added)
    data["conversations"] = [conv]
    path = tmp_path / "one.json"
    path.write_text(json.dumps(data))
    before = _messages(seeded_db)
    result = import_file(path, strategy="replace", db=seeded_db)
    assert result.replaced == 1
    counts = undo_import(result.job_id, db=seeded_db)
    assert (counts["restored_sessions"], counts["restored_messages"], counts["removed_messages"]) == (1, 1, 1)
    assert undo_summary(counts) == ("removed 0 conversations and 1 message it had added; "
                                    "put back 1 conversation and 1 message as they were")
    assert _messages(seeded_db) == before
