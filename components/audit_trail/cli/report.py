"""`audit-trail report`: the evidence pack of an audit period, as one self-contained HTML page, JSON or
Markdown (`audit_trail.report`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import ExitCode, UserError
from ..times import ACCEPTED_FORMS, parse_time
from .integrity import BucketOption, FolderOption, PrefixOption, StackOption
from .options import check_accounts, check_regions, command
from .output import note, progress_line

PROFILES = ("cis", "soc2", "pci", "hipaa")


def _tool_version() -> str:
    from importlib.metadata import PackageNotFoundError, version  # slow to import: only for a report

    try:
        return version("audit-trail")
    except PackageNotFoundError:  # a source tree that was never installed
        return "(not installed)"


def _command_line(given: dict[str, Any]) -> list[str]:
    """The command as run, rebuilt from its parsed options (what a reader needs to run it again)."""
    line = ["audit-trail", "report"]
    for flag, value in given.items():
        if value is None or value is False or value == "" or value == []:
            continue
        for one in value if isinstance(value, list) else [value]:
            line += [flag] if one is True else [flag, str(one)]
    return line


def report(
    output: Annotated[
        Path, typer.Option("--output", "-o", help="The file to write (replaced whole, once all is gathered).")
    ],
    since: Annotated[str, typer.Option("--since", help=f"Start of the audit period: {ACCEPTED_FORMS}.")],
    until: Annotated[str, typer.Option("--until", help="End of the audit period (excluded); same forms.")],
    folder: FolderOption = None,
    stack: StackOption = None,
    bucket: BucketOption = None,
    prefix: PrefixOption = "",
    public_keys: Annotated[
        list[str] | None,
        typer.Option(
            "--public-keys",
            metavar="[REGION=]FILE|FOLDER",
            help="Saved `aws cloudtrail list-public-keys` output, as for verify (repeatable). Needed with "
            "--folder; with a bucket, CloudTrail's ListPublicKeys is asked instead.",
        ),
    ] = None,
    profile: Annotated[
        str | None,
        typer.Option(
            "--profile",
            metavar="|".join(PROFILES),
            help="Map the configuration checks to this standard's clauses. Default: the stack's profile, "
            "else none.",
            show_default=False,
        ),
    ] = None,
    trail: Annotated[
        str | None,
        typer.Option(
            "--trail",
            help="Check this live trail (name or ARN) for the configuration section (without --stack).",
        ),
    ] = None,
    region: Annotated[
        str | None,
        typer.Option("--region", help="--trail's home region (default: an ARN's own, else AWS_REGION)."),
    ] = None,
    account: Annotated[
        list[str] | None, typer.Option("--account", help="Only this account (repeatable).")
    ] = None,
    fmt: Annotated[
        str,
        typer.Option(
            "--format", "-f", metavar="html|json|md", help="html (one self-contained page), json or md."
        ),
    ] = "html",
    fail_on_findings: Annotated[
        bool,
        typer.Option(
            "--fail-on-findings", help="Exit with code 1 when a section FAILs (the report is written)."
        ),
    ] = False,
) -> None:
    """Write the evidence pack of an audit period: summary; logging continuity hour by hour per account and
    region, with every gap and the trail's own events; integrity (verify); configuration evidence (doctor's
    checks mapped to the profile's controls, retention); privileged and risky activity (root usage, IAM
    changes, sign-ins without MFA, failed sign-ins, denied bursts, unusual regions, high and critical hunt
    hits); charts.

    Exit code 0 when the report was written, whatever it found (--fail-on-findings: 1 when a section
    FAILs), 2 on bad input (written before any work), 3 when the source cannot be read.

    Example: audit-trail report --stack prod --since 2026-10-01 --until 2026-11-01 -o audit-2026-10.html
    Example (offline): audit-trail report --folder ./evidence --public-keys ./keys --since 2026-10-01
    --until 2026-11-01 --profile pci -o audit.html
    """
    from ..component.args import Profile
    from ..integrity.public_keys import CloudTrailKeys, KeyProvider, saved_keys
    from ..integrity.sources import open_source
    from ..report.gather import LiveTrail, Request, gather
    from ..report.render import Format, check_output, render, write_atomically
    from ..store import FolderStore

    check_output(output)
    try:
        chosen_format = Format(fmt)
    except ValueError:
        raise UserError(f"--format {fmt!r}: use html, json or md.") from None
    window_start, window_end = parse_time(since, "--since"), parse_time(until, "--until")
    if window_start >= window_end:
        raise UserError(
            f"--since {since} is not before --until {until}: give a period that starts before it ends."
        )
    chosen = None
    if profile is not None:
        if profile not in PROFILES:
            raise UserError(f"--profile {profile!r}: use one of {', '.join(PROFILES)}.")
        chosen = Profile(profile)
    check_accounts(account)
    check_regions([region] if region else None)
    if stack and trail:
        raise UserError("--stack and --trail both given: the stack names its trail; drop --trail.")
    keys: KeyProvider | None = saved_keys(public_keys, "--public-keys") if public_keys else None
    if keys is None and folder is not None:
        raise UserError(
            "--folder needs --public-keys: a folder holds no public keys. Save them online with "
            "`aws cloudtrail list-public-keys --region REGION --start-time START --output json > "
            "keys-REGION.json`, one file per region of the trail."
        )

    live = None
    profile_from = "--profile" if chosen else ""
    log_bucket = bucket
    if stack:
        from ..integrity.stack import deployed_stack

        deployed = deployed_stack(stack, instead="--bucket, --prefix, --trail and --region (or --folder)")
        log_bucket = str(deployed.outputs.get("bucketName") or "") or None
        settings = deployed.settings
        live = LiveTrail(deployed.trail_name, deployed.home_region, deployed.expectations(), settings)
        if chosen is None and settings is not None and settings.profile is not Profile.SEED:
            chosen, profile_from = settings.profile, f"stack {stack}'s config"
    elif trail:
        live = LiveTrail(trail, region)
    source = open_source(folder=folder, stack=stack, bucket=bucket, prefix=prefix)
    if isinstance(source.store, FolderStore):
        logs = str(folder)
    else:
        logs = f"s3://{source.store.bucket}/{source.prefix.strip('/')}".rstrip("/") + "/"
    accounts = frozenset(account) if account else source.accounts
    described = source.store.describe() + (f"/{source.prefix.strip('/')}" if source.prefix.strip("/") else "")
    sources = [f"stack {stack}: {described}" if stack else described]
    sources += [f"public keys: {k}" for k in public_keys or ()]
    request = Request(
        store=source.store,
        keys=keys or CloudTrailKeys(),
        logs=logs,
        since=window_start,
        until=window_end,
        sources=sources,
        command_line=_command_line(
            {
                "--folder": folder,
                "--stack": stack,
                "--bucket": bucket,
                "--prefix": prefix,
                "--public-keys": public_keys,
                "--since": since,
                "--until": until,
                "--profile": profile,
                "--trail": trail,
                "--region": region,
                "--account": account,
                "--format": fmt,
                "--fail-on-findings": fail_on_findings,
                "--output": output,
            }
        ),
        tool_version=_tool_version(),
        prefix=source.prefix,
        accounts=accounts,
        profile=chosen,
        profile_from=profile_from,
        trail=live,
        not_checked="no live trail to check: give --stack, or --trail NAME and AWS credentials",
        log_bucket=log_bucket,
    )
    with progress_line() as progress:
        evidence = gather(request, progress)
        data = render(evidence, chosen_format)
    write_atomically(output, data)
    note(f"Report written to {output} ({len(data):,} bytes).")
    for line in evidence.sections():
        note(f"{line.status:<11} {line.title}: {line.line}", style="red" if line.status == "FAIL" else "")
    if fail_on_findings and evidence.has_findings:
        raise typer.Exit(ExitCode.FINDINGS)


def register(app: typer.Typer) -> None:
    command(app, "report")(report)
