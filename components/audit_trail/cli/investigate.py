"""Investigation commands: `fetch`, `query` and the canned questions (who-changed, activity, root-usage,
failed-logins, denied, unusual-regions, deletions), each a few lines over `audit_trail.investigate`.

Rows go to stdout in the chosen format; what the scan read and skipped goes to stderr after them. DuckDB
and boto3 load only when a command runs, so `audit-trail --help` stays fast.
"""

import itertools
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..errors import ExitCode, UserError
from ..investigate.ask import Engine
from ..stack_outputs import read_stack_outputs, stack_account
from ..times import instant_key
from ..visible_text import visible
from .options import (
    INVESTIGATE_PANEL,
    AccountOpt,
    RegionOpt,
    Scope,
    SinceOpt,
    UntilOpt,
    check_regions,
    command,
    parse_window,
    question_command,
)
from .output import (
    LIST_ITEMS,
    OutputFormat,
    json_lines,
    json_list,
    note,
    progress_line,
    render,
    stderr_console,
)

if TYPE_CHECKING:
    from ..cache.index import TermIndex
    from ..investigate.answer import Answer


SQL_TABLE_COUNTED = 100_000
"""The most rows a table of a --sql answer reads, to say how many there are: a question's rows are at most the
window's records, but a query's need not end (`SELECT * FROM range(10^12)`)."""


def _answer(question: Any, scope: Scope, **kw: Any) -> "Answer":
    from ..investigate.ask import ask

    index = open_index(scope)
    with progress_line() as progress:
        return ask(
            question,
            source=scope.source,
            window=scope.window,
            engine=scope.engine,
            target=scope.target,
            progress=progress,
            index=index,
            files=scope.log_files,
            **kw,
        )


def open_index(scope: Scope) -> "TermIndex | None":
    """The term index for a local question (None with --no-cache or Athena); a bad bound is refused first."""
    if not scope.cache or scope.engine is not Engine.local or not scope.source:
        return None
    from ..cache.index import TermIndex

    try:
        return TermIndex()
    except ValueError as exc:  # AUDIT_TRAIL_CACHE_MAX_MB
        raise UserError(f"{exc} Or pass --no-cache.") from None


def index_later(answer: "Answer") -> None:
    """Once the answer is out: what the cache mended or why it is off, then a background build of the files
    it did not know, so that the next question skips what this one read in vain."""
    from ..cache.index import TermIndex

    index = answer.index
    if not isinstance(index, TermIndex):
        return
    for line in [*index.warnings, *([index.problem] if index.problem else [])]:
        note(f"Cache: {line}", style="yellow")
    if answer.unindexed:  # the builder (and subprocess) load only when there is something to build
        from ..cache.build import in_background

        in_background(index, answer.unindexed)
    index.close()


def follow_in_scope(
    actors: Sequence[str] | None, scope: Scope, *, sessions: bool = True, flag: str = "--follow-sessions"
) -> Any:
    """The actors' timeline within the command's scope; it reads the raw records, so the local engine only."""
    from ..hunt.follow import following_in
    from ..queries import filters as f

    if not actors:
        raise UserError(f"{flag} needs --actor: the identity to follow (ARN, user name, key id).")
    if scope.engine is not Engine.local or not scope.source:
        raise UserError(f"{flag} reads the raw records: use --engine local, a SOURCE folder or s3:// prefix.")
    (who,) = f.option_filter("--actor", actors, f.Actor)
    return following_in(
        scope.source, scope.window, who, sessions=sessions, label=", ".join(actors), files=scope.log_files
    )


def _show(
    answer: Any,
    fmt: OutputFormat,
    title: str,
    table_columns: Sequence[str] | None = None,
    *,
    limit: int | None = None,
    counted: int | None = None,
) -> None:
    """Rows to stdout; then, on stderr, what the scan read and every file or record it had to skip. COUNTED:
    the most rows a table reads to count them (`render`)."""
    columns = table_columns if fmt is OutputFormat.table and table_columns else answer.columns
    if fmt is OutputFormat.json and answer.texts is not None:  # the rows as the engine wrote them
        json_list(itertools.islice(answer.texts, limit) if limit else answer.texts)
    else:
        rows = answer.stream()
        if "change" in columns:  # a table's short reading of what each call asked for
            from ..investigate.events import change_summary

            rows = ({**r, "change": change_summary(r.get("request_parameters"))} for r in rows)
        render(rows, fmt, columns=columns, title=title, count="rows", limit=limit, counted=counted)
    if answer.report is not None:  # None from Athena: nothing scanned here
        show_scan_report(answer.report)
    index_later(answer)


def show_scan_report(report: Any) -> None:
    """On stderr: what the scan read, then every file or record it had to skip."""
    if report.files_listed == 0:
        note("No log files in SOURCE for this window.", style="yellow")
        return
    first, *rest = report.summary()
    note(first, style="dim")
    for line in rest:
        note(line, style="yellow")


