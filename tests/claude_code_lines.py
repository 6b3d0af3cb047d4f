"""Claude Code transcript lines written by hand for tests: compact JSON, as Claude Code writes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def usage(i: int, o: int, cw: int = 0, cr: int = 0, w1h: int | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"input_tokens": i, "output_tokens": o,
                           "cache_creation_input_tokens": cw, "cache_read_input_tokens": cr}
    if w1h is not None:
        out["cache_creation"] = {"ephemeral_5m_input_tokens": cw - w1h, "ephemeral_1h_input_tokens": w1h}
    return out


def assistant(uid: str, sid: str, ts: str, use: dict[str, Any] | None, *, mid: str | None = None,
              rid: str | None = None, model: str = "claude-sonnet-4-5-20250929",
              sidechain: bool = False, text: str = "ok") -> dict[str, Any]:
    message: dict[str, Any] = {"id": mid or f"msg_{uid}", "type": "message", "role": "assistant",
                               "model": model, "content": [{"type": "text", "text": text}]}
    if use is not None:
        message["usage"] = use
    return {"parentUuid": None, "isSidechain": sidechain, "userType": "external", "cwd": "/home/u/app",
            "sessionId": sid, "version": "1.0.30", "type": "assistant", "uuid": uid,
            "timestamp": ts, "requestId": rid or f"req_{uid}", "message": message}


def user(uid: str, sid: str, ts: str, text: str = "hello") -> dict[str, Any]:
    return {"parentUuid": None, "isSidechain": False, "userType": "external", "cwd": "/home/u/app",
            "sessionId": sid, "version": "1.0.30", "type": "user", "uuid": uid, "timestamp": ts,
            "message": {"role": "user", "content": text}}


def streamed(sid: str, start_minute: int = 0) -> list[dict[str, Any]]:
    """One session in which two API responses are each written as several lines whose
    output counts grow (1, 40, 273 and 5, 120), as Claude Code 1.0.x streams them."""
    t = [f"2025-07-01T10:{start_minute + m:02d}:{s:02d}.000Z" for m in range(3) for s in range(0, 60, 10)]
    return [
        user(f"{sid}-u1", sid, t[0]),
        assistant(f"{sid}-a1", sid, t[1], usage(4, 1, 1200, 0), mid=f"msg_{sid}_1", rid=f"req_{sid}_1"),
        assistant(f"{sid}-a2", sid, t[2], usage(4, 40, 1200, 0), mid=f"msg_{sid}_1", rid=f"req_{sid}_1"),
        assistant(f"{sid}-a3", sid, t[3], usage(4, 273, 1200, 0), mid=f"msg_{sid}_1", rid=f"req_{sid}_1"),
        user(f"{sid}-u2", sid, t[4], "and then?"),
        assistant(f"{sid}-b1", sid, t[5], usage(6, 5, 0, 1200, ), mid=f"msg_{sid}_2", rid=f"req_{sid}_2"),
        assistant(f"{sid}-b2", sid, t[6], usage(6, 120, 0, 1200), mid=f"msg_{sid}_2", rid=f"req_{sid}_2"),
        assistant(f"{sid}-c1", sid, t[7], usage(10, 30, 500, 1200, w1h=300),
                  model="claude-opus-4-1-20250805"),
    ]


def write(path: Path, lines: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for obj in lines:
            fh.write(json.dumps(obj, separators=(",", ":"), ensure_ascii=False) + "\n")
    return path
