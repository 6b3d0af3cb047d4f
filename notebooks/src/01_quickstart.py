CELLS = [
("md", """
# Quickstart: your ClaudeLens conversations in pandas

**For:** analysts who want their Claude conversations in a DataFrame in five minutes.
**What it does:** connects to the database (the embedded one when no URI is set), adds demo
data if the database is empty, loads conversations and messages with typed columns, filters
them, and draws a first plot. Every later notebook builds on these calls.
"""),
("code", """
import claudelens_nb as cl
from claudelens_nb.demo import ensure_demo, summarize

db = cl.connect()          # CLAUDELENS_MONGODB_URI if set, else the embedded SecantusDB server
ensure_demo(db, sessions=40, messages_per_session=30, seed=42)
print(summarize(db))
"""),
("md", """
## Conversations and messages as typed DataFrames
`load_sessions` gives one row per conversation, `load_messages` one row per message. Columns
are typed: UTC timestamps, float costs (stored as Decimal128), nullable integer tokens.
"""),
("code", """
sessions = cl.load_sessions()
messages = cl.load_messages()
print(len(sessions), "conversations,", len(messages), "messages")
sessions.dtypes
"""),
("code", """
sessions[["title", "project_name", "started_at", "message_count", "cost_usd"]].head(5)
"""),
("md", """
## Filtering
A `Filter` is plain data: a date range (the end day is included), projects by name, path or
id, models, tags, a cost range, message types, explicit conversation ids.
"""),
("code", """
june = cl.Filter(since="2026-06-01", until="2026-06-30", projects=["my-app", "data-pipeline"])
june_sessions = cl.load_sessions(june)
june_sessions[["title", "project_name", "started_at", "cost_usd"]]
"""),
("code", """
assistant = cl.load_messages(cl.Filter(message_types=["assistant"]))
assistant.groupby("model")["cost_usd"].agg(["count", "sum"]).round(4).sort_values("sum", ascending=False)
"""),
("md", """
## A first plot: cost by model
"""),
("code", """
ax = (assistant.groupby("model")["cost_usd"].sum().sort_values()
      .plot.barh(title="Cost by model (USD)", figsize=(7, 3)))
_ = ax.set_xlabel("USD")
"""),
("md", """
## Large databases: chunks
`iter_chunks` yields `(sessions, messages)` a chunk of conversations at a time, so memory
stays bounded however large the database is.
"""),
("code", """
rows = 0
for chunk_sessions, chunk_messages in cl.iter_chunks(chunk_size=10):
    rows += len(chunk_messages)
print("streamed", rows, "messages in chunks of 10 conversations")
"""),
]
