CELLS = [
("md", """
# Export pipeline: backups and hand-offs, scripted

**For:** whoever keeps the backups and feeds other tools: data engineers, admins, the
analyst who has to send a spreadsheet.
**What it does:** four exports a team typically schedules, each read back to prove it:
a monthly JSON backup zipped with a manifest and checksums, a CSV for a spreadsheet user,
a PDF for a non-technical reader, and Parquet for Spark- or DuckDB-style tools. Every
export is recorded in the export history.
"""),
("code", """
import hashlib, json, zipfile
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import claudelens_nb as cl
from claudelens_nb.demo import ensure_demo

db = cl.connect()
ensure_demo(db, sessions=40, messages_per_session=30, seed=42)
out = Path("exports-demo")   # a folder beside this notebook
out.mkdir(exist_ok=True)
"""),
("md", """
## 1. A monthly JSON backup, with a manifest
`compress=True` puts the export in a zip with `manifest.json`: format, version, filters,
counts and each member's size and SHA-256. Secrets (API keys, tokens) are removed by default.
"""),
("code", """
july = cl.Filter(since="2026-07-01", until="2026-07-31")
p = cl.preview(july)
print(f"July: {p.conversations} conversations, {p.messages} messages, ${p.total_cost:.2f}")
backup = cl.export(july, "json", out / "backup-2026-07.zip", options=cl.ExportOptions(compress=True))
print(backup.status, backup.conversations, "conversations,", backup.messages, "messages")
"""),
("code", """
with zipfile.ZipFile(backup.path) as zf:
    manifest = json.loads(zf.read("manifest.json"))
    for member in manifest["files"]:
        data = zf.read(member["name"])
        ok = hashlib.sha256(data).hexdigest() == member["sha256"] and len(data) == member["size"]
        print(member["name"], "checksum ok" if ok else "CHECKSUM MISMATCH")
    doc = json.loads(zf.read(manifest["files"][0]["name"]))
print("version", doc["version"], "-", doc["metadata"]["total_conversations"], "conversations")
print("sanitising applied:", manifest.get("sanitizing") or manifest.get("sanitising"))
"""),
("md", """
## 2. A CSV for a spreadsheet user
Two tables, `conversations.csv` and `messages.csv`, in one zip. Cells that a spreadsheet
would run as a formula (starting with `=`, `+`, `-`, `@`) are neutralised.
"""),
("code", """
csv_export = cl.export({"projects": ["my-app"]}, "csv", out / "my-app.csv.zip")
with zipfile.ZipFile(csv_export.path) as zf:
    conversations = pd.read_csv(zf.open("conversations.csv"))
    msgs = pd.read_csv(zf.open("messages.csv"))
print(len(conversations), "conversations,", len(msgs), "messages")
conversations[["title", "model", "message_count", "cost_usd"]].head()
"""),
("md", """
## 3. A PDF for a non-technical reader
A title page, a table of contents with page numbers, one section per conversation, code
highlighted, user and assistant turns told apart.
"""),
("code", """
pdf = cl.export({"projects": ["café-menu"], "message_types": ["user", "assistant"]}, "pdf",
                out / "cafe-menu.pdf")
print(pdf.conversations, "conversations;", "starts with", pdf.path.read_bytes()[:5])
"""),
("md", """
## 4. Parquet for Spark, DuckDB or pandas
Typed tables: UTC timestamps, float costs, integer tokens.
"""),
("code", """
parquet = cl.export(None, "parquet", out / "all.parquet.zip")
with zipfile.ZipFile(parquet.path) as zf:
    zf.extractall(out / "parquet")
table = pq.read_table(out / "parquet" / "messages.parquet")
print(table.num_rows, "messages")
print(table.schema.field("timestamp").type, "|", table.schema.field("cost_usd").type,
      "|", table.schema.field("tokens_input").type)
"""),
("md", "## The export history"),
("code", """
recent = pd.DataFrame(cl.history(page_size=4))
recent[["format", "status", "conversations", "messages"]]
"""),
]
