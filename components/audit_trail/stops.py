"""How a command is being stopped: Ctrl-C, or a signal the command ends as Ctrl-C does (SIGTERM, SIGHUP).

DuckDB checks for a pending signal while it runs a query and, whatever the handler raised, raises
`RuntimeError: Query interrupted` instead: which signal it was is lost there. The handler notes it here, so
the code that meets DuckDB's error can raise the stop it stands for, and the command exits with the code a
shell gives that signal (130, 143 or 129).
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from typing import Any

_signal: int | None = None
_STOPS = frozenset(
    int(getattr(signal, name)) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


def stopped_by(signum: int) -> SystemExit:
    """Note that signal SIGNUM stops the command; the exception that ends it (exit code 128 + SIGNUM)."""
    global _signal
    _signal = signum
    return SystemExit(128 + signum)


class as_stops:
    """DuckDB's `Query interrupted` raised inside as the stop it stands for: the noted signal's exit, else
    Ctrl-C's. Any other error passes as it is.

    QUERY: a DuckDB connection whose query runs inside, to be interrupted as soon as a stop signal comes.
    Python runs a signal's handler only between two steps of Python code, and a long aggregate keeps DuckDB
    from returning to it (Ctrl-C and `kill` went unanswered for as long as the query ran, minutes for a large
    one); but the signal's number is written at once to the wakeup file descriptor, where a thread waits to
    interrupt the query (`interrupt()` is DuckDB's way to stop a connection's query from another thread).

    A class, not a generator: the signal's own handler runs as soon as DuckDB returns, and in a generator's
    `contextlib` wrapper it ran before the generator could let go of the wakeup descriptor."""

    def __init__(self, query: Any = None) -> None:
        self._watch = _Interrupter(query) if query is not None else None

    def __enter__(self) -> None:
        if self._watch is not None:
            self._watch.start()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        signum = None
        if self._watch is not None:
            self._watch.stop()
            signum = self._watch.signum
        if not isinstance(exc, Exception):
            return
        if signum is None and not (isinstance(exc, RuntimeError) and "interrupted" in str(exc).lower()):
            return
        raise _stop(signum if signum is not None else _signal) from None


def _stop(signum: int | None) -> BaseException:
    if signum is None or signum == signal.SIGINT:
        return KeyboardInterrupt()
    return stopped_by(signum)


class _Interrupter:
    """Interrupts QUERY when a stop signal's number reaches the wakeup file descriptor (main thread only)."""

    def __init__(self, query: Any) -> None:
        self.query = query
        self.signum: int | None = None
        self._pipe: tuple[int, int] | None = None
        self._previous = -1
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        read, write = os.pipe()
        os.set_blocking(write, False)  # as the wakeup descriptor must be
        try:
            self._previous = signal.set_wakeup_fd(write, warn_on_full_buffer=False)
        except ValueError:  # not the main thread, which alone runs signal handlers: nothing to watch
            os.close(read)
            os.close(write)
            return
        self._pipe = (read, write)
        self._thread = threading.Thread(target=self._watch, args=(read,), name="stop-watch", daemon=True)
        self._thread.start()

    def _watch(self, read: int) -> None:
        while data := os.read(read, 64):  # empty once `stop` closes the other end
            signum = next((n for n in data if n in _STOPS), None)
            if signum is not None:
                self.signum = signum
                with contextlib.suppress(Exception):  # the query may have just ended
                    self.query.interrupt()
                return

    def stop(self) -> None:
        """Give the wakeup descriptor back; if the signal's handler ended the command first, the descriptor
        stays on this pipe, harmless: a byte written there is read by no one."""
        if self._pipe is None:
            return
        read, write = self._pipe
        self._pipe = None
        current = signal.set_wakeup_fd(self._previous)
        if current != write:  # a watch begun inside, whose end the handler cut short: its descriptor stays
            signal.set_wakeup_fd(current)
        os.close(write)
        if self._thread is not None:
            self._thread.join()
        os.close(read)
