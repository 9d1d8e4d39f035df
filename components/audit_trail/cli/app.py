"""The Typer app, and the one place an error becomes a message and an exit code (`ExitCode`)."""

from __future__ import annotations

import errno
import io
import os
import signal
import sys
import time
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup
from typer.main import get_command_name

from ..aws_errors import is_aws_error
from ..errors import AuditTrailError, ExitCode
from ..stops import STOP_CODES, STOP_SIGNALS, comes_first, stopped_by, stopping
from ..visible_text import visible
from .options import EXIT_CODES_HELP
from .output import show_error

if TYPE_CHECKING:
    from typing_extensions import Buffer


def _quiet_stdout() -> None:
    """After a closed pipe (`... | head`) or a full stdout: send what is left of stdout nowhere, so exiting
    writes nothing."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def stop_cleanly_when_told() -> None:
    """SIGTERM and SIGHUP (`kill`, a closed terminal, a CI timeout) end the command as Ctrl-C does, through
    its `finally` blocks: killed outright it would leave its scratch folders behind, and `report` its copies
    of the period's logs. The exit code stays the one a shell shows for the signal (128 + its number). A
    worker process forked with this handler dies at once, as by default.

    Only the first stop signal stops: Ctrl-C pressed twice, or `kill` right after Ctrl-C, raised a second
    stop inside the first one's cleanup (a scratch folder left behind, the second signal's exit code) or,
    once the interpreter exits, killed the process by the signal. A stop signal while a stop is under way
    is ignored for `AGAIN_IGNORED_SECONDS`; after that it kills the process at once, as it did before: the
    way out of a cleanup that hangs. Ctrl-C gets the same handler unless the caller has its own."""
    global _main_pid, _stop_began
    _main_pid = os.getpid()
    _stop_began = None  # a new command: no stop is under way
    for name in ("SIGTERM", "SIGHUP"):  # Windows has no SIGHUP
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), _stop)
    if signal.getsignal(signal.SIGINT) in (signal.default_int_handler, _stop):
        signal.signal(signal.SIGINT, _stop)


AGAIN_IGNORED_SECONDS = 5.0
"""How long after the first stop signal a further one is ignored: a clean stop takes well under a second,
so a stop signal later than this is someone's way out of one that hangs."""

_main_pid = os.getpid()
"""The process whose handlers `stop_cleanly_when_told` set; a forked worker is another."""

_stop_began: float | None = None
"""When the stop under way began (`time.monotonic()`); None while no stop signal has come."""

_ENDS_WITH_THE_COMMAND = False
"""True in the `audit-trail` process (`run`), which ends when its command does; false for a caller that runs
the app in its own process (a test's runner), whose signal handlers each command gives back."""


@stopping
def _stop(signum: int, frame: object) -> None:
    global _stop_began
    if os.getpid() != _main_pid and signum != signal.SIGINT:
        _die_by(signum)
        return
    if _stop_began is not None or not comes_first(signum):
        if _stop_began is None or time.monotonic() - _stop_began < AGAIN_IGNORED_SECONDS:
            return  # the first one's stop goes on, with its exit code
        _die_by(signum)
        return
    _stop_began = time.monotonic()
    if signum == signal.SIGINT:  # a forked worker too: Ctrl-C in a worker is KeyboardInterrupt, as by default
        raise KeyboardInterrupt
    raise stopped_by(signum)


def _die_by(signum: int) -> None:
    """End the process at once by SIGNUM, as with no handler; the command's worker processes first: they
    wait for their next task on a pipe they hold open themselves, and would wait forever once it is gone."""
    multiprocessing = sys.modules.get("multiprocessing")  # loaded by a scan that started workers
    if multiprocessing is not None and os.getpid() == _main_pid:  # a forked copy knows its parent's workers
        for child in multiprocessing.active_children():
            child.kill()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def _stop_handlers() -> dict[int, Any]:
    return {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}


def _ignore_stops() -> None:
    """Stop signals do nothing from here to the process's end. On its way out the interpreter gives every
    signal that has a Python handler its default action back (death by the signal) before it unloads its
    modules, which takes a while with DuckDB loaded: a second Ctrl-C there killed a command that had stopped
    cleanly. An ignored signal stays ignored."""
    for signum in STOP_SIGNALS:
        signal.signal(signum, signal.SIG_IGN)


