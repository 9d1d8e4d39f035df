"""`audit-trail hunt`: Sigma detection rules over the trail's events, in one pass over the files."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import CannotRunError, ExitCode, UserError
from ..hunt.levels import LEVELS
from .investigate import show_scan_report
from .options import (
    INVESTIGATE_PANEL,
    AccountOpt,
    RegionOpt,
    SinceOpt,
    UntilOpt,
    command,
    parse_window,
    warn_if_unbounded,
)
from .output import FormatOption, LimitOption, OutputFormat, json_list, note, render

LEVEL_METAVAR = "|".join(LEVELS)
_HELD_LINES = 10  # account/region lines of "what SOURCE holds"; more are counted


def _warn(*lines: str) -> None:
    """A warning on stderr, each of LINES on its own line as plain text: a line may quote a rule file's name,
    a rule's title or a rule's own text, whose line breaks are shown as escapes, never as lines."""
    for line in lines:
        note(line, style="yellow")


def _report(result: Any, floor: str) -> None:
    """On stderr, as `query` does: what the scan read and skipped; how many rules ran or could not."""
    show_scan_report(result.report)
    note(f"{result.rules_run} rules run at level {floor} or above.", style="dim")
    broken = [r for r in result.unrunnable if r.broken]
    others = len(result.unrunnable) - len(broken)
    for rule in broken:
        _warn(f"your rule {rule.title!r} ({rule.source}) cannot run: {rule.reason}")
    if others:
        _warn(f"{others} other rules cannot run (another log source, ...): see hunt --list-rules.")


def _what_source_holds(source: str) -> list[str]:
    """What SOURCE's layout holds, as lines: one per account and region, the days its folders hold."""
    from ..investigate.sources import held_days

    held = held_days(source)
    if held is None:
        layout = "AWSLogs/<account>/CloudTrail/<region>/..."
        return [f"{source} does not follow the CloudTrail layout ({layout})."]
    if not held:
        return [f"{source} holds no CloudTrail day folders at all."]
    lines = [  # folder names are the bucket's: a line each, where `note` and `show_error` escape theirs
        f"  {h.account} {h.region}: {h.first.isoformat()} to {h.last.isoformat()} "
        f"({h.days} day{'' if h.days == 1 else 's'})"
        for h in held[:_HELD_LINES]
    ]
    if len(held) > _HELD_LINES:
        lines.append(f"  ... and {len(held) - _HELD_LINES} more account/region folders")
    return [f"{source} holds (UTC day folders):", *lines]


def _nothing_read(result: Any) -> str | None:
    """Why the hunt saw no event at all, or None if it read some: silence is never a clean result."""
    report = result.report
    if report.files_listed == 0:
        return "no log files in SOURCE for this window"
    if report.records == 0:
        return f"the {report.files_listed} log files of the window hold no readable record"
    if report.in_window == 0:
        return f"the {report.files_listed} log files listed hold no event inside the window"
    return None


def _no_rules_message(rule_set: Any, floor: str, rule_ids: list[str], only: bool) -> str:
    levels = sorted({r.level for r in rule_set.loaded if r.runnable and r.shipped}, key=LEVELS.index)
    parts = [f"no rule to run: --min-level {floor}"]
    if rule_ids:
        parts.append(f"--rule-id {' '.join(rule_ids)}")
    if only:
        parts.append("--only (your --rules alone)")
    message = " with ".join(parts) + " selects none."
    if not only and floor not in levels:
        message += f" No shipped rule is {floor} (the shipped levels are {', '.join(levels)});"
        message += f" only your own {floor} rules (--rules) would run."
    return message + " See hunt --list-rules."


def _choose_rules(
    rule_paths: tuple[str, ...], only: bool, floor: str, rule_ids: list[str], summary: bool
) -> Any:
    from ..hunt.findings import SigmaHits

    if only and not rule_paths:
        raise UserError("--only runs only the rule files given with --rules: give --rules FILE or FOLDER.")
    mapper = SigmaHits(rule_paths, not only, floor, tuple(rule_ids), summary)
    rule_set = mapper.rule_set
    for clash in rule_set.clashes:
        _warn(clash)
    known = {r.id.lower() for r in rule_set.loaded}
    unknown = [i for i in rule_ids if i.lower() not in known]
    if unknown:
        raise UserError(
            f"--rule-id {', '.join(unknown)}: no rule has this id; see the ids with hunt --list-rules."
        )
    return mapper