def _ask_and_show(question: Any, scope: Scope, fmt: OutputFormat) -> None:
    answer = _answer(question.limited(scope.limit), scope)
    _show(answer, fmt, question.title, question.table_columns, limit=scope.limit)


def _show_records(question: Any, scope: Scope, fmt: OutputFormat, sql: str | None) -> None:
    """`query --raw`: each matching record exactly as CloudTrail wrote it."""
    if fmt is OutputFormat.csv or sql is not None or scope.engine is not Engine.local:
        raise UserError(
            "--raw prints whole records: as JSON lines, or a JSON list with -f json, from the local engine; "
            "not with -f csv, --sql or --engine athena."
        )
    answer = _answer(question, scope)
    records = (row["raw"] for row in answer.stream())
    if fmt is OutputFormat.json:
        json_list(records)
    else:
        json_lines(records)
    if answer.report is not None:
        show_scan_report(answer.report)
    index_later(answer)


def show_session_tree(node: Any) -> None:
    """The session tree: X (n events) -> role session (n) -> chained session (n)."""
    from rich.console import Console
    from rich.text import Text
    from rich.tree import Tree

    def label(n: Any) -> Text:
        # The names are the logs' (role ARNs, session names): plain text, never markup or escape codes.
        own = f"{n.events} events" if n.events == n.total else f"{n.events} events, {n.total} with sessions"
        return Text(visible(f"{n.label} — {own}"))

    def add(tree: Tree, n: Any) -> None:
        for child in n.children.values():
            add(tree.add(label(child)), child)

    def widest(n: Any, depth: int) -> int:
        return max([len(label(n)) + 4 * depth, *(widest(c, depth + 1) for c in n.children.values())])

    root = Tree(label(node))
    add(root, node)
    # As wide as its longest line: an ARN is never broken or cut (a terminal may fold it, as it shows it)
    Console(width=max(80, widest(node, 1))).print(root)


def _some(values: Sequence[str], what: str) -> str:
    """At most a few of VALUES, and how many more there are: a title stays one line."""
    if not values:
        return f"no {what}"
    shown = ", ".join(values[:LIST_ITEMS])
    return shown + (f" (+{len(values) - LIST_ITEMS} more)" if len(values) > LIST_ITEMS else "")


def activity_title(actor: str, rows: Sequence[dict[str, Any]]) -> str:
    """One line a responder reads first: how much, when, from where."""
    if not rows:
        return f"Activity of {actor}: nothing in the window"
    total = sum(r["events"] for r in rows)
    first = min((r["first_seen"] for r in rows), key=instant_key)
    last = max((r["last_seen"] for r in rows), key=instant_key)
    ips = sorted({ip for r in rows for ip in r["source_ips"] or ()})
    regions = sorted({x for r in rows for x in r["regions"] or ()})
    return (
        f"Activity of {actor}: {total} events, {first} to {last}, "
        f"from {_some(ips, 'IP')} in {_some(regions, 'region')}"
    )


