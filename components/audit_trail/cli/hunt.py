"""`audit-trail hunt`: Sigma detection rules over the trail's events, in one pass over the files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import ExitCode, UserError
from .investigate import show_scan_report
from .options import INVESTIGATE_PANEL, AccountOpt, RegionOpt, SinceOpt, UntilOpt, command, parse_window
from .output import FormatOption, OutputFormat, render, stderr


def _report(result: Any, floor: str) -> None:
    """On stderr, as `query` does: what the scan read and skipped; how many rules ran or could not."""
    show_scan_report(result.report)
    stderr.print(f"[dim]{result.rules_run} rules run at level {floor} or above.[/dim]", highlight=False)
    if result.unrunnable:
        count = len(result.unrunnable)
        stderr.print(f"[yellow]{count} rules cannot run: see hunt --list-rules.[/yellow]", highlight=False)


def register(app: typer.Typer) -> None:
    @command(app, panel=INVESTIGATE_PANEL)
    def hunt(
        source: Annotated[
            str | None,
            typer.Argument(
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
                "--rules", help="Your own Sigma rules: a .yml file or a folder of them (repeatable)."
            ),
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
                "--min-level", help="Run only rules at or above: informational|low|medium|high|critical."
            ),
        ] = "informational",
        fail_on: Annotated[
            str | None,
            typer.Option(
                "--fail-on", help="Exit with code 1 if a hit at or above this level exists (scheduled jobs)."
            ),
        ] = None,
        summary: Annotated[
            bool, typer.Option("--summary", help="Only the per-rule summary (hits, first/last seen, actors).")
        ] = False,
        fmt: FormatOption = OutputFormat.table,
    ) -> None:
        """Run SigmaHQ's CloudTrail rules (shipped) and your own over the events of SOURCE.

        One row per hit (rule, level, ATT&CK tags, who, action, IP, region, event id, the rule's author), then
        a summary per rule. Exit code 0 whatever was found, unless --fail-on.

        Example: audit-trail hunt ./logs --since 7d --min-level medium --fail-on high
        """
        from ..hunt.findings import (
            HIT_COLUMNS,
            HIT_TABLE_COLUMNS,
            SUMMARY_COLUMNS,
            SigmaHits,
            hunt,
            paused_gc,
        )
        from ..hunt.levels import level_rank, parse_level
        from ..hunt.rules import listing_rows, load_rules

        floor = parse_level(min_level, "--min-level")
        threshold = parse_level(fail_on, "--fail-on") if fail_on else None
        rule_paths = tuple(str(p) for p in rules or ())
        if list_rules:
            render(listing_rows(load_rules([Path(p) for p in rule_paths])), fmt, title="Sigma rules")
            return
        if source is None:
            raise UserError("No SOURCE: give a log folder or s3:// prefix to hunt in, or --list-rules.")
        from ..investigate.sources import list_log_files
        from ..queries.filters import window_filters

        window = parse_window(since, until, region, account)
        mapper = SigmaHits(rule_paths, True, floor)
        result = hunt(list_log_files(source, window), mapper, window_filters(window))

        with paused_gc():
            if summary:
                title = f"Per rule — {len(result.hits)} hits"
                render(result.summary, fmt, columns=SUMMARY_COLUMNS, title=title)
            elif fmt is OutputFormat.table:
                title = f"Sigma hits — {len(result.hits)}"
                render(result.hits, fmt, columns=HIT_TABLE_COLUMNS, title=title)
                render(result.summary, fmt, columns=SUMMARY_COLUMNS, title="Per rule")
            else:
                render(result.hits, fmt, columns=HIT_COLUMNS)
        _report(result, floor)
        highest = result.highest_level()
        if threshold and highest and level_rank(highest) >= level_rank(threshold):
            stderr.print(f"[red]A hit at level {highest} (--fail-on {threshold}).[/red]", highlight=False)
            raise typer.Exit(ExitCode.FINDINGS)