class Group(TyperGroup):
    """Runs a command; an error a user can act on ends it with its message and its code, never a traceback."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        # A usage error (an unknown flag, a bad choice) as click writes it: the usage, the help hint and one
        # plain `Error: ...` line, as every other error; not Typer's boxed panel, which a pipe or a log gets
        # as box drawing. Help keeps its panels (`format_help`). Typer is pinned to 0.28 (pyproject).
        from typer.core import _main

        return _main(self, *args, rich_markup_mode=None, **kwargs)

    def invoke(self, ctx: Any) -> Any:
        handlers = _stop_handlers()
        stop_cleanly_when_told()
        try:
            return self._invoke(ctx)
        finally:
            if not _ENDS_WITH_THE_COMMAND:  # the caller's process goes on, with its own handlers
                for signum, handler in handlers.items():
                    if handler is not None:  # None: a handler not set from Python, which it cannot set back
                        signal.signal(signum, handler)

    def _invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except AuditTrailError as exc:
            show_error(*exc.lines)
            raise typer.Exit(exc.exit_code) from None
        except BrokenPipeError:
            _quiet_stdout()
            raise typer.Exit(ExitCode.OK) from None
        except MemoryError:  # a crash would exit 1, which says "findings"
            show_error(
                "out of memory: free some, or raise this process's limit (ulimit -v), or ask for less: a "
                "narrower window (--since/--until, --region) or query, or --limit."
            )
            raise typer.Exit(ExitCode.CANNOT_RUN) from None
        except OSError as exc:
            if _is_full_stdout(exc):
                _say_stdout_full()
                raise typer.Exit(ExitCode.CANNOT_RUN) from None
            if exc.errno == errno.ENOSPC:
                show_error(
                    f"no space left on the disk ({exc.filename or 'scratch space'}): free some, or point "
                    "TMPDIR at a larger disk."
                )
                raise typer.Exit(ExitCode.CANNOT_RUN) from None
            if _no_temporary_folder(exc):
                show_error(
                    f"no folder to keep scratch files in: {exc.strerror}. Set TMPDIR to a folder you can "
                    "write to."
                )
                raise typer.Exit(ExitCode.CANNOT_RUN) from None
            raise
        except ValueError as exc:
            if not str(exc).startswith("Invalid endpoint"):  # botocore's, for a region no host can have
                raise
            show_error(
                f"{visible(str(exc))}: the AWS region is not a region's name. Check AWS_REGION and "
                "AWS_DEFAULT_REGION (or give --region), and AWS_ENDPOINT_URL."
            )
            raise typer.Exit(ExitCode.BAD_INPUT) from None
        except Exception as exc:
            if not is_aws_error(exc):
                raise
            show_error(
                f"AWS request failed: {exc}. Check the credentials (AWS_PROFILE or AWS_ACCESS_KEY_ID), the "
                "region (AWS_REGION or --region) and the network."
            )
            raise typer.Exit(ExitCode.CANNOT_RUN) from None


def _stopped(exc: BaseException) -> bool:
    """Whether EXC ends a command stopped by Ctrl-C, `kill` or a closed terminal (exit 130, 143, 129)."""
    code = exc.code if isinstance(exc, SystemExit) else None
    return isinstance(exc, KeyboardInterrupt) or code in STOP_CODES


def _is_full_stdout(exc: OSError) -> bool:
    return exc.errno == errno.ENOSPC and exc.filename == STDOUT_NAME


def _no_temporary_folder(exc: OSError) -> bool:
    """`tempfile` found no writable folder among TMPDIR, /tmp, /var/tmp, /usr/tmp and the working folder
    (its error has no file name, and every command keeps scratch files)."""
    return isinstance(exc, FileNotFoundError) and not exc.filename and "temporary directory" in str(exc)


def _say_stdout_full() -> None:
    show_error(
        "no space left on the disk standard output is redirected to: free some there, or send the answer "
        "elsewhere."
    )
    _quiet_stdout()  # what stdout still holds would fail again on the way out


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version  # slow to import: only for --version

        try:
            typer.echo(f"audit-trail {version('audit-trail')}")
        except PackageNotFoundError:  # running from a source tree that was never installed
            typer.echo("audit-trail (not installed)")
        raise typer.Exit(ExitCode.OK)


app = typer.Typer(
    name="audit-trail",
    cls=Group,
    help="Preview, investigate and verify an AWS account's CloudTrail audit trail.",
    epilog=EXIT_CODES_HELP,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _root(
    show_version: Annotated[
        bool,
        typer.Option("--version", is_eager=True, callback=_version, help="Print the version and exit."),
    ] = False,
) -> None:
    """Preview, investigate and verify an AWS account's CloudTrail audit trail."""
    # The AWS SDKs take the region from AWS_REGION before AWS_DEFAULT_REGION; boto3 reads only the latter
    # (https://docs.aws.amazon.com/sdkref/latest/guide/feature-region.html).
    if os.environ.get("AWS_REGION"):
        os.environ["AWS_DEFAULT_REGION"] = os.environ["AWS_REGION"]


