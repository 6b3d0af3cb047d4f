"""Removing secrets, redacting PII and anonymising users in conversation records.

Works in place on canonical records (fresh per export), walking every string in message
text, tool inputs and metadata. Identifiers (ids, uuids, hashes) are left alone. Each
replacement names what it replaced, e.g. `[REDACTED:anthropic_key]`.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from array import array
from collections import Counter
from collections.abc import Callable, Iterable
from itertools import accumulate
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from ..config import settings

_SECRET_PATTERNS = [
    ("anthropic_key", r"sk-ant-[A-Za-z0-9_\-]{8,}"),
    ("openai_key", r"sk-(?:proj-|svcacct-)?[A-Za-z0-9_\-]{16,}"),
    ("github_token", r"(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})"),
    ("slack_token", r"xox[bpars]-[A-Za-z0-9\-]{10,}"),
    ("aws_access_key", r"(?:AKIA|ASIA)[0-9A-Z]{16}"),
]
_EDGE = r"(?<![A-Za-z0-9_\-])"
SECRET_RE = re.compile(
    "|".join(f"(?P<{name}>{_EDGE}{pattern})" for name, pattern in _SECRET_PATTERNS)
    + r"|(?P<bearer>(?i:\bbearer)\s+)[A-Za-z0-9._~+/=\-]{8,}"
    + r"|(?P<password>(?i:\b(?:password|passwd|pwd|secret|api[_-]?key))\s*[=:]\s*)"
    + r"(?![\[\s\"'])[^\s\"'\\,;&]+"
)
EMAIL_RE = re.compile(r"(?<![\w.+-])[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}\b")
_PHONE_CANDIDATE = re.compile(r"(?<![\w+\-./:])(?:\+|\()?\d[\d \-.()]{6,}\d(?![\w\-/:])")
_HOME_RE = re.compile(r"(/home/|/Users/|C:\\\\Users\\\\|C:\\Users\\)([^/\\\s\"']+)")
# Keys whose values are identifiers or machine data, never free text.
SKIP_KEYS = frozenset({
    "id", "parent_id", "uuid", "parentUuid", "sessionId", "contentHash", "requestId",
    "tool_use_id", "type", "model", "timestamp", "project_id", "external_id",
})
USER_KEYS = frozenset({"userType", "userId", "user_id", "userEmail", "user_email", "email", "author"})


# The literal starts of every SECRET_RE alternative: matched as written, and (the
# case-insensitive ones) in any case. None holds a character that JSON escapes.
_CASED_LITERALS = ("sk-", "xox", "AKIA", "ASIA")
_CASED_PATTERN = r"gh[pousr]_|github_pat_"
_LOWER_LITERALS = ("bearer", "passw", "pwd", "secret")
_LOWER_PATTERN = r"api[_-]?key"
_CASED_RE, _LOWER_RE = re.compile(_CASED_PATTERN), re.compile(_LOWER_PATTERN)
# The same starts as one RE2 pattern (a DFA: one pass over many strings, in C).
CANDIDATE_RE2 = "|".join([*_CASED_LITERALS, _CASED_PATTERN]) + \
    "|(?i:" + "|".join([*_LOWER_LITERALS, _LOWER_PATTERN]) + ")"


def may_hold_secret(text: str) -> bool:
    """Cheap test: False means SECRET_RE cannot match anywhere in `text`."""
    if any(n in text for n in _CASED_LITERALS) or _CASED_RE.search(text):
        return True
    low = text.lower()
    return any(n in low for n in _LOWER_LITERALS) or _LOWER_RE.search(low) is not None


def secret_candidates(values: list[bytes] | list[str]) -> list[int]:
    """Which of these strings (or UTF-8 bytes) hold a place where a secret could start."""
    if not values:
        return []
    raw = [v.encode("utf-8") if isinstance(v, str) else v for v in values]
    # Built from its buffers: pa.array() on a list would import pandas (a fifth of a second).
    offsets = array("q", accumulate(map(len, raw), initial=0))
    strings = pa.LargeBinaryArray.from_buffers(
        pa.large_binary(), len(raw), [None, pa.py_buffer(offsets), pa.py_buffer(b"".join(raw))])
    found = pc.match_substring_regex(strings, pattern=CANDIDATE_RE2)
    return pc.indices_nonzero(found).to_pylist()


def _is_phone(text: str) -> bool:
    digits = sum(c.isdigit() for c in text)
    if not 9 <= digits <= 15:
        return False
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}.*", text):
        return False  # a date, not a number
    return text[0] in "+(" or digits >= 10 and any(c in text for c in " -.()")


def _anon_key() -> bytes:
    """A per-installation key, so pseudonyms are stable here but not guessable elsewhere."""
    path = Path(settings().home) / "anonymize.key"
    try:
        return bytes.fromhex(path.read_text().strip())
    except (OSError, ValueError):
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(key)
        return bytes.fromhex(key)


class Sanitizer:
    """Applies the chosen rules to records and counts what it replaced."""

    def __init__(self, *, remove_secrets: bool = True, redact_pii: bool = False,
                 anonymize: bool = False) -> None:
        self.remove_secrets = remove_secrets
        self.redact_pii = redact_pii
        self.anonymize = anonymize
        self.counts: Counter[str] = Counter()
        self._key = _anon_key() if anonymize else b""
        steps: list[Callable[[str], str]] = []
        if remove_secrets:
            steps.append(self._secrets)
        if anonymize:
            steps.append(self._anon_text)
        if redact_pii:
            steps.append(self._pii)
        self._steps = steps

    @property
    def active(self) -> bool:
        return bool(self._steps)

    def applied(self) -> dict[str, Any]:
        """What the manifest and job record say about sanitising."""
        return {
            "secrets_removed": self.remove_secrets,
            "pii_redacted": self.redact_pii,
            "users_anonymized": self.anonymize,
            "replacements": dict(sorted(self.counts.items())),
        }

    # ---------------------------------------------------------- strings

    def _secrets(self, text: str) -> str:
        if not may_hold_secret(text):
            return text

        def repl(m: re.Match[str]) -> str:
            kind = m.lastgroup or "secret"
            self.counts[kind] += 1
            if kind in ("bearer", "password"):
                return m.group(kind) + f"[REDACTED:{kind}]"
            return f"[REDACTED:{kind}]"

        return SECRET_RE.sub(repl, text)

    def _pii(self, text: str) -> str:
        def email(m: re.Match[str]) -> str:
            self.counts["email"] += 1
            return "[REDACTED:email]"

        def phone(m: re.Match[str]) -> str:
            if not _is_phone(m.group(0)):
                return m.group(0)
            self.counts["phone"] += 1
            return "[REDACTED:phone]"

        if "@" in text:
            text = EMAIL_RE.sub(email, text)
        return _PHONE_CANDIDATE.sub(phone, text)

    def pseudonym(self, value: str, prefix: str = "user") -> str:
        digest = hmac.new(self._key, value.encode("utf-8"), hashlib.sha256).hexdigest()
        return f"{prefix}-{digest[:10]}"

    def _anon_text(self, text: str) -> str:
        def email(m: re.Match[str]) -> str:
            self.counts["email_pseudonymized"] += 1
            return self.pseudonym(m.group(0).lower()) + "@anonymized.invalid"

        def home(m: re.Match[str]) -> str:
            self.counts["home_dir_pseudonymized"] += 1
            return m.group(1) + self.pseudonym(m.group(2))

        if "@" in text:
            text = EMAIL_RE.sub(email, text)
        if "/home/" in text or "Users" in text:
            text = _HOME_RE.sub(home, text)
        return text

    def to_check(self, values: list[bytes] | list[str]) -> list[int]:
        """Which of these texts (or encoded messages, UTF-8 JSON) a rule could change."""
        if not self._steps:
            return []
        if self.redact_pii or self.anonymize:
            return list(range(len(values)))
        return secret_candidates(values)

    def text(self, value: str) -> str:
        for step in self._steps:
            value = step(value)
        return value

    # ---------------------------------------------------------- structures

    def _walk_dict(self, d: dict[str, Any]) -> None:
        for k, v in d.items():
            if k in SKIP_KEYS:
                continue
            if self.anonymize and k in USER_KEYS and isinstance(v, (str, int)) and v != "":
                d[k] = self.pseudonym(str(v))
                self.counts["user_pseudonymized"] += 1
            elif isinstance(v, str):
                d[k] = self.text(v)
            elif isinstance(v, dict):
                self._walk_dict(v)
            elif isinstance(v, list):
                self._walk_list(v)

    def _walk_list(self, items: list[Any]) -> None:
        for i, v in enumerate(items):
            if isinstance(v, str):
                items[i] = self.text(v)
            elif isinstance(v, dict):
                self._walk_dict(v)
            elif isinstance(v, list):
                self._walk_list(v)

    def header(self, conv: dict[str, Any]) -> None:
        """Sanitise a conversation's own fields (title, summary, metadata...), not its messages."""
        if not self._steps:
            return
        msgs = conv.get("messages")
        conv["messages"] = None
        try:
            self._walk_dict(conv)
        finally:
            conv["messages"] = msgs

    def message(self, msg: dict[str, Any]) -> None:
        if self._steps:
            self._walk_dict(msg)

    def table_fields(self, convs: list[dict[str, Any]]) -> None:
        """Sanitise only what the CSV and Parquet tables show (text, tool input, titles)."""
        if not self._steps:
            return
        for c in convs:
            for key in ("title", "summary", "project_name", "project_path"):
                if isinstance(c.get(key), str):
                    c[key] = self.text(c[key])
            c["tags"] = [self.text(t) if isinstance(t, str) else t for t in c.get("tags") or []]
        msgs = [m for c in convs for m in c.get("messages") or ()]
        texts = [m.get("content") for m in msgs]
        for i in self.to_check([t if isinstance(t, str) else "" for t in texts]):
            if isinstance(texts[i], str):
                msgs[i]["content"] = self.text(texts[i])
        for m in msgs:
            if isinstance(m.get("tool_name"), str):
                m["tool_name"] = self.text(m["tool_name"])
            tool_input = m.get("tool_input")
            if isinstance(tool_input, str):
                m["tool_input"] = self.text(tool_input)
            elif isinstance(tool_input, dict):
                self._walk_dict(tool_input)
            elif isinstance(tool_input, list):
                self._walk_list(tool_input)

    def conversations(self, convs: Iterable[dict[str, Any]]) -> None:
        """Sanitise conversation records in place (title, summary, metadata, every message).

        Messages are walked only where a rule could change them: their JSON (orjson, in C)
        is tested for secret candidates all together, as the JSON writers do.
        """
        if not self._steps:
            return
        if self.redact_pii or self.anonymize:
            for conv in convs:
                self._walk_dict(conv)
            return
        msgs: list[dict[str, Any]] = []
        for conv in convs:
            self.header(conv)
            msgs += [m for m in conv.get("messages") or () if isinstance(m, dict)]
        self.messages(msgs, [orjson.dumps(m, default=str, option=orjson.OPT_NON_STR_KEYS)
                             for m in msgs])

    def messages(self, msgs: list[dict[str, Any]], encoded: list[bytes]) -> list[int]:
        """Sanitise in place the messages whose JSON (`encoded`, one per message) a rule
        could change; which ones they were."""
        changed = self.to_check(encoded)
        for i in changed:
            self.message(msgs[i])
        return changed
