"""Running work off the kernel's main thread, and turning any failure into a message.

Widget traits can be set from these threads: ipykernel sends the comm messages through
its IOPub thread, and the main thread stays free to receive clicks (Cancel) meanwhile.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable
from typing import Any

from ..errors import Cancelled, ClaudeLensError
from ..progress import CancelToken

log = logging.getLogger("claudelens_nb.ui")
if not log.handlers:
    # The kernel's real stderr (the server log), never the page.
    _handler = logging.StreamHandler(sys.__stderr__)
    _handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    log.addHandler(_handler)
    log.propagate = False


def request_cancel(token: CancelToken | None, button: Any, banner: Any) -> None:
    """Ask the running job (if any) to stop; its button stays off until the job ends."""
    if token is not None:
        token.cancel()
        button.disabled = True
        banner.warning("Cancelling…")


def describe_error(exc: BaseException) -> str:
    """What the user reads for a failure: our message, or a short unexpected-error line."""
    if isinstance(exc, ClaudeLensError):
        return str(exc)
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"Unexpected error ({type(exc).__name__}){': ' + text if text else ''}"


def run_in_thread(
    work: Callable[[], Any],
    *,
    on_done: Callable[[Any], None] | None = None,
    on_error: Callable[[BaseException], None] | None = None,
    on_finally: Callable[[], None] | None = None,
    name: str = "claudelens-job",
) -> threading.Thread:
    """Start `work` in a daemon thread; route its result or exception to the callbacks."""

    def target() -> None:
        try:
            result = work()
        except BaseException as exc:  # noqa: BLE001 - every failure becomes a message
            if not isinstance(exc, (ClaudeLensError, Cancelled)):
                log.exception("background job %s failed", name)
            _call(on_error, exc)
        else:
            _call(on_done, result)
        finally:
            _call(on_finally)

    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    return thread


def _call(fn: Callable[..., None] | None, *args: Any) -> None:
    if fn is None:
        return
    try:
        fn(*args)
    except Exception:  # a broken callback must not kill the thread silently
        log.exception("callback %r failed", fn)


class Debouncer:
    """Run the latest request `delay` seconds after the last call, in a worker thread.

    Each run gets a generation number; `is_current(gen)` lets the worker drop results
    that a newer request has made stale.
    """

    def __init__(self, delay: float = 0.3) -> None:
        self.delay = delay
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()
        self._generation = 0

    def __call__(self, fn: Callable[[int], None]) -> None:
        with self._lock:
            self._generation += 1
            gen = self._generation
            if self._timer is not None:
                self._timer.cancel()
            self._timer = threading.Timer(self.delay, self._run, args=(fn, gen))
            self._timer.daemon = True
            self._timer.start()

    def _run(self, fn: Callable[[int], None], gen: int) -> None:
        if not self.is_current(gen):
            return
        try:
            fn(gen)
        except Exception:
            log.exception("debounced call failed")

    def is_current(self, gen: int) -> bool:
        return gen == self._generation


def guarded(report: Callable[[str], None]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate a widget event handler so any exception is shown with `report`, not raised."""

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        def handler(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except Exception as exc:
                if not isinstance(exc, ClaudeLensError):
                    log.exception("handler %s failed", getattr(fn, "__name__", fn))
                report(describe_error(exc))
                return None

        handler.__name__ = getattr(fn, "__name__", "handler")
        return handler

    return wrap
