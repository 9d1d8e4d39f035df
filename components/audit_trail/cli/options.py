"""Options several commands share, turned into library arguments in one place: the window, the source and
the engine of a question (`Scope`), and the decorator that gives each question's command those options."""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer._click.exceptions import UsageError  # Typer 0.28 carries its own click (pyproject pins it)
from typer.core import TyperArgument, TyperCommand

from ..errors import EXIT_CODE_MEANINGS, UserError
from ..investigate.ask import AthenaTarget, Engine
from ..queries.glue_table import DEFAULT_TABLE
from ..times import ACCEPTED_FORMS, parse_time
from ..window import Window
from .output import FormatOption, LimitOption, OutputFormat, note

if TYPE_CHECKING:
    from ..investigate.sources import LogFile

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
    """A command whose --help names value types as a user reads them, and whose every usage error shows
    its usage lines."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except UsageError as exc:
            # click raises an option given without its value (`--since` last) with no context, and a usage
            # error without one is printed as its `Error:` line alone
            if exc.ctx is None:
                exc.ctx = ctx
            raise

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
    str | None,
    typer.Option(
        "--database",
        help="Athena: Glue database holding the trail table (default: --stack's).",
        show_default=False,
    ),
]
TableOpt = Annotated[
    str | None,
    typer.Option(
        "--table",
        help="Athena: the trail table (default: --stack's, else cloudtrail_logs).",
        show_default=False,
    ),
]
WorkgroupOpt = Annotated[
    str | None,
    typer.Option(
        "--workgroup", help="Athena: workgroup to run the query in (default: --stack's).", show_default=False
    ),
]
NoCacheOpt = Annotated[
    bool,
    typer.Option(
        "--no-cache",
        envvar="AUDIT_TRAIL_NO_CACHE",
        help="Read every log file: neither use nor build the term index that lets a question skip files "
        "earlier ones read (see `audit-trail cache info`).",
    ),
]
StackOpt = Annotated[
    str | None,
    typer.Option(
        "--stack",
        help="Athena: the deployed stack whose athenaDatabase, athenaTable and athenaWorkgroup outputs to "
        "use (read with `pulumi stack output`).",
        show_default=False,
    ),
]


def check_regions(regions: Sequence[str] | None, flag: str = "--region") -> None:
    """Each of FLAG's values is a region: a known one, or one a partition's naming admits (a region newer
    than this release's list); a typo such as `us-east1` is refused with the nearest known name."""
    if not regions:
        return
    from ..regions import all_regions, closest_region, partitions

    for region in regions:
        if region in all_regions():
            continue
        if any(re.fullmatch(p.region_regex.strip("^$"), region) for p in partitions().values()):
            continue
        near = closest_region(region.lower())
        hint = f"did you mean {near}? " if near else ""
        raise UserError(f"{flag} {region!r}: not an AWS region; {hint}e.g. us-east-1, eu-west-1.")


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
    check_regions(regions)
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
class AthenaNames:
    """`--stack`, `--database`, `--table`, `--workgroup` as given."""

    stack: str | None = None
    database: str | None = None
    table: str | None = None
    workgroup: str | None = None


@dataclass(frozen=True)
class Scope:
    """What a question reads: SOURCE and the window, or the Athena table."""

    source: str | None
    window: Window
    engine: Engine = Engine.local
    athena: AthenaNames = field(default_factory=AthenaNames)
    limit: int | None = None
    """--limit: at most this many rows of the answer (None: the format's default, 0: every row)."""
    cache: bool = True
    """Use (and afterwards extend) the term index: not with --no-cache."""

    @functools.cached_property
    def log_files(self) -> list[LogFile] | None:
        """SOURCE's log files in the window, listed once for every step of a command (None for Athena)."""
        if self.engine is not Engine.local or not self.source:
            return None
        from ..investigate.sources import list_log_files

        return list_log_files(self.source, self.window)

    @functools.cached_property
    def target(self) -> AthenaTarget:
        """The Athena table, resolved (reading --stack's outputs) only when a command gets as far as Athena:
        its own checks of the flags come first. A SOURCE is refused with Athena by `ask` itself."""
        if self.engine is not Engine.athena or self.source is not None:
            return AthenaTarget()
        names = self.athena
        return athena_target(names.stack, names.database, names.table, names.workgroup)


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
    _shared("no_cache", NoCacheOpt, False),
    _shared("engine", EngineOpt, Engine.local.value),
    _shared("stack", StackOpt, None),
    _shared("database", DatabaseOpt, None),
    _shared("table", TableOpt, None),
    _shared("workgroup", WorkgroupOpt, None),
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
    stack: str | None,
    database: str | None,
    table: str | None,
    workgroup: str | None,
    limit: int | None = None,
    region: Sequence[str] | None = None,
    no_cache: bool = False,
) -> Scope:
    window = parse_window(since, until, region, account)
    warn_if_unbounded(source, window)
    try:
        chosen = Engine(engine)
    except ValueError:
        raise UserError(
            f"--engine {engine!r}: use `local` (scan SOURCE) or `athena` (the Athena table)."
        ) from None
    if chosen is not Engine.athena:
        given = [
            f for f, v in (("--stack", stack), ("--database", database), ("--workgroup", workgroup)) if v
        ]
        if given or table:
            raise UserError(
                f"{', '.join(given or ['--table'])}: only for --engine athena; drop it, or add "
                "--engine athena."
            )
        return Scope(source, window, chosen, limit=limit, cache=not no_cache)
    return Scope(source, window, chosen, AthenaNames(stack, database, table, workgroup), limit)


def athena_target(
    stack: str | None, database: str | None, table: str | None, workgroup: str | None
) -> AthenaTarget:
    """The Athena table to query: explicit flags first, then STACK's outputs. Every stack has names of its own
    (two stacks in one account cannot share a Glue database or workgroup), so there is no fixed default."""
    outputs: dict[str, object] = {}
    if stack is not None:
        from ..stack_outputs import read_stack_outputs

        outputs = read_stack_outputs(stack, instead="--database, --table and --workgroup")
        if not outputs.get("athenaDatabase"):
            raise UserError(
                f"--stack {stack}: the stack has no athenaDatabase output; deploy it with "
                "`audit-trail:athena: true`, or name the table with --database and --workgroup."
            )
    database = database or str(outputs.get("athenaDatabase") or "") or None
    workgroup = workgroup or str(outputs.get("athenaWorkgroup") or "") or None
    if database is None or workgroup is None:
        raise UserError(
            "--engine athena: name the deployed stack (--stack dev reads its athenaDatabase and "
            "athenaWorkgroup outputs) or give --database and --workgroup."
        )
    return AthenaTarget(database, table or str(outputs.get("athenaTable") or DEFAULT_TABLE), workgroup)


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
