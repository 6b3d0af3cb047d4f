"""A drop zone for the Import tab (anywidget): drag a file onto it, or click to pick one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import anywidget
import traitlets


class DropZone(anywidget.AnyWidget):
    """Calls `on_file(name, content)` for a dropped or picked file, `on_error(message)` when
    the browser could not send one (several files, an unreadable file)."""

    _esm = Path(__file__).with_name("dropzone.js")
    accept = traitlets.Unicode("").tag(sync=True)
    chosen = traitlets.Unicode("").tag(sync=True)  # the file in use, shown beside the button
    max_bytes = traitlets.Int(0).tag(sync=True)  # larger files are refused in the browser

    def __init__(self, on_file: Callable[[str, bytes], None], on_error: Callable[[str], None],
                 accept: str = "", max_bytes: int = 0, **kwargs: Any) -> None:
        super().__init__(accept=accept, max_bytes=max_bytes, **kwargs)
        self._on_file, self._on_error = on_file, on_error
        self.on_msg(self._received)

    def _received(self, _widget: Any, content: dict[str, Any], buffers: list[Any]) -> None:
        if content.get("kind") == "file" and buffers:
            self._on_file(str(content.get("name") or "dropped file"), bytes(buffers[0]))
        elif content.get("kind") == "error":
            self._on_error(str(content.get("message")))
