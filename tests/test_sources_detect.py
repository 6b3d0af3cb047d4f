"""Detection from content (never names), cheap peeking, and hostile zips."""

from __future__ import annotations

import json
import time
import zipfile
from pathlib import Path

import pytest

from claudelens_nb.errors import ErrorCode, ImportFileError
from claudelens_nb.reading import ReadReport
from claudelens_nb.security import Limits
from claudelens_nb.sources import detect, read

DATA = Path(__file__).parent / "data" / "sources"
CC_LINE = {"type": "user", "sessionId": "s", "uuid": "u1", "timestamp": "2026-01-01T00:00:00Z",
           "cwd": "/x/y", "message": {"role": "user", "content": "hi"}}


def test_every_fixture_is_detected(fixtures_dir):
    for f in sorted((fixtures_dir / "claude-code-log").glob("*.jsonl")):
        assert detect(f) == "claude_code", f.name
    assert detect(fixtures_dir / "claude-code-log") == "claude_code"
    assert detect(fixtures_dir / "claude-ai" / "conversations.json") == "claude_ai"
    assert detect(fixtures_dir / "SOURCES.md") is None


def test_synthetic_inputs_are_detected():
    assert detect(DATA / "claude-code" / "projects") == "claude_code"
    assert detect(DATA / "claude-code") == "claude_code"  # looks inside
    assert detect(DATA / "chatgpt" / "conversations.json") == "chatgpt"
    assert detect(DATA / "chatgpt") == "chatgpt"
    assert detect(DATA / "claude-ai-export.zip") == "claude_ai"


@pytest.mark.parametrize("text", [
    "", "hello world\n", "[]", "[1, 2, 3]", '{"a": 1}\n{"b": 2}\n',
    json.dumps({"version": "1.0.0", "conversations": [{"id": "c", "messages": []}]}),
    json.dumps([{"id": "c", "messages": []}]),
    "conversation_id,title\nc1,Hello\n",
])
def test_other_content_is_not_ours(tmp_path, text):
    # Named like a source on purpose: only the content counts.
    path = tmp_path / "conversations.json"
    path.write_text(text)
    assert detect(path) is None


def test_name_does_not_matter(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text(json.dumps(CC_LINE) + "\n")
    assert detect(path) == "claude_code"
    assert detect(tmp_path / "missing.jsonl") is None


def test_summary_lines_first_then_messages(tmp_path):
    path = tmp_path / "s.jsonl"
    lines = [{"type": "summary", "summary": f"S{i}", "leafUuid": f"l{i}"} for i in range(5)]
    lines.append({"type": "file-history-snapshot", "messageId": "m", "snapshot": {}})
    path.write_text("\n".join(json.dumps(x) for x in [*lines, CC_LINE]) + "\n")
    assert detect(path) == "claude_code"


def test_detection_only_peeks(tmp_path):
    big = tmp_path / "big.jsonl"
    with big.open("w") as fh:
        fh.write(json.dumps(CC_LINE) + "\n")
        blob = "x" * (1024 * 1024)
        for _ in range(80):
            fh.write(blob)
    gpt = tmp_path / "gpt.json"
    first = json.loads((DATA / "chatgpt" / "conversations.json").read_text())[0]
    with gpt.open("w") as fh:
        fh.write("[" + json.dumps(first))
        pad = ', {"title": "' + "y" * (1024 * 1024) + '"}'
        for _ in range(80):
            fh.write(pad)
        fh.write("]")
    start = time.perf_counter()
    assert detect(big) == "claude_code"
    assert detect(gpt) == "chatgpt"
    assert time.perf_counter() - start < 1.0


def test_long_first_line_is_skipped_not_loaded(tmp_path):
    path = tmp_path / "long.jsonl"
    huge = dict(CC_LINE, uuid="u0", message={"role": "user", "content": "z" * 600_000})
    path.write_text(json.dumps(huge) + "\n" + json.dumps(CC_LINE) + "\n")
    assert detect(path) == "claude_code"


def _cc_zip(path: Path, names: list[str]) -> None:
    with zipfile.ZipFile(path, "w") as zf:
        for name in names:
            zf.writestr(name, json.dumps(dict(CC_LINE, sessionId=Path(name).stem)) + "\n")


def test_hostile_member_names_are_refused(tmp_path):
    # The import's zip defence (security.open_zip): the whole archive is refused, as an
    # import of it is, not read in part.
    path = tmp_path / "evil.zip"
    _cc_zip(path, ["../escape.jsonl", "/abs.jsonl", "ok/fine.jsonl"])
    with pytest.raises(ImportFileError) as info:
        list(read("claude_code", path, ReadReport()))
    assert info.value.code == ErrorCode.UNSAFE_ARCHIVE
    assert str(info.value) == ("evil.zip: member '../escape.jsonl' refused: "
                               "'..' in its path (path traversal)")
    only_bad = tmp_path / "bad.zip"
    _cc_zip(only_bad, ["/abs.jsonl"])
    with pytest.raises(ImportFileError, match="member '/abs.jsonl' refused: an absolute path"):
        list(read("claude_code", only_bad, ReadReport()))
    assert detect(only_bad) is None
    assert not (tmp_path.parent / "escape.jsonl").exists()


def test_zip_bomb_member_is_refused(tmp_path):
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("p/bomb.jsonl", json.dumps(CC_LINE) + "\n" + " " * 2_000_000)
    with pytest.raises(ImportFileError) as info:
        list(read("claude_code", path, ReadReport(), limits=Limits(zip_ratio_floor=1024)))
    assert info.value.code == ErrorCode.UNSAFE_ARCHIVE
    assert str(info.value) == ("bomb.zip: member 'p/bomb.jsonl' expands more than 250x "
                               "(zip bomb?); stopped reading")


def test_unknown_kind_and_missing_path(tmp_path):
    with pytest.raises(ImportFileError, match="unknown source kind"):
        read("myspace", tmp_path, ReadReport())
    with pytest.raises(ImportFileError, match="no such file"):
        list(read("claude_code", tmp_path / "nope", ReadReport()))