def register(app: typer.Typer) -> None:
    @command(app, panel=INVESTIGATE_PANEL)
    def fetch(
        dest: Annotated[
            Path,
            typer.Argument(metavar="DEST", help="Local folder to mirror the logs into (created if missing)."),
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
            outputs = read_stack_outputs(stack, instead="--bucket and --prefix")
            bucket, prefix = outputs["bucketName"], outputs.get("s3KeyPrefix") or ""
            # The stack's own account, not every member of an organization trail's bucket.
            own = stack_account(outputs)
            account = account or ([own] if own else None)
        if not bucket:
            raise UserError("No bucket: give --stack STACK (a deployed audit-trail stack) or --bucket NAME.")
        window = parse_window(since, until, region, account)
        with Progress(console=stderr_console(), transient=True) as progress:
            task = progress.add_task("Fetching", total=None)
            report = fetch_logs(
                bucket,
                prefix,
                dest,
                window,
                on_total=lambda n: progress.update(task, total=n),
                on_file=lambda: progress.advance(task),
            )
        note(
            f"{report.downloaded} files downloaded ({report.bytes / 1e6:.1f} MB), "
            f"{report.skipped} already present, {len(report.failed)} failed, into {dest}"
        )
        for key, reason in report.refused:
            note(f"not fetched {key}: {reason}", style="yellow")
        for key, reason in report.failed:
            note(f"failed {key}: {reason}", style="yellow")
        if report.failed:
            raise typer.Exit(ExitCode.CANNOT_RUN)

    @command(app, panel=INVESTIGATE_PANEL)
    @question_command()
    def query(
        actor: Annotated[
            list[str] | None,
            typer.Option(
                "--actor",
                help="Who (repeatable, any of them; case-insensitive, * and ? globs): user, role or session "
                "name, federated user, any ARN form, access key id, principal id, account id for root.",
            ),
        ] = None,
        not_actor: Annotated[
            list[str] | None,
            typer.Option("--not-actor", help="Leave out this actor (repeatable; matched as --actor is)."),
        ] = None,
        action: Annotated[
            list[str] | None,
            typer.Option(
                "--action",
                help="Glob on eventSource:eventName or eventName, e.g. 'ec2:*SecurityGroup*' (repeatable).",
            ),
        ] = None,
        not_action: Annotated[
            list[str] | None,
            typer.Option("--not-action", help="Leave out this action (repeatable; matched as --action is)."),
        ] = None,
        resource: Annotated[
            list[str] | None,
            typer.Option(
                "--resource",
                help="ARN (as CloudTrail records the resource: its id or name) or any id, name or key "
                "(substring) in resources, request or response (repeatable).",
            ),
        ] = None,
        ip: Annotated[
            list[str] | None,
            typer.Option(
                "--ip",
                help="Source IP, glob (203.0.113.*) or CIDR (203.0.113.0/24, 2001:db8::/32); repeatable.",
            ),
        ] = None,
        user_agent: Annotated[
            list[str] | None,
            typer.Option(
                "--user-agent", help="User agent glob, case-insensitive, e.g. '*Boto3*' (repeatable)."
            ),
        ] = None,
        event_id: Annotated[
            list[str] | None, typer.Option("--event-id", help="Only this CloudTrail eventID (repeatable).")
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
        raw: Annotated[
            bool,
            typer.Option(
                "--raw",
                help="The complete records as CloudTrail wrote them, instead of rows: a JSON list with -f "
                "json, else one record per line (JSON lines). Local engine; not with -f csv.",
            ),
        ] = False,
        *,
        scope: Scope,
        fmt: OutputFormat,
    ) -> None:
        """Who did what, when, from where: the events matching every filter given, oldest first.

        JSON and CSV rows hold every column, ending with the event's ATT&CK tactics (from TrailDiscover's
        catalogue; empty when attackers are not known to use the call); the table shows the main columns only,
        for width. --sql rows are exactly what the SQL selects.

        Example: audit-trail query ./logs --since 24h --actor mallory --action 'ec2:*' -f json
        """
        from ..queries import filters as f
        from ..queries import questions as q

        # Repeated values of one option are OR-ed, different options AND-ed (all checked before any scan).
        who = f.option_filter("--actor", actor, f.Actor)
        others: list[f.Filter] = [
            *f.option_filter("--not-actor", not_actor, f.Actor, exclude=True),
            *f.option_filter("--action", action, f.Action),
            *f.option_filter("--not-action", not_action, f.Action, exclude=True),
            *f.option_filter("--resource", resource, f.Resource),
            *f.option_filter("--ip", ip, f.SourceIp),
            *f.option_filter("--user-agent", user_agent, f.user_agent),
            *f.option_filter("--event-id", event_id, f.event_id),
            *([f.Errors()] if errors else []),
            *([f.WriteOnly()] if write_only else []),
        ]
        # --follow-sessions widens --actor to the actor's sessions.
        following = follow_in_scope(actor, scope) if follow_sessions else None
        chosen = [*([following.filter] if following is not None else who), *others]
        if raw:
            _show_records(q.records().limited(scope.limit).with_filters(*chosen), scope, fmt, sql)
        elif sql is not None:
            answer = _answer(None, scope, sql=sql, row_filters=chosen)
            _show(answer, fmt, "Query", limit=scope.limit, counted=SQL_TABLE_COUNTED)
        else:
            question = q.events().limited(scope.limit).with_filters(*chosen).with_tactics()
            answer = _answer(question, scope)
            if following is not None:  # how each event was reached (via_* columns)
                from ..hunt.follow import enriched

                answer = enriched(answer, following)
            columns = (*(question.table_columns or ()), *(["via_chain"] if following else []))
            _show(answer, fmt, question.title, columns, limit=scope.limit)

    @command(app, "who-changed", panel=INVESTIGATE_PANEL)
    @question_command()
    def who_changed(
        resource: Annotated[
            str,
            typer.Argument(
                metavar="RESOURCE",
                help="ARN (as CloudTrail records the resource: its id or name) or id of the resource, e.g. "
                "sg-0123456789abcdef0.",
            ),
        ],
        raw: Annotated[
            bool,
            typer.Option(
                "--raw",
                help="The complete records as CloudTrail wrote them, as query --raw gives them (the evidence "
                "to attach to a ticket).",
            ),
        ] = False,
        *,
        scope: Scope,
        fmt: OutputFormat,
    ) -> None:
        """Every call that changed, or tried to change, a resource: who, when, from where, the outcome.

        Example: audit-trail who-changed sg-0a1b2c3d4e5f60789 ./logs --since 7d
        """
        from ..queries import filters as f
        from ..queries import questions as q

        f.option_filter("RESOURCE", [resource], f.Resource)  # refuses an empty one
        question = q.who_changed(resource)
        if raw:
            _show_records(q.records().limited(scope.limit).with_filters(*question.filters), scope, fmt, None)
        else:
            _ask_and_show(question, scope, fmt)

    @command(app, panel=INVESTIGATE_PANEL)
    @question_command()
    def activity(
        actor: Annotated[
            str,
            typer.Argument(
                metavar="ACTOR",
                help="Who, matched as query's --actor: user, role or session name, federated user, any ARN "
                "form, access key id, principal id, account id for root (case-insensitive, * and ? globs).",
            ),
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
        scope: Scope,
        fmt: OutputFormat,
    ) -> None:
        """Damage assessment: everything an identity did, by service, action and resource.

        Each row has the first and last time, the source IPs and the regions; the title sums them up. The
        table view adds the events by ATT&CK tactic (and, with --follow-sessions, the session tree).

        Example: audit-trail activity AKIAEXAMPLEMALLORY01 s3://my-trail-bucket/AWSLogs/ --since 30d
        """
        from dataclasses import replace

        from ..hunt.follow import TACTIC_COLUMNS
        from ..queries import filters as f
        from ..queries import questions as q

        f.option_filter("ACTOR", [actor], f.Actor)  # refuses an empty one
        following = None
        if (
            follow_sessions
            or by_tactic
            or (fmt is OutputFormat.table and scope.engine is Engine.local and scope.source)
        ):
            flag = "--follow-sessions" if follow_sessions else "--by-tactic"
            following = follow_in_scope([actor], scope, sessions=follow_sessions, flag=flag)
        if by_tactic and following is not None:
            render(following.tactics(), fmt, columns=TACTIC_COLUMNS, title=f"{actor} by ATT&CK tactic")
            return
        question = q.activity(actor)
        if follow_sessions and following is not None:
            question = replace(question, filters=(following.filter,))
        answer = _answer(question.limited(scope.limit), scope)
        _show(answer, fmt, activity_title(actor, answer.rows), limit=scope.limit)
        if following is not None and fmt is OutputFormat.table:
            render(following.tactics(), fmt, columns=TACTIC_COLUMNS, title="By ATT&CK tactic (TrailDiscover)")
            if follow_sessions:
                show_session_tree(following.tree())

    @command(app, "root-usage", panel=INVESTIGATE_PANEL)
    @question_command()
    def root_usage(*, scope: Scope, fmt: OutputFormat) -> None:
        """Every call the root user made itself (CIS 4.3), sign-ins included.

        Example: audit-trail root-usage ./logs --since 90d
        """
        from ..queries import questions as q

        _ask_and_show(q.root_usage(), scope, fmt)

    @command(app, "failed-logins", panel=INVESTIGATE_PANEL)
    @question_command()
    def failed_logins(*, scope: Scope, fmt: OutputFormat) -> None:
        """Failed console sign-ins, and IAM users signing in to the console without MFA (CIS 4.2, 4.6).

        Example: audit-trail failed-logins ./logs --since 7d
        """
        from ..queries import questions as q

        _ask_and_show(q.failed_logins(), scope, fmt)

    @command(app, panel=INVESTIGATE_PANEL)
    @question_command()
    def denied(*, scope: Scope, fmt: OutputFormat) -> None:
        """Calls refused with AccessDenied* or *UnauthorizedOperation (CIS 4.1): someone probing permissions.

        Example: audit-trail denied ./logs --since 24h -f csv
        """
        from ..queries import questions as q

        _ask_and_show(q.denied(), scope, fmt)

    @command(app, "unusual-regions", panel=INVESTIGATE_PANEL)
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
        scope: Scope,
        fmt: OutputFormat,
    ) -> None:
        """Activity outside the regions you use (the 3 AM Tokyo case), by region and actor.

        Name the regions you use with --expected; without it, regions holding under --min-share of the events
        in the window are reported.

        Example: audit-trail unusual-regions ./logs --since 30d --expected eu-west-1 --expected us-east-1
        """
        from ..queries import questions as q

        check_regions(expected, "--expected")
        _ask_and_show(q.unusual_regions(tuple(expected or ()), min_share), scope, fmt)

    @command(app, panel=INVESTIGATE_PANEL)
    @question_command()
    def deletions(*, scope: Scope, fmt: OutputFormat) -> None:
        """Every Delete*, Terminate* and Remove* call: what vanished, who did it, whether it worked.

        Example: audit-trail deletions ./logs --since 3d
        """
        from ..queries import questions as q

        _ask_and_show(q.deletions(), scope, fmt)
