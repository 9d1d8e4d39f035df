"""How a command is being stopped: Ctrl-C, or a signal the command ends as Ctrl-C does (SIGTERM, SIGHUP).

DuckDB checks for a pending signal while it runs a query and, whatever the handler raised, raises
`RuntimeError: Query interrupted` instead: which signal it was is lost there. The handler notes it here, so
the code that meets DuckDB's error can raise the stop it stands for, and the command exits with the code a
shell gives that signal (130, 143 or 129).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

_signal: int | None = None


def stopped_by(signum: int) -> SystemExit:
    """Note that signal SIGNUM stops the command; the exception that ends it (exit code 128 + SIGNUM)."""
    global _signal
    _signal = signum
    return SystemExit(128 + signum)


@contextlib.contextmanager
def as_stops() -> Iterator[None]:
    """DuckDB's `Query interrupted` raised inside as the stop it stands for: the noted signal's exit, else
    Ctrl-C's. Any other error passes as it is."""
    try:
        yield
    except RuntimeError as exc:
        if "interrupted" not in str(exc).lower():
            raise
        raise (SystemExit(128 + _signal) if _signal is not None else KeyboardInterrupt()) from None
