"""How a command is being stopped: Ctrl-C, or a signal the command ends as Ctrl-C does (SIGTERM, SIGHUP).

DuckDB checks for a pending signal while it runs a query and, whatever the handler raised, raises
`RuntimeError: Query interrupted` instead: which signal it was is lost there. The handler notes it here, so
the code that meets DuckDB's error can raise the stop it stands for, and the command exits with the code a
shell gives that signal (130, 143 or 129). While a DuckDB query runs, a thread interrupts it as soon as such
a signal comes (`as_stops`): Python's handler alone would wait for the query's end.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import weakref
from collections.abc import Callable
from types import FrameType
from typing import Any, TypeVar

_signal: int | None = None
Handler = TypeVar("Handler", bound=Callable[[int, FrameType | None], Any])
STOP_SIGNALS = frozenset(
    int(getattr(signal, name)) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)
"""The signals that stop the command: Ctrl-C, and those it ends as Ctrl-C does."""
STOP_CODES = frozenset(128 + signum for signum in STOP_SIGNALS)
"""The exit codes of a command stopped by one of these signals."""


def stopped_by(signum: int) -> SystemExit:
    """Note that signal SIGNUM stops the command; the exception that ends it (exit code 128 + SIGNUM)."""
    global _signal
    _signal = signum
    return SystemExit(128 + signum)


class as_stops:
    """DuckDB's `Query interrupted` raised inside as the stop it stands for: the noted signal's exit, else
    Ctrl-C's. Any other error passes as it is.

    QUERY: a DuckDB connection whose query runs inside, to be interrupted as soon as a signal comes that
    stops the command (Ctrl-C with Python's own handler, or a signal whose handler is a `stopping` one).
    Python runs a signal's handler only between two steps of Python code, and a long aggregate keeps DuckDB
    from returning to it (Ctrl-C and `kill` went unanswered for as long as the query ran, minutes for a large
    one); but the signal's number is written at once to the wakeup file descriptor, where a thread waits to
    interrupt the query (`interrupt()` is DuckDB's way to stop a connection's query from another thread).
    A signal whose handler does not stop (a caller's own) leaves the query running."""

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


_STOPPING: weakref.WeakSet[Any] = weakref.WeakSet()


def stopping(handler: Handler) -> Handler:
    """Mark HANDLER as a signal handler that ends the command (it raises), as Python's Ctrl-C handler does:
    a DuckDB query running under `as_stops` is interrupted at once for its signal."""
    _STOPPING.add(handler)
    return handler


def _stops_the_command(handler: Any) -> bool:
    return handler is signal.default_int_handler or handler in _STOPPING or isinstance(handler, _Ending)


def _stop(signum: int | None) -> BaseException:
    if signum is None or signum == signal.SIGINT:
        return KeyboardInterrupt()
    return stopped_by(signum)


class _Interrupter:
    """Interrupts QUERY when a stopping signal's number reaches the wakeup file descriptor (main thread
    only). While it watches, each such signal's handler is wrapped to end the watch before it runs: the
    handler runs as soon as DuckDB returns, often before `as_stops` could end it (it ran at the first line of
    `__exit__`), which left the pipe open and the caller's wakeup descriptor replaced (an asyncio loop's,
    say)."""

    def __init__(self, query: Any) -> None:
        self.query = query
        self.signum: int | None = None
        self._pipe: tuple[int, int] | None = None
        self._previous = -1
        self.handlers: dict[int, Any] = {}
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # only the main thread runs signal handlers and sets the wakeup descriptor
        handlers = {n: signal.getsignal(n) for n in STOP_SIGNALS}
        handlers = {n: h for n, h in handlers.items() if _stops_the_command(h)}
        if not handlers:
            return
        read, write = os.pipe()
        os.set_blocking(write, False)  # as the wakeup descriptor must be
        self._previous = signal.set_wakeup_fd(write, warn_on_full_buffer=False)
        self._pipe = (read, write)
        self.handlers = handlers
        for signum, handler in handlers.items():
            signal.signal(signum, _Ending(self, handler))
        self._thread = threading.Thread(
            target=self._watch, args=(read, frozenset(handlers)), name="stop-watch", daemon=True
        )
        self._thread.start()

    def _watch(self, read: int, signals: frozenset[int]) -> None:
        while data := os.read(read, 64):  # empty once `stop` closes the other end
            signum = next((n for n in data if n in signals), None)
            if signum is not None:
                self.signum = signum
                with contextlib.suppress(Exception):  # the query may have just ended
                    self.query.interrupt()
                return

    def stop(self) -> None:
        """Give back the handlers and the wakeup descriptor, and end the thread (once)."""
        if self._pipe is None:
            return
        read, write = self._pipe
        self._pipe = None
        for signum, handler in self.handlers.items():
            signal.signal(signum, handler)
        current = signal.set_wakeup_fd(self._previous)
        if current != write:  # a watch begun inside that has not ended: its descriptor stays
            signal.set_wakeup_fd(current)
        os.close(write)
        if self._thread is not None:
            self._thread.join()
        os.close(read)


_ending: int | None = None
"""While a stopping signal's handler ends a watch (`_Ending`): the signal the stop is for once the watch has
ended, 0 until then."""


def comes_first(signum: int) -> bool:
    """Whether the handler of SIGNUM, running now, may begin the stop: not while another stopping signal's
    handler is ending a query's watch before it begins the stop itself. Python runs a handler between any
    two steps of Python code, a running handler's too: a stop signal that came meanwhile had its handler run
    inside the first one's, which began the stop with the later signal's exit code."""
    return _ending is None or _ending == signum


class _Ending:
    """A stopping signal's HANDLER, run once WATCH has ended; or the handler of the stopping signal that came
    first, when the watch saw another come before this one. Python runs the handlers of the signals that
    are pending by their numbers, not in the order they came, and a query keeps them pending for a while
    after DuckDB is interrupted: `kill` followed by Ctrl-C a few milliseconds later ran Ctrl-C's handler
    first, and the command ended with Ctrl-C's code. The wakeup descriptor gets the signals in order."""

    def __init__(self, watch: _Interrupter, handler: Any) -> None:
        self.watch = watch
        self.handler = handler

    def __call__(self, signum: int, frame: FrameType | None) -> Any:
        global _ending
        if _ending is not None:  # came while another signal's handler ends the watch
            return self.handler(signum, frame)
        _ending = 0
        try:
            self.watch.stop()
            first = self.watch.signum
            handler = self.handler
            if first is not None and first != signum and first in self.watch.handlers:
                signum, handler = first, self.watch.handlers[first]
            _ending = signum
            return handler(signum, frame)
        finally:
            _ending = None
