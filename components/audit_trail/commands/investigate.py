"""Investigation commands: `fetch`, `query` and the canned questions (who-changed, activity, root-usage,
failed-logins, denied, unusual-regions, deletions), each a few lines over `audit_trail.investigate`.

Rows go to stdout in the chosen format; what the scan read and skipped goes to stderr after them. DuckDB
and boto3 load only when a command runs, so `audit-trail --help` stays fast.
"""

import functools
import inspect
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import UserError
from ..investigate.athena import DEFAULT_DATABASE, DEFAULT_TABLE, DEFAULT_WORKGROUP
from ..output import FormatOption, OutputFormat, render, stderr
from ..stack_outputs import read_stack_outputs

PANEL = "Investigate"

SourceArg = Annotated[
    str | None,
    typer.Argument(
        help="A folder of CloudTrail logs (as fetched, or any export) or an s3:// prefix "
        "(e.g. s3://my-trail-bucket/AWSLogs/). Not used with --engine athena.",
        show_default=False,
    ),
]
SinceOpt = Annotated[
    str | None,
    typer.Option(
        "--since", help="Start of the window: ISO 8601 (2026-03-02T09:00Z) or a duration ago (90m, 24h, 7d)."
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
        "--engine", help="local: scan SOURCE with DuckDB. athena: query the Athena table (option `athena`)."
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


def _window(
    since: str | None, until: str | None, regions: Sequence[str] | None, accounts: Sequence[str] | None
) -> Any:
    from ..investigate.filters import parse_time
    from ..investigate.sources import Window

    start = parse_time(since, "--since") if since else None
    end = parse_time(until, "--until") if until else None
    if start and end and start >= end:
        raise UserError(
            f"--since {since} is not before --until {until}: give a window that starts before it ends."
        )
    check_accounts(accounts)
    return Window(
        start, end, frozenset(regions) if regions else None, frozenset(accounts) if accounts else None
    )


def _answer(
    question: Any,
    source: str | None,
    window: Any,
    engine: str,
    database: str,
    table: str,
    workgroup: str,
    **kw: Any,
) -> Any:
    from ..investigate.ask import AthenaTarget, Engine, ask

    try:
        chosen = Engine(engine)
    except ValueError:
        raise UserError(
            f"--engine {engine!r}: use `local` (scan SOURCE) or `athena` (the Athena table)."
        ) from None
    target = AthenaTarget(database, table, workgroup)
    return ask(question, source=source, window=window, engine=chosen, target=target, **kw)


def _show(answer: Any, fmt: OutputFormat, title: str, table_columns: Sequence[str] | None = None) -> None:
    """Rows to stdout; then, on stderr, what the scan read and every file or record it had to skip."""
    columns = table_columns if fmt is OutputFormat.table and table_columns else answer.columns
    render(answer.rows, fmt, columns=columns, title=f"{title} — {len(answer.rows)} rows")
    if answer.report is not None:  # None from Athena: nothing scanned here
        show_scan_report(answer.report)


def show_scan_report(report: Any) -> None:
    """On stderr: what the scan read, then every file or record it had to skip."""
    if report.files_listed == 0:
        stderr.print("[yellow]No log files in SOURCE for this window.[/yellow]", highlight=False)
        return
    first, *rest = report.summary()
    stderr.print(f"[dim]{first}[/dim]", highlight=False, soft_wrap=True)
    for line in rest:
        stderr.print(f"[yellow]{line}[/yellow]", highlight=False, soft_wrap=True)


def _ask_and_show(question: Any, scope: dict[str, Any], fmt: OutputFormat) -> None:
    _show(_answer(question, **scope), fmt, question.title, question.table_columns)


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
    region: Sequence[str] | None = None,
) -> dict[str, Any]:
    window = _window(since, until, region, account)
    return dict(
        source=source, window=window, engine=engine, database=database, table=table, workgroup=workgroup
    )


def _shared(name: str, annotation: Any, default: Any) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)


