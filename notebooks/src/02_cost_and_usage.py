CELLS = [
("md", """
# Cost and usage: where the money and the tokens go

**For:** team leads and analysts who pay the bill and want to know what drives it.
**What it does:** loads every assistant message with its tokens and cost, then breaks cost
and tokens down by model, project, day and tool, shows how much prompt caching saves, and
lists the costliest conversations. Costs are stored as Decimal128 and summed exactly
before they are shown as rounded floats.
"""),
("code", """
import pandas as pd
import claudelens_nb as cl
from claudelens_nb.demo import ensure_demo

db = cl.connect()
ensure_demo(db, sessions=40, messages_per_session=30, seed=42)
sessions = cl.load_sessions()
messages = cl.load_messages()
assistant = messages[messages["type"] == "assistant"].copy()
print(f"{len(sessions)} conversations, {len(assistant)} assistant turns, "
      f"total ${assistant['cost_usd'].sum():.2f}")
"""),
("md", "## By model"),
("code", """
by_model = assistant.groupby("model").agg(
    turns=("message_id", "count"),
    input=("tokens_input", "sum"),
    output=("tokens_output", "sum"),
    cache_write=("tokens_cache_creation", "sum"),
    cache_read=("tokens_cache_read", "sum"),
    cost_usd=("cost_usd", "sum"),
).sort_values("cost_usd", ascending=False)
by_model["cost_usd"] = by_model["cost_usd"].round(4)
by_model
"""),
("code", """
ax = by_model["cost_usd"].sort_values().plot.barh(figsize=(7, 3), title="Cost by model (USD)")
_ = ax.set_xlabel("USD")
"""),
("md", "## By project"),
("code", """
per_project = (assistant.merge(sessions[["conversation_id", "project_name"]], on="conversation_id")
               .groupby("project_name")["cost_usd"].agg(["count", "sum"])
               .rename(columns={"count": "turns", "sum": "cost_usd"})
               .sort_values("cost_usd", ascending=False).round(4))
per_project
"""),
("md", "## By day: the spend over time"),
("code", """
daily = assistant.set_index("timestamp")["cost_usd"].resample("W").sum()
ax = daily.plot(figsize=(8, 3), marker="o", title="Weekly cost (USD)")
_ = ax.set_ylabel("USD")
"""),
("code", """
print("busiest week:", daily.idxmax().date(), f"${daily.max():.2f}")
"""),
("md", """
## Prompt caching
The cache hit ratio is the share of prompt tokens read from the cache; cache reads cost a
tenth of fresh input tokens, so a high ratio is money saved.
"""),
("code", """
prompt = assistant[["tokens_input", "tokens_cache_creation", "tokens_cache_read"]].sum(axis=1)
assistant["cache_hit_ratio"] = (assistant["tokens_cache_read"] / prompt).astype("float64")
(assistant.groupby("model")["cache_hit_ratio"].mean().round(3)
 .sort_values(ascending=False).to_frame("mean cache hit ratio"))
"""),
("md", "## Tools: what the assistant calls, and the cost of the turns that call it"),
("code", """
tools = messages[messages["type"] == "tool_use"][["parent_id", "tool_name"]]
calls = tools.merge(assistant[["message_id", "cost_usd"]], left_on="parent_id", right_on="message_id")
calls["share"] = calls["cost_usd"] / calls.groupby("parent_id")["tool_name"].transform("count")
(calls.groupby("tool_name").agg(calls=("tool_name", "count"), cost_usd=("share", "sum"))
 .sort_values("calls", ascending=False).round(4))
"""),
("md", "## The costliest conversations"),
("code", """
top = sessions.nlargest(5, "cost_usd")[["conversation_id", "project_name", "message_count", "cost_usd", "tokens_total"]]
top.assign(cost_usd=top["cost_usd"].round(4))
"""),
]