def _register() -> None:
    from . import cache, hunt, integrity, investigate, plan, report

    for module in (plan, integrity, hunt, investigate, report, cache):
        module.register(app)


_register()


def _only_the_command_run(argv: list[str]) -> None:
    """Keep only the command ARGV names, when it names one: Typer builds every registered command's options
    from its signature at each start, and one command is all a run needs. Anything else (no command, an
    option first, a name that is no command) keeps them all, for the help and the "no such command" hint."""
    name = argv[0] if argv else ""
    commands = [
        c
        for c in app.registered_commands
        if (c.name or (c.callback and get_command_name(c.callback.__name__))) == name
    ]
    groups = [g for g in app.registered_groups if g.name == name]
    if commands or groups:
        app.registered_commands[:] = commands
        app.registered_groups[:] = groups


STDOUT_NAME = "standard output"
"""The file name of an error writing stdout: a full stdout (`> /dev/full`, a full disk) is not told to move
the scratch space."""


class _NamedStdout(io.FileIO):
    """File descriptor 1, whose write errors name it: a failed write to stdout and one to a scratch file
    raise the same OSError, and only the name tells the user which disk to free."""

    def write(self, data: Buffer, /) -> int:
        try:
            return super().write(data)
        except OSError as exc:
            raise OSError(exc.errno, exc.strerror, STDOUT_NAME) from None


def _named_stdout(stream: Any) -> Any:
    """STREAM (sys.stdout) over a `_NamedStdout`, with its encoding and buffering; as it is when it is not
    a plain file's descriptor 1 (a test's capture; a Windows console, which writes through its own raw
    class)."""
    try:
        buffered = not isinstance(stream.buffer, io.RawIOBase)  # raw under PYTHONUNBUFFERED
        if stream.fileno() != 1 or type(stream.buffer.raw if buffered else stream.buffer) is not io.FileIO:
            return stream
    except (AttributeError, OSError, ValueError):
        return stream
    stream.flush()
    raw = _NamedStdout(1, "w", closefd=False)
    return io.TextIOWrapper(
        io.BufferedWriter(raw) if buffered else raw,
        encoding=stream.encoding,
        errors=stream.errors,  # `_usable_streams` sets how both streams write what they cannot encode
        line_buffering=stream.line_buffering,
        write_through=stream.write_through,
    )


def _usable_streams() -> None:
    """stdout and stderr as every command can write them.

    A stream the shell closed (`2>&-`, `>&-`) is the null device: a line nobody reads must not end the
    command with another exit code. A character the stream's encoding lacks is written as a backslash
    escape, not a crash: the text shown is attacker-written (a user agent in another script), and stdout may
    be ASCII (`PYTHONIOENCODING`, an old locale, a Windows console). JSON is written as UTF-8 whatever the
    stream says (`output.json_list`)."""
    if sys.stdout is None:
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - for the whole run
    else:
        sys.stdout = _named_stdout(sys.stdout)
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - for the whole run
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")


def run() -> None:
    try:
        _run()
    except SystemExit as exc:
        code = exc.code
    else:
        code = None
    # Raised again out here, alone: the exception that ended the command kept its traceback's frames alive
    # while the interpreter exited, a DuckDB connection's objects among them, and DuckDB's binding printed
    # "leaked instance" lines for them (often after a stop, whose exception comes from deep in a query).
    sys.exit(code)


def _run() -> None:
    global _ENDS_WITH_THE_COMMAND
    _ENDS_WITH_THE_COMMAND = True
    stop_cleanly_when_told()  # from here: a stop while the arguments are read is one stop too
    _usable_streams()
    _only_the_command_run(sys.argv[1:])
    stopped = False
    try:
        try:
            app()
        except BaseException as exc:
            stopped = _stopped(exc)
            if stopped:  # what stdout holds goes nowhere: a reader that stopped reading held the exit
                _quiet_stdout()
            raise
        finally:
            sys.stdout.flush()  # here, not on the way out, where a failure is only a warning and exit 120
    except BrokenPipeError:  # a pipe closed while stdout was flushed
        _quiet_stdout()
        sys.exit(ExitCode.OK)
    except OSError as exc:
        if not _is_full_stdout(exc):
            raise
        _say_stdout_full()
        sys.exit(ExitCode.CANNOT_RUN)
    finally:
        if stopped or _stop_began is not None:
            _ignore_stops()
