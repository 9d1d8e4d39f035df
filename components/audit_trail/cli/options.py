"""Options several commands share, turned into library arguments in one place: the window, the source and
the engine of a question (`Scope`), and the decorator that gives each question's command those options."""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any

import typer
from typer.core import TyperArgument, TyperCommand

from ..errors import EXIT_CODE_MEANINGS, UserError
from ..investigate.ask import AthenaTarget, Engine
from ..queries.glue_table import DEFAULT_DATABASE, DEFAULT_TABLE, DEFAULT_WORKGROUP
from ..times import ACCEPTED_FORMS, parse_time
from ..window import Window
from .output import FormatOption, LimitOption, OutputFormat, note

EXIT_CODES_HELP = "Exit codes, the same for every command: " + "; ".join(
    f"{code.value} {meaning.split(':')[0]}" for code, meaning in EXIT_CODE_MEANINGS.items()
)
INVESTIGATE_PANEL = "Investigate"


def _shown_type(option: Any, ctx: Any) -> str | None:
    """What --help shows after an option: nothing for a flag (it takes no value), `<str>` for a repeatable
    text option (not Python's `<list[str]>`), `<int>` for a bounded number (the bound is printed beside
    it)."""
    if getattr(option, "is_flag", False):
        return None
    shown = type(option).display_type_rich(option, ctx)
    if shown is None:
        return None
    return re.sub(r"<(\w+) range>", r"<\1>", re.sub(r"<list\[(.+)\]>", r"<\1>", shown))


class Command(TyperCommand):
    """A command whose --help names value types as a user reads them."""

    def get_params(self, ctx: Any) -> list[Any]:
        params = super().get_params(ctx)
        for param in params:
            if hasattr(param, "display_type_rich") and not isinstance(param, TyperArgument):
                param.display_type_rich = functools.partial(_shown_type, param)
        return params


def command(app: typer.Typer, name: str | None = None, *, panel: str | None = None) -> Callable[[Any], Any]:
    """`app.command`, so that every command's --help ends with the exit-code table."""
    return app.command(name, cls=Command, epilog=EXIT_CODES_HELP, rich_help_panel=panel)


SourceArg = Annotated[
    str | None,
    typer.Argument(
        metavar="SOURCE",
        help="A folder of CloudTrail logs (as fetched, or any export), one log file (.json.gz, .json, "
        ".jsonl, lookup-events output) or an s3:// prefix (e.g. s3://my-trail-bucket/AWSLogs/). Not used "
        "with --engine athena.",
        show_default=False,
    ),
]
SinceOpt = Annotated[str | None, typer.Option("--since", help=f"Start of the window: {ACCEPTED_FORMS}.")]
QuestionSinceOpt = Annotated[
    str | None,
    typer.Option(
        "--since",
        help=f"Start of the window: {ACCEPTED_FORMS}. Default: the whole source (every day it holds).",
    ),
]
UntilOpt = Annotated[
    str | None, typer.Option("--until", help="End of the window (exclusive); same forms as --since.")
]
RegionOpt = Annotated[
    list[str] | None,
    typer.Option("--region", help="Only this region (repeatable); only its folders are read."),
]
AccountOpt = Annotated[list[str] | None, typer.Option("--account", help="Only this account id (repeatable).")]
EngineOpt = Annotated[
    str,
    typer.Option(
        "--engine",
        metavar="local|athena",
        help="local: scan SOURCE with DuckDB. athena: query the Athena table (option `athena`).",
    ),
]
DatabaseOpt = Annotated[
    str, typer.Option("--database", help="Athena: Glue database holding the trail table.")
]
TableOpt = Annotated[str, typer.Option("--table", help="Athena: the trail table.")]
WorkgroupOpt = Annotated[str, typer.Option("--workgroup", help="Athena: workgroup to run the query in.")]


def check_accounts(accounts: Sequence[str] | None) -> None:
    for account in accounts or ():
        if not (len(account) == 12 and account.isdigit()):
            raise UserError(f"--account {account!r}: an AWS account id is 12 digits, e.g. 123456789012.")


