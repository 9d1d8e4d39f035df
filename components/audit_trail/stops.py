"""How a command is being stopped: Ctrl-C, or a signal the command ends as Ctrl-C does (SIGTERM, SIGHUP).

DuckDB checks for a pending signal while it runs a query and, whatever the handler raised, raises
`RuntimeError: Query interrupted` instead: which signal it was is lost there. The handler notes it here, so
the code that meets DuckDB's error can raise the stop it stands for, and the command exits with the code a
shell gives that signal (130, 143 or 129).
"""

from __future__ import annotations

_signal: int | None = None


def stopped_by(signum: int) -> SystemExit:
    """Note that signal SIGNUM stops the command; the exception that ends it (exit code 128 + SIGNUM)."""
    global _signal
    _signal = signum
    return SystemExit(128 + signum)


def interrupted(exc: BaseException) -> bool:
    """Whether EXC is DuckDB's word for a query a signal stopped."""
    return isinstance(exc, RuntimeError) and "interrupted" in str(exc).lower()


def the_stop() -> BaseException:
    """What to raise for a stopped query: the noted signal's exit, else Ctrl-C's."""
    return SystemExit(128 + _signal) if _signal is not None else KeyboardInterrupt()
