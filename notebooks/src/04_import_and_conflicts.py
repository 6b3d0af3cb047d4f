CELLS = [
("md", """
# Import and conflicts: bring data in without losing any

**For:** admins merging ClaudeLens instances, and anyone importing a file another tool wrote.
**What it does:** validates a file before anything is written (kind, counts, the proposed
field mapping with sample values, errors, conflicts with the database), adjusts the mapping
for a field the defaults cannot guess, imports with **merge** (nothing stored is lost,
nothing duplicated), and undoes the import.
"""),
("code", """
import json
from pathlib import Path

import pandas as pd
import claudelens_nb as cl
from claudelens_nb.demo import ensure_demo

db = cl.connect()
ensure_demo(db, sessions=40, messages_per_session=30, seed=42)
work = Path("import-demo")
work.mkdir(exist_ok=True)
before = cl.load_sessions()
print(len(before), "conversations before the import")
"""),
("md", """
## A file from another tool
Two conversations that already exist here (with a new message each) and one new one, written
by a tool that says `session_id`, `msgs`, `role`, `text` and — unusually — `opened` for the
creation time.
"""),
("code", """
existing = before.sort_values("conversation_id").head(2)
def message(i, conv, role, text, minute):
    return {"uuid": f"{conv[:8]}-new-{i}", "role": role, "text": text,
            "created_at": f"2026-11-0{i}T10:{minute:02d}:00Z"}
conversations = []
for i, row in enumerate(existing.itertuples(), start=1):
    conversations.append({"session_id": row.conversation_id, "name": row.title if pd.notna(row.title) else "Untitled",
                          "opened": "2026-11-01T10:00:00Z",
                          "msgs": [message(i, row.conversation_id, "user", "One more question about this 🙂", 1)]})
conversations.append({"session_id": "team-notes-0001", "name": "Notes from the design review",
                      "opened": "2026-11-02T09:00:00Z",
                      "msgs": [message(3, "team-notes", "user", "Summarise the review, please.", 0),
                               message(4, "team-notes", "assistant", "Three decisions were taken: …", 1)]})
path = work / "other-tool.json"
_ = path.write_text(json.dumps({"conversations": conversations}, ensure_ascii=False, indent=1))
"""),
("md", "## Validate: nothing is written yet"),
("code", """
report = cl.validate_file(path)
print("kind:", report.kind, "| ok:", report.ok)
print("stats:", {k: v for k, v in report.stats.items() if k in ("conversations", "messages")})
for e in report.errors:
    print("error:", e)
pd.DataFrame([(m.source, m.target, str(m.samples[:1])) for m in report.mapping],
             columns=["source field", "maps to", "sample"])
"""),
("md", """
`opened` was not recognised: it would be kept in the conversation's metadata and the creation
time taken from the first message instead. Map it to `created_at` by hand and validate again
(the conflicts are the conversations whose id already exists here):
"""),
("code", """
mapping = {"opened": "created_at"}
report = cl.validate_file(path, mapping=mapping)
print("ok:", report.ok, "| errors:", len(report.errors))
pd.DataFrame([{"id": c.id[:8] + "…", "existing messages": c.existing_messages,
               "incoming messages": c.incoming_messages} for c in report.conflicts])
"""),
("md", """
## Import with merge
Merge keeps every stored message, adds the new ones, and de-duplicates by message id and
content hash. The new conversation is inserted.
"""),
("code", """
result = cl.import_file(path, strategy="merge", mapping=mapping)
print(result.status, "| inserted", result.inserted, "| merged", result.merged,
      "| skipped", result.skipped, "| messages written", result.messages_written)
after = cl.load_sessions().set_index("conversation_id")
for cid in existing["conversation_id"]:
    print(cid[:8], "…", int(before.set_index("conversation_id").loc[cid, "message_count"]), "->",
          int(after.loc[cid, "message_count"]), "messages")
"""),
("md", "Running the same import again changes nothing:"),
("code", """
again = cl.import_file(path, strategy="merge", mapping=mapping)
print("messages written the second time:", again.messages_written)
"""),
("md", "## Undo"),
("code", """
undone = cl.undo_import(result.job_id)
restored = cl.load_sessions()
print(len(restored), "conversations after undo;",
      "same message counts as before:",
      restored.set_index("conversation_id")["message_count"].sort_index().equals(
          before.set_index("conversation_id")["message_count"].sort_index()))
"""),
]
