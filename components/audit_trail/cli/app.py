"""The Typer app, and the one place an error becomes a message and an exit code (`ExitCode`)."""

from __future__ import annotations

import errno
import os
import sys
from typing import Annotated, Any

import typer
from typer.core import TyperGroup
from typer.main import get_command_name

from ..aws_errors import is_aws_error
from ..errors import AuditTrailError, ExitCode
from .options import EXIT_CODES_HELP
from .output import show_error


def _quiet_stdout() -> None:
    """After a closed pipe (`... | head`): send what is left of stdout nowhere, so exiting writes nothing."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


class Group(TyperGroup):
    """Runs a command; an error a user can act on ends it with its message and its code, never a traceback."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except AuditTrailError as exc:
            show_error(str(exc))
            raise typer.Exit(exc.exit_code) from None
        except BrokenPipeError:
            _quiet_stdout()
            raise typer.Exit(ExitCode.OK) from None
        except OSError as exc:
            if exc.errno == errno.ENOSPC:
                show_error(
                    f"no space left on the disk ({exc.filename or 'scratch space'}): free some, or point "
                    "TMPDIR at a larger disk."
                )
                raise typer.Exit(ExitCode.CANNOT_RUN) from None
            raise
        except Exception as exc:
            if not is_aws_error(exc):
                raise
            show_error(
                f"AWS request failed: {exc}. Check the credentials (AWS_PROFILE or AWS_ACCESS_KEY_ID), the "
                "region (AWS_REGION or --region) and the network."
            )
            raise typer.Exit(ExitCode.CANNOT_RUN) from None


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


def _usable_streams() -> None:
    """stdout and stderr as every command can write them.

    A stream the shell closed (`2>&-`, `>&-`) is the null device: a line nobody reads must not end the
    command with another exit code. A character the stream's encoding lacks is written as a backslash
    escape, not a crash: the text shown is attacker-written (a user agent in another script), and stdout may
    be ASCII (`PYTHONIOENCODING`, an old locale, a Windows console). JSON is written as UTF-8 whatever the
    stream says (`output.json_list`)."""
    if sys.stdout is None:
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - for the whole run
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - for the whole run
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")


def run() -> None:
    _usable_streams()
    _only_the_command_run(sys.argv[1:])
    try:
        app()
    except BrokenPipeError:  # a pipe closed while Python flushed stdout on the way out
        _quiet_stdout()
        sys.exit(ExitCode.OK)
