"""Settings from the environment, with defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

ENV_URI = "CLAUDELENS_MONGODB_URI"
ENV_HOME = "CLAUDELENS_HOME"
ENV_DB = "CLAUDELENS_DB"
ENV_EXPORT_DIR = "CLAUDELENS_EXPORT_DIR"
ENV_RETENTION = "CLAUDELENS_EXPORT_RETENTION_DAYS"
ENV_AUTO_COMPRESS = "CLAUDELENS_AUTO_COMPRESS_MB"


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a whole number, got {raw!r}") from exc


@dataclass(frozen=True)
class Settings:
    """What the package reads from the environment, resolved once per call."""

    home: Path
    uri: str | None
    db_name: str
    export_dir: Path
    retention_days: int
    auto_compress_bytes: int
    upload_dir: Path = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "upload_dir", self.home / "uploads")


def settings() -> Settings:
    """Current settings (re-read each time so tests and notebooks can change them)."""
    home = Path(os.environ.get(ENV_HOME) or platformdirs.user_data_dir("claudelens-nb"))
    export_dir = Path(os.environ.get(ENV_EXPORT_DIR) or home / "exports")
    return Settings(
        home=home,
        uri=os.environ.get(ENV_URI) or None,
        db_name=os.environ.get(ENV_DB) or "claudelens",
        export_dir=export_dir,
        retention_days=_int_env(ENV_RETENTION, 30),
        auto_compress_bytes=_int_env(ENV_AUTO_COMPRESS, 50) * 1024 * 1024,
    )
