CELLS = [
("md", """
# Claude Code ingest: from transcripts on disk to analysis

**For:** developers who use Claude Code and want to see their own sessions, and the people
who run ClaudeLens for a team.
**What it does:** imports a Claude Code `projects` folder (here a sample the package
generates; point `projects` at `~/.claude/projects` for your own), then looks at sessions
per project, tool use and sub-agents. Importing is idempotent: running it again after your
sessions grew adds only the new messages (use `strategy="merge"`).
"""),
("code", """
import shutil
from pathlib import Path

import pandas as pd
import claudelens_nb as cl
from claudelens_nb.sources.sample import write_projects

sample = Path("claude-code-sample")
shutil.rmtree(sample, ignore_errors=True)                # a fresh sample on every run
write_projects(sample / "projects", sessions=12, lines=600, seed=7)
projects = sample / "projects"                           # or: Path.home() / ".claude" / "projects"
print(sum(1 for _ in projects.rglob("*.jsonl")), "transcript files in",
      len([p for p in projects.iterdir() if p.is_dir()]), "project folders")
"""),
("md", "## Validate, then import"),
("code", """
report = cl.validate_file(projects)
print("kind:", report.kind, "| conversations:", report.stats["conversations"],
      "| messages:", report.stats["messages"], "| errors:", len(report.errors))
result = cl.import_file(projects, strategy="merge")
print(result.status, "| inserted", result.inserted, "| merged", result.merged,
      "| messages written", result.messages_written)
"""),
("code", """
again = cl.import_file(projects, strategy="merge")
print("second run writes", again.messages_written, "messages")
"""),
("md", "A session of the sample grows (Claude Code appends lines to its file); importing again adds just those:"),
("code", """
import json
transcript = sorted(sample.glob("projects/*/*.jsonl"))[0]
last = next(json.loads(l) for l in reversed(transcript.read_text().splitlines()) if '"uuid"' in l)
new_line = {**{k: last[k] for k in ("sessionId", "cwd", "version", "gitBranch")},
            "type": "user", "uuid": "grown-0001", "parentUuid": last["uuid"], "isSidechain": False,
            "userType": "external", "timestamp": "2026-12-01T09:00:00.000Z",
            "message": {"role": "user", "content": "One more thing: add a changelog entry."}}
with transcript.open("a") as fh:
    fh.write(json.dumps(new_line) + "\\n")
grown = cl.import_file(projects, strategy="merge")
print("after the session grew:", grown.messages_written, "new message written;", grown.merged, "existing sessions merged")
"""),
("md", """
## Sessions per project
As upstream ClaudeLens's own sync does, the project is the Claude projects folder a transcript
lies in (its path), named from the folder (`-home-dev-src-project-3` gives `3`); each
message keeps its working directory in `cwd`.
"""),
("code", """
ingested = cl.Filter(projects=[str(p.resolve()) for p in projects.iterdir() if p.is_dir()])
sessions = cl.load_sessions(ingested)
messages = cl.load_messages(ingested)
(sessions.groupby("project_name")
 .agg(sessions=("conversation_id", "count"), messages=("message_count", "sum"), cost_usd=("cost_usd", "sum"))
 .round(4))
"""),
("md", """
## Tool use
Claude Code's assistant messages carry `tool_use` blocks; they are stored as their own
`tool_use` documents, the way ClaudeLens stores them.
"""),
("code", """
tools = messages[messages["type"] == "tool_use"]
ax = tools["tool_name"].value_counts().sort_values().plot.barh(figsize=(6, 2.5), title="Tool calls")
_ = ax.set_xlabel("calls")
"""),
("code", """
messages["type"].value_counts().to_frame("messages")
"""),
("md", """
## Sub-agents
Messages written by sub-agents (Task tool, `subagents/agent-*.jsonl`) are kept in their
parent session and marked as sidechain.
"""),
("code", """
side = messages.groupby("conversation_id")["is_sidechain"].agg(["sum", "count"])
side = side[side["sum"] > 0].rename(columns={"sum": "sub-agent messages", "count": "all messages"})
print(len(side), "of", len(sessions), "sessions used a sub-agent")
side.join(sessions.set_index("conversation_id")["project_name"]).reset_index(drop=True)
"""),
]