def _exit(result: Any, threshold: str | None, source: str) -> None:
    """The exit code, most urgent first: nothing read (3), a hit at or above --fail-on (1), a rule of yours
    that cannot run (2). Without --fail-on, 0 whatever was found; an empty hunt still says so."""
    from ..hunt.levels import level_rank

    silent = _nothing_read(result)
    if silent:
        first, *held = _what_source_holds(source)
        lines = (f"Nothing to hunt in: {silent}. {first}", *held)
        if threshold:
            raise CannotRunError(*lines, "A hunt that read nothing is not a clean result (--fail-on).")
        _warn(*lines)
        return
    if not threshold:
        return
    highest = result.highest_level()
    if highest and level_rank(highest) >= level_rank(threshold):
        note(f"A hit at level {highest} (--fail-on {threshold}).", style="red")
        raise typer.Exit(ExitCode.FINDINGS)
    broken = [r for r in result.unrunnable if r.broken]
    if broken:
        raise UserError(
            f"{len(broken)} of your rules cannot run (listed above): fix or remove them; a detection that "
            "cannot run is not a clean result (--fail-on)."
        )


def register(app: typer.Typer) -> None:
    @command(app, panel=INVESTIGATE_PANEL)
    def hunt(
        source: Annotated[
            str | None,
            typer.Argument(
                metavar="SOURCE",
                help="A folder of CloudTrail logs (as fetched, or any export) or an s3:// prefix.",
                show_default=False,
            ),
        ] = None,
        since: SinceOpt = None,
        until: UntilOpt = None,
        region: RegionOpt = None,
        account: AccountOpt = None,
        rules: Annotated[
            list[Path] | None,
            typer.Option(
                "--rules",
                metavar="PATH",
                help="Your own Sigma rules: a .yml file or a folder of them (repeatable).",
            ),
        ] = None,
        only: Annotated[
            bool, typer.Option("--only", help="Run only the --rules given, not the shipped rules.")
        ] = False,
        rule_id: Annotated[
            list[str] | None,
            typer.Option("--rule-id", metavar="ID", help="Run only the rule with this id (repeatable)."),
        ] = None,
        list_rules: Annotated[
            bool,
            typer.Option(
                "--list-rules", help="List the rules (id, title, level, ATT&CK, runnable) and exit."
            ),
        ] = False,
        min_level: Annotated[
            str,
            typer.Option(
                "--min-level", metavar=LEVEL_METAVAR, help="Run only the rules at or above this level."
            ),
        ] = "informational",
        fail_on: Annotated[
            str | None,
            typer.Option(
                "--fail-on",
                metavar=LEVEL_METAVAR,
                help="Exit 1 if a hit at or above this level exists; exit 3 if no event was read, 2 if a "
                "rule of yours cannot run (scheduled jobs).",
                show_default=False,
            ),
        ] = None,
        summary: Annotated[
            bool, typer.Option("--summary", help="Only the per-rule summary (hits, first/last seen, actors).")
        ] = False,
        fmt: FormatOption = OutputFormat.table,
        limit: LimitOption = None,
    ) -> None:
        """Run SigmaHQ's CloudTrail rules (shipped) and your own over the events of SOURCE.

        One row per hit (rule, level, ATT&CK tags, who, action, IP, region, event id, the rule's id,
        source and author), then a summary per rule. Exit code 0 whatever was found, unless --fail-on.

        Example: audit-trail hunt ./logs --since 24h --min-level medium --fail-on high
        """
        from ..hunt.findings import HIT_COLUMNS, HIT_TABLE_COLUMNS, SUMMARY_COLUMNS, hunt, paused_gc
        from ..hunt.levels import parse_level
        from ..hunt.rules import listing_rows

        floor = parse_level(min_level, "--min-level")
        threshold = parse_level(fail_on, "--fail-on") if fail_on else None
        rule_paths = tuple(str(p) for p in rules or ())
        rule_ids = list(rule_id or ())
        mapper = _choose_rules(rule_paths, only, floor, rule_ids, summary)
        if list_rules:
            render(listing_rows(mapper.rule_set.loaded), fmt, title="Sigma rules")
            return
        if not mapper.rule_set.rules:
            raise UserError(_no_rules_message(mapper.rule_set, floor, rule_ids, only))
        if source is None:
            raise UserError("No SOURCE: give a log folder or s3:// prefix to hunt in, or --list-rules.")
        from ..investigate.sources import list_log_files
        from ..queries.filters import window_filters

        window = parse_window(since, until, region, account)
        warn_if_unbounded(source, window)
        with hunt(list_log_files(source, window), mapper, window_filters(window)) as result, paused_gc():
            if summary:
                title = f"Per rule — {result.hit_count} hits"
                render(result.summary, fmt, columns=SUMMARY_COLUMNS, title=title, limit=limit)
            elif fmt is OutputFormat.table:
                title = f"Sigma hits — {result.hit_count}"
                render(result.hits(), fmt, columns=HIT_TABLE_COLUMNS, title=title, limit=limit)
                render(result.summary, fmt, columns=SUMMARY_COLUMNS, title="Per rule", limit=0)
            elif fmt is OutputFormat.json:  # the hits as the workers wrote them, not decoded to be rewritten
                texts = result.hit_texts()
                json_list(itertools.islice(texts, limit) if limit else texts)
            else:
                render(result.hits(), fmt, columns=HIT_COLUMNS, limit=limit)
        _report(result, floor)
        _exit(result, threshold, source)