def parse_window(
    since: str | None,
    until: str | None,
    regions: Sequence[str] | None = None,
    accounts: Sequence[str] | None = None,
) -> Window:
    """The window of `--since`, `--until`, `--region` and `--account`, checked."""
    start = parse_time(since, "--since") if since is not None else None
    end = parse_time(until, "--until") if until is not None else None
    if start and end and start >= end:
        raise UserError(
            f"--since {since} is not before --until {until}: give a window that starts before it ends."
        )
    check_accounts(accounts)
    return Window(
        start, end, frozenset(regions) if regions else None, frozenset(accounts) if accounts else None
    )


def warn_if_unbounded(source: str | None, window: Window) -> None:
    """Reading a whole bucket costs requests and time: say so, once, before doing it."""
    if source and source.startswith("s3://") and window.since is None:
        note(
            f"No --since: every day folder under {source} will be listed and read. Narrow it with --since "
            "(e.g. --since 7d) to read less.",
            style="yellow",
        )


@dataclass(frozen=True)
class Scope:
    """What a question reads: SOURCE and the window, or the Athena table."""

    source: str | None
    window: Window
    engine: Engine = Engine.local
    target: AthenaTarget = field(default_factory=AthenaTarget)
    limit: int | None = None
    """--limit: at most this many rows of the answer (None: every row; 0 is no limit too)."""


def _shared(name: str, annotation: Any, default: Any) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)


# What every question's command takes, in the order `--help` lists them: SOURCE and the window after the
# command's own arguments, the output format and the engine's options after its own options.
SCOPE_PARAMETERS = (
    _shared("source", SourceArg, None),
    _shared("since", QuestionSinceOpt, None),
    _shared("until", UntilOpt, None),
    _shared("region", RegionOpt, None),
    _shared("account", AccountOpt, None),
)
OUTPUT_PARAMETERS = (
    _shared("fmt", FormatOption, OutputFormat.table),
    _shared("limit", LimitOption, None),
    _shared("engine", EngineOpt, Engine.local.value),
    _shared("database", DatabaseOpt, DEFAULT_DATABASE),
    _shared("table", TableOpt, DEFAULT_TABLE),
    _shared("workgroup", WorkgroupOpt, DEFAULT_WORKGROUP),
)


def _is_argument(parameter: inspect.Parameter) -> bool:
    metadata = getattr(parameter.annotation, "__metadata__", ())
    return any(isinstance(m, typer.models.ArgumentInfo) for m in metadata)


def _scope(
    *,
    source: str | None,
    since: str | None,
    until: str | None,
    account: Sequence[str] | None,
    engine: str,
    database: str,
    table: str,
    workgroup: str,
    limit: int | None = None,
    region: Sequence[str] | None = None,
) -> Scope:
    window = parse_window(since, until, region, account)
    warn_if_unbounded(source, window)
    try:
        chosen = Engine(engine)
    except ValueError:
        raise UserError(
            f"--engine {engine!r}: use `local` (scan SOURCE) or `athena` (the Athena table)."
        ) from None
    return Scope(source, window, chosen, AthenaTarget(database, table, workgroup), limit or None)


def question_command(*, region: bool = True) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Gives a question's command the shared parameters above (without --region if REGION is false) and
    calls it with its own, plus `scope` (a `Scope`) and `fmt`."""
    scope_parameters = [p for p in SCOPE_PARAMETERS if region or p.name != "region"]

    def decorate(command: Callable[..., None]) -> Callable[..., None]:
        own = [
            p.replace(kind=inspect.Parameter.KEYWORD_ONLY)
            for p in inspect.signature(command).parameters.values()
            if p.name not in ("scope", "fmt")
        ]
        parameters = [
            *(p for p in own if _is_argument(p)),
            *scope_parameters,
            *(p for p in own if not _is_argument(p)),
            *OUTPUT_PARAMETERS,
        ]

        @functools.wraps(command)
        def run(**given: Any) -> None:
            shared = {p.name: given.pop(p.name) for p in (*scope_parameters, *OUTPUT_PARAMETERS)}
            fmt = shared.pop("fmt")
            command(**given, scope=_scope(**shared), fmt=fmt)

        # Typer reads the command's parameters from its signature.
        run.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
        run.__annotations__ = {p.name: p.annotation for p in parameters}
        return run

    return decorate