# What every question's command takes, in the order `--help` lists them: SOURCE and the window after the
# command's own arguments, the output format and the engine's options after its own options.
SCOPE_PARAMETERS = (
    _shared("source", SourceArg, None),
    _shared("since", SinceOpt, None),
    _shared("until", UntilOpt, None),
    _shared("region", RegionOpt, None),
    _shared("account", AccountOpt, None),
)
OUTPUT_PARAMETERS = (
    _shared("fmt", FormatOption, OutputFormat.table),
    _shared("engine", EngineOpt, "local"),
    _shared("database", DatabaseOpt, DEFAULT_DATABASE),
    _shared("table", TableOpt, DEFAULT_TABLE),
    _shared("workgroup", WorkgroupOpt, DEFAULT_WORKGROUP),
)


def _is_argument(parameter: inspect.Parameter) -> bool:
    metadata = getattr(parameter.annotation, "__metadata__", ())
    return any(isinstance(m, typer.models.ArgumentInfo) for m in metadata)


def question_command(*, region: bool = True) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Gives a question's command the shared parameters above (without --region if REGION is false) and
    calls it with its own, plus `scope` (the SOURCE, window and engine for `_answer`) and `fmt`."""
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


def activity_title(actor: str, rows: Sequence[dict[str, Any]]) -> str:
    """One line a responder reads first: how much, when, from where."""
    if not rows:
        return f"Activity of {actor}: nothing in the window"
    total = sum(r["events"] for r in rows)
    first = min(r["first_seen"] for r in rows)
    last = max(r["last_seen"] for r in rows)
    ips = sorted({ip for r in rows for ip in (r["source_ips"] or "").split(", ") if ip})
    regions = sorted({x for r in rows for x in (r["regions"] or "").split(", ") if x})
    return (
        f"Activity of {actor}: {total} events, {first} to {last}, "
        f"from {', '.join(ips) or 'no IP'} in {', '.join(regions) or 'no region'}"
    )


def register(app: typer.Typer) -> None:
    @app.command(rich_help_panel=PANEL)
    def fetch(
        dest: Annotated[
            Path, typer.Argument(help="Local folder to mirror the logs into (created if missing).")
        ],
        stack: Annotated[
            str | None, typer.Option("--stack", help="Read the bucket and prefix from this stack's outputs.")
        ] = None,
        bucket: Annotated[
            str | None, typer.Option("--bucket", help="The trail's log bucket (instead of --stack).")
        ] = None,
        prefix: Annotated[str, typer.Option("--prefix", help="The trail's S3 key prefix, if any.")] = "",
        since: SinceOpt = "1d",
        until: UntilOpt = None,
        region: RegionOpt = None,
        account: AccountOpt = None,
    ) -> None:
        """Download the trail's log files for a window into a local folder mirroring the bucket's layout.

        Parallel and resumable: only the account/region/day folders the window needs are listed, files already
        present with the same size are skipped, digest files come with their signatures (offline `verify`).

        Example: audit-trail fetch ./logs --stack prod --since 7d --region eu-west-1
        """
        from rich.progress import Progress

        from ..investigate.fetch import fetch as fetch_logs

        if stack and bucket:
            raise UserError("--stack and --bucket both given: name the bucket one way, not both.")
        if stack:
            outputs = read_stack_outputs(stack)
            bucket, prefix = outputs["bucketName"], outputs.get("s3KeyPrefix") or ""
        if not bucket:
            raise UserError("No bucket: give --stack STACK (a deployed audit-trail stack) or --bucket NAME.")
        window = _window(since, until, region, account)
        with Progress(console=stderr, transient=True) as progress:
            task = progress.add_task("Fetching", total=None)
            report = fetch_logs(
                bucket,
                prefix,
                dest,
                window,
                on_total=lambda n: progress.update(task, total=n),
                on_file=lambda: progress.advance(task),
            )
        stderr.print(
            f"{report.downloaded} files downloaded ({report.bytes / 1e6:.1f} MB), "
            f"{report.skipped} already present, {len(report.failed)} failed, into {dest}",
            highlight=False,
        )
        for key, reason in report.failed:
            stderr.print(f"[yellow]failed {key}: {reason}[/yellow]", highlight=False)
        if report.failed:
            raise typer.Exit(1)

    @app.command(rich_help_panel=PANEL)
    @question_command()
    def query(
        actor: Annotated[
            str | None,
            typer.Option("--actor", help="ARN, user name, access key id, role session or role ARN."),
        ] = None,
        action: Annotated[
            str | None,
            typer.Option(
                "--action", help="Glob on eventSource:eventName or eventName, e.g. 'ec2:*SecurityGroup*'."
            ),
        ] = None,
        resource: Annotated[
            str | None,
            typer.Option("--resource", help="ARN or id (substring) in resources, request or response."),
        ] = None,
        ip: Annotated[
            str | None, typer.Option("--ip", help="Source IP, or a glob such as 203.0.113.*")
        ] = None,
        errors: Annotated[bool, typer.Option("--errors", help="Only calls that failed.")] = False,
        write_only: Annotated[
            bool, typer.Option("--write-only", help="Only calls that are not read-only.")
        ] = False,
        follow_sessions: Annotated[
            bool,
            typer.Option(
                "--follow-sessions",
                help="With --actor: also the events made with credentials it obtained (roles, chains).",
            ),
        ] = False,
        sql: Annotated[
            str | None,
            typer.Option("--sql", help="Raw SQL over the `events` view (the records the filters keep)."),
        ] = None,
        limit: Annotated[int | None, typer.Option("--limit", min=1, help="At most this many rows.")] = None,
        *,
        scope: dict[str, Any],
        fmt: OutputFormat,
    ) -> None:
        """Who did what, when, from where: the events matching every filter given, oldest first.

        JSON and CSV rows hold every column, ending with the event's ATT&CK tactics (from TrailDiscover's
        catalogue; empty when attackers are not known to use the call); the table shows the main columns only,
        for width. --sql rows are exactly what the SQL selects.

        Example: audit-trail query ./logs --since 24h --actor mallory --action 'ec2:*' -f json
        """
        from ..hunt.follow import enrich_events, follow_scope
        from ..investigate import filters as f
        from ..investigate import questions as q

        chosen: list[f.Filter] = [
            *([f.Actor(actor)] if actor else []),
            *([f.Action(action)] if action else []),
            *([f.Resource(resource)] if resource else []),
            *([f.SourceIp(ip)] if ip else []),
            *([f.Errors()] if errors else []),
            *([f.WriteOnly()] if write_only else []),
        ]
        following = follow_scope(actor, scope) if follow_sessions else None
        if following is not None:
            chosen[0] = following.filter  # --actor, widened to the actor's sessions
        if sql:
            _show(_answer(None, **scope, sql=sql, row_filters=chosen), fmt, "Query")
        else:
            question = q.events(limit).with_filters(*chosen)
            answer = _answer(question, **scope)
            enrich_events(answer, following)  # tactics / via_* columns
            columns = (*(question.table_columns or ()), *(["via_chain"] if following else []))
            _show(answer, fmt, question.title, columns)

    @app.command("who-changed", rich_help_panel=PANEL)
    @question_command()
    def who_changed(
        resource: Annotated[
            str, typer.Argument(help="ARN or id of the resource, e.g. sg-0123456789abcdef0.")
        ],
        *,
        scope: dict[str, Any],
        fmt: OutputFormat,
    ) -> None:
        """Every call that changed, or tried to change, a resource: who, when, from where, the outcome.

        Example: audit-trail who-changed sg-0a1b2c3d4e5f60789 ./logs --since 7d
        """
        from ..investigate import questions as q

        _ask_and_show(q.who_changed(resource), scope, fmt)

    @app.command(rich_help_panel=PANEL)
    @question_command()
    def activity(
        actor: Annotated[
            str, typer.Argument(help="ARN, user name, access key id, role session or role ARN.")
        ],
        follow_sessions: Annotated[
            bool,
            typer.Option(
                "--follow-sessions",
                help="Also what it did through the roles it assumed (and their chains), shown as a tree.",
            ),
        ] = False,
        by_tactic: Annotated[
            bool,
            typer.Option("--by-tactic", help="Rows by ATT&CK tactic instead, first and last time of each."),
        ] = False,
        *,
        scope: dict[str, Any],
        fmt: OutputFormat,
    ) -> None:
        """Damage assessment: everything an identity did, by service, action and resource.

        Each row has the first and last time, the source IPs and the regions; the title sums them up. The
        table view adds the events by ATT&CK tactic (and, with --follow-sessions, the session tree).

        Example: audit-trail activity AKIAEXAMPLEMALLORY01 s3://my-trail-bucket/AWSLogs/ --since 30d
        """
        from dataclasses import replace

        from ..hunt.follow import TACTIC_COLUMNS, follow_scope, show_shape
        from ..investigate import questions as q

        following = None
        if (
            follow_sessions
            or by_tactic
            or (fmt is OutputFormat.table and scope["engine"] == "local" and scope["source"])
        ):
            flag = "--follow-sessions" if follow_sessions else "--by-tactic"
            following = follow_scope(actor, scope, sessions=follow_sessions, flag=flag)
        if by_tactic and following is not None:
            render(following.tactics(), fmt, columns=TACTIC_COLUMNS, title=f"{actor} by ATT&CK tactic")
            return
        question = q.activity(actor)
        if follow_sessions and following is not None:
            question = replace(question, filters=(following.filter,))
        answer = _answer(question, **scope)
        _show(answer, fmt, activity_title(actor, answer.rows))
        if following is not None and fmt is OutputFormat.table:
            show_shape(following, fmt, sessions=follow_sessions)

    @app.command("root-usage", rich_help_panel=PANEL)
    @question_command()
    def root_usage(*, scope: dict[str, Any], fmt: OutputFormat) -> None:
        """Every call the root user made itself (CIS 4.3), sign-ins included.

        Example: audit-trail root-usage ./logs --since 90d
        """
        from ..investigate import questions as q

        _ask_and_show(q.root_usage(), scope, fmt)

    @app.command("failed-logins", rich_help_panel=PANEL)
    @question_command()
    def failed_logins(*, scope: dict[str, Any], fmt: OutputFormat) -> None:
        """Failed console sign-ins, and IAM users signing in to the console without MFA (CIS 4.2, 4.6).

        Example: audit-trail failed-logins ./logs --since 7d
        """
        from ..investigate import questions as q

        _ask_and_show(q.failed_logins(), scope, fmt)

    @app.command(rich_help_panel=PANEL)
    @question_command()
    def denied(*, scope: dict[str, Any], fmt: OutputFormat) -> None:
        """Calls refused with AccessDenied* or *UnauthorizedOperation (CIS 4.1): someone probing permissions.

        Example: audit-trail denied ./logs --since 24h -f csv
        """
        from ..investigate import questions as q

        _ask_and_show(q.denied(), scope, fmt)

    @app.command("unusual-regions", rich_help_panel=PANEL)
    @question_command(region=False)
    def unusual_regions(
        expected: Annotated[
            list[str] | None,
            typer.Option(
                "--expected", help="A region you use (repeatable); activity anywhere else is reported."
            ),
        ] = None,
        min_share: Annotated[
            float,
            typer.Option(
                "--min-share",
                min=0.0,
                max=1.0,
                help="Without --expected: regions under this share of events.",
            ),
        ] = 0.01,
        *,
        scope: dict[str, Any],
        fmt: OutputFormat,
    ) -> None:
        """Activity outside the regions you use (the 3 AM Tokyo case), by region and actor.

        Name the regions you use with --expected; without it, regions holding under --min-share of the events
        in the window are reported.

        Example: audit-trail unusual-regions ./logs --since 30d --expected eu-west-1 --expected us-east-1
        """
        from ..investigate import questions as q

        _ask_and_show(q.unusual_regions(tuple(expected or ()), min_share), scope, fmt)

    @app.command(rich_help_panel=PANEL)
    @question_command()
    def deletions(*, scope: dict[str, Any], fmt: OutputFormat) -> None:
        """Every Delete*, Terminate* and Remove* call: what vanished, who did it, whether it worked.

        Example: audit-trail deletions ./logs --since 3d
        """
        from ..investigate import questions as q

        _ask_and_show(q.deletions(), scope, fmt)
