"""`audit-trail verify` (digest-chain validation of the logs) and `audit-trail doctor` (live trail health)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..component.args import ReadWriteType
from ..errors import ExitCode, UserError
from ..store import FolderStore
from ..times import ACCEPTED_FORMS, parse_time
from .options import check_accounts, check_regions, command
from .output import FormatOption, LimitOption, OutputFormat, json_document, note, render

if TYPE_CHECKING:
    from ..integrity.public_keys import KeyProvider
    from ..integrity.sources import Source
    from ..integrity.verify import VerifyReport

# The integrity libraries load cryptography and botocore: each command imports them when it runs, so the
# other commands' start-up does not pay for them.

StackOption = Annotated[
    str | None,
    typer.Option("--stack", "-s", help="Read the trail and bucket from this deployed stack's outputs."),
]
FolderOption = Annotated[
    Path | None, typer.Option("--folder", help="A folder `audit-trail fetch` wrote (offline audit).")
]
BucketOption = Annotated[str | None, typer.Option("--bucket", help="The trail's S3 bucket.")]
PrefixOption = Annotated[str, typer.Option("--prefix", help="The trail's S3 key prefix (before AWSLogs/).")]


def verify(
    folder: FolderOption = None,
    stack: StackOption = None,
    bucket: BucketOption = None,
    prefix: PrefixOption = "",
    public_keys: Annotated[
        list[str] | None,
        typer.Option(
            "--public-keys",
            metavar="[REGION=]FILE|FOLDER",
            help="Saved `aws cloudtrail list-public-keys --region REGION --output json`, one per region: "
            "REGION=FILE, a FILE named for its region (keys-eu-west-1.json), or a FOLDER of such files "
            "(repeatable). Needed with --folder; with a bucket, CloudTrail's ListPublicKeys is asked "
            "instead.",
        ),
    ] = None,
    since: Annotated[str, typer.Option("--since", help=f"Window start: {ACCEPTED_FORMS}.")] = "24h",
    until: Annotated[str | None, typer.Option("--until", help="Window end (default: now).")] = None,
    account: Annotated[
        list[str] | None, typer.Option("--account", help="Only this account (repeatable).")
    ] = None,
    region: Annotated[
        list[str] | None,
        typer.Option("--region", help="Only this region (repeatable); one with no digests at all FAILs."),
    ] = None,
    fmt: FormatOption = OutputFormat.table,
    limit: LimitOption = None,
) -> None:
    """Prove the trail's log files are intact: digest signatures, the digest chain, a digest for every hour,
    every log file's hash, no log file outside the digests.

    Exit code 0 when everything in the window is valid (hours whose digest is not due yet are reported as
    pending), 1 on any modified, deleted, unexpected or undigested file, missing or forged digest or broken
    chain, 2 on bad input (including no --public-keys for a region), 3 when the bucket cannot be read.

    Example: audit-trail verify --stack prod --since 7d
    Example (offline): audit-trail verify --folder ./evidence --public-keys ./keys --since 2026-11-01
    """
    from ..integrity.public_keys import CloudTrailKeys, saved_keys
    from ..integrity.sources import open_source
    from ..integrity.verify import verify_logs

    check_accounts(account)
    check_regions(region)
    window_start = parse_time(since, "--since")
    window_end = parse_time(until, "--until") if until else datetime.now(UTC)
    keys: KeyProvider | None = saved_keys(public_keys, "--public-keys") if public_keys else None
    source = open_source(folder=folder, stack=stack, bucket=bucket, prefix=prefix)
    if keys is None:
        if isinstance(source.store, FolderStore):
            raise UserError(
                "--folder needs --public-keys: a folder holds no public keys. Save them online with "
                "`aws cloudtrail list-public-keys --region REGION --start-time START --output json > "
                "keys-REGION.json`, one file per region of the trail."
            )
        keys = CloudTrailKeys()
    report = verify_logs(
        source.store,
        keys,
        window_start,
        window_end,
        prefix=source.prefix,
        accounts=set(account) if account else source.accounts,
        regions=set(region) if region else None,
    )
    findings = [f.row() for f in report.findings]
    finding_columns = ["result", "problem", "account", "region", "key", "detail"]
    if fmt is OutputFormat.json:
        json_document(report.to_dict())
    elif fmt is OutputFormat.csv:
        render(findings, fmt, columns=finding_columns, limit=limit)
    else:
        title = "Digest validation per account and region"
        render([r.brief() for r in report.regions], fmt, title=title, limit=0)
        if findings:
            render(findings, fmt, columns=finding_columns, title="Findings", count="findings", limit=limit)
        typer.echo(report.summary())
    _say_what_questions_also_read(source, report, account, region)
    if not report.ok:
        raise typer.Exit(ExitCode.FINDINGS)


def _say_what_questions_also_read(
    source: Source, report: VerifyReport, account: list[str] | None, region: list[str] | None
) -> None:
    """A line on stderr when a question over the window would read files this run has no verdict on (the
    day after the window, and its first day's earlier hours, hold late deliveries): the PASS is not theirs."""
    from ..integrity.verify import not_judged
    from ..investigate.sources import list_log_files
    from ..window import Window

    window = Window(
        report.since,
        report.until,
        regions=frozenset(region) if region else None,
        accounts=frozenset(account) if account else source.accounts,
    )
    where = source.store.location(source.prefix.strip("/"))
    files = list_log_files(where, window, client=getattr(source.store, "client", None))
    left = not_judged(report, source.store, (f.location for f in files))
    if left:
        note(
            f"{len(left)} log files that a question over this window also reads (the day folder after it, "
            "or its first day's earlier hours, for late deliveries) are not judged here; `report` verifies "
            "the hours after its period too. To judge them, verify a window a day longer, from midnight UTC."
        )


def doctor(
    stack: StackOption = None,
    trail: Annotated[str | None, typer.Option("--trail", help="Trail name or ARN (without --stack).")] = None,
    region: Annotated[
        str | None,
        typer.Option("--region", help="The trail's home region (default: an ARN's own, else AWS_REGION)."),
    ] = None,
    retention_days: Annotated[
        int | None,
        typer.Option("--retention-days", min=1, help="Expected log expiry (default: the stack's)."),
    ] = None,
    read_write_type: Annotated[
        str | None,
        typer.Option("--read-write-type", help="Expected management events: All, ReadOnly, WriteOnly."),
    ] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Exit with code 1 on a WARN too.")] = False,
    fmt: FormatOption = OutputFormat.table,
    limit: LimitOption = None,
) -> None:
    """Check the live trail: logging, deliveries, validation, selectors, the bucket, its policy (who outside
    the account may touch the logs) and settings, lifecycle rules that delete logs early, KMS.

    One row per check with PASS / WARN / FAIL and a fix. Exit code 1 on any FAIL (and on a WARN with
    --strict), 0 otherwise, 2 on bad input, 3 when AWS cannot be asked (credentials, network, access).

    Example: audit-trail doctor --stack prod
    Example: audit-trail doctor --trail account-activity-trail --region eu-west-1 --retention-days 365
    """
    from ..integrity.doctor import Expectations, Status, run_doctor, worst

    check_regions([region] if region else None)
    home_region: str | None
    if stack:
        from ..integrity.stack import deployed_stack

        deployed = deployed_stack(stack)
        trail_name, home_region, expect = deployed.trail_name, deployed.home_region, deployed.expectations()
    elif trail:
        trail_name, home_region, expect = trail, region, Expectations()
    else:
        raise UserError("doctor needs --stack STACK, or --trail NAME --region REGION.")
    home_region = region or home_region
    accepted = [t.value for t in ReadWriteType]
    if read_write_type is not None and read_write_type not in accepted:
        raise UserError(f"--read-write-type {read_write_type!r}: accepted values are {', '.join(accepted)}.")
    expect = replace(
        expect,
        retention_days=retention_days or expect.retention_days,
        read_write_type=read_write_type or expect.read_write_type,
    )
    checks = run_doctor(trail_name, home_region, expect)
    render([c.row() for c in checks], fmt, title=f"Trail health: {trail_name}", limit=limit)
    status = worst(checks)
    if fmt is OutputFormat.table:
        counts = {s: sum(c.status.name == s for c in checks) for s in ("PASS", "WARN", "FAIL")}
        typer.echo(f"{counts['PASS']} PASS, {counts['WARN']} WARN, {counts['FAIL']} FAIL: {status.name}")
    if status is Status.FAIL or (strict and status is Status.WARN):
        raise typer.Exit(ExitCode.FINDINGS)


def register(app: typer.Typer) -> None:
    command(app, "verify")(verify)
    command(app, "doctor")(doctor)
