"""Gather the evidence of one period: `verify_logs` (continuity and integrity), `run_doctor` (configuration),
the canned questions through `ask` and `hunt` (activity), one counting pass (charts). Nothing is written
here: the caller writes the file once everything is gathered.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ..aws_errors import error_code
from ..cloudtrail_layout import account_prefix
from ..component.args import Profile
from ..component.settings import AuditTrailSettings
from ..errors import AuditTrailError
from ..integrity.continuity import Coverage, Period
from ..integrity.doctor import Expectations, Status, run_doctor
from ..integrity.lifecycle import expiry_days
from ..integrity.public_keys import KeyProvider
from ..integrity.verify import RegionResult, VerifyReport, not_judged, verify_logs
from ..investigate.ask import ask
from ..investigate.sources import LogFile, list_log_files
from ..investigate.spool import spooled
from ..queries.questions import Question
from ..store import Store
from ..window import Window
from . import activity, controls
from .evidence import (
    FAIL,
    PASS,
    Configuration,
    ControlRow,
    Evidence,
    RegionContinuity,
    Retention,
    Run,
    Table,
    worst,
)
from .tally import expected_regions, tally

Progress = Callable[[str], None]
EDGE = timedelta(hours=1)
"""Trail events this close to a gap's start or end are shown beside it (StopLogging just before, StartLogging
just after)."""


@dataclass(frozen=True)
class LiveTrail:
    """The trail `doctor` checks: its name or ARN, home region and what its stack configures."""

    name: str
    region: str | None
    expectations: Expectations = field(default_factory=Expectations)
    settings: AuditTrailSettings | None = None


@dataclass(frozen=True)
class Request:
    store: Store
    """Where `verify` reads digests and log files."""
    keys: KeyProvider
    logs: str
    """What the questions and the hunt read: the same folder, or `s3://bucket/prefix/`."""
    since: datetime
    until: datetime
    sources: list[str]
    command_line: list[str]
    tool_version: str
    prefix: str = ""
    accounts: frozenset[str] | None = None
    profile: Profile | None = None
    profile_from: str = ""
    trail: LiveTrail | None = None
    not_checked: str = "no live trail named (--stack, or --trail)"
    log_bucket: str | None = None
    now: datetime | None = None
    session: Any = None
    workers: int | None = None


def gather(request: Request, progress: Progress | None = None) -> Evidence:
    say = progress or (lambda text: None)
    r = request
    now = r.now or datetime.now(UTC)
    window = Window(r.since, r.until, accounts=r.accounts)
    listed = list_log_files(r.logs, window)
    if r.logs.startswith("s3://"):
        say(f"downloading the {len(listed)} log files once")
    with spooled(listed, r.store) as spool:  # every step reads the same bytes, each S3 object once
        say("verifying the digest chain and the log files")
        verified = verify_logs(
            spool.store, r.keys, r.since, r.until, prefix=r.prefix, accounts=r.accounts, now=now
        )
        later = _late_deliveries(spool.store, r, window, now)
        files, unjudged = judged_files(spool.files, verified, spool.store, later)
        say(f"counting the records of {len(files)} log files")
        charts, scanned = tally(files, window, r.workers)

        def answer(question: Question) -> Iterator[dict[str, Any]]:
            say(f"asking: {question.title}")
            return ask(question, source=r.logs, window=window, files=files).stream()  # listed once

        trail_events = activity.trail_events(answer, r.log_bucket)
        tables = activity.activity(answer, expected_regions(charts))
        say("hunting with the high and critical Sigma rules")
        hits, hunt_rules = activity.hunt_hits(files, window)
    configuration = None
    if r.trail is not None:
        say(f"checking the live trail {r.trail.name}")
        configuration = check_configuration(r.trail, r.profile, r.session)
    return Evidence(
        tool_version=r.tool_version,
        command_line=r.command_line,
        produced_at=now,
        since=r.since,
        until=r.until,
        sources=r.sources,
        profile=r.profile.value if r.profile else None,
        profile_from=r.profile_from,
        verify=verified,
        continuity=continuity(verified, trail_events),
        trail_events=trail_events,
        configuration=configuration,
        configuration_skipped="" if configuration else r.not_checked,
        activity=[*tables, hits],
        hunt_rules=hunt_rules,
        charts=charts,
        scan_notes=[*([spool.note] if spool.note else []), *_unjudged_note(unjudged), *scanned.summary()],
    )


def judged_files(
    files: Sequence[LogFile], verified: VerifyReport, store: Store, later: VerifyReport | None = None
) -> tuple[list[LogFile], list[LogFile]]:
    """FILES split into those VERIFIED has a verdict on or LATER vouches for, which the report reads, and the
    others (`verify.not_judged`): an intruder who can write to the bucket but cannot sign could plant events
    in one of those that an Integrity PASS would then vouch for."""
    left = set(not_judged(verified, store, (f.location for f in files), later))
    return [f for f in files if f.location not in left], [f for f in files if f.location in left]


def _late_deliveries(store: Store, r: Request, window: Window, now: datetime) -> VerifyReport | None:
    """`verify` of the hours after the period whose day folders its questions over WINDOW read, up to NOW:
    what proves a file delivered more than an hour late (CloudTrail's delivery is not guaranteed), or not
    yet listed in a digest that is not due. Only its verdicts on those files are used: the period's
    continuity and integrity are the period's own run."""
    _, last_day = window.day_range()
    if last_day is None:
        return None
    end = min(now, datetime.combine(last_day + timedelta(days=1), datetime.min.time(), UTC))
    if end <= r.until:
        return None
    try:
        return verify_logs(store, r.keys, r.until, end, prefix=r.prefix, accounts=r.accounts, now=now)
    except AuditTrailError:  # no public key saved for those hours, say: the late files are left out, counted
        return None


def _unjudged_note(left: Sequence[LogFile]) -> list[str]:
    if not left:
        return []
    return [
        f"{len(left)} log files in the window's folders were not read: no digest of the window lists "
        "them, and they are named for hours outside it (or filed outside CloudTrail's day folders), so "
        "nothing proves their events; verify the period they are named for to judge them."
    ]


# --- continuity ------------------------------------------------------------------------------------------


def runs(timeline: list[Period]) -> list[Run]:
    """The timeline as runs of one coverage (an hour-by-hour timeline of a month is 720 periods)."""
    merged: list[Run] = []
    for p in timeline:
        last = merged[-1] if merged else None
        if last is not None and last.coverage is p.coverage and last.end == p.start:
            merged[-1] = Run(last.start, p.end, p.coverage)
        else:
            merged.append(Run(p.start, p.end, p.coverage))
    return merged


def _near(events: Table, start: datetime, end: datetime) -> list[dict[str, Any]]:
    lo, hi = start - EDGE, end + EDGE
    return [e for e in events.rows if lo <= datetime.fromisoformat(e["event_time"]) <= hi]


def region_continuity(result: RegionResult, events: Table) -> RegionContinuity:
    gaps = result.gaps
    return RegionContinuity(
        account=result.account,
        region=result.region,
        runs=runs(result.timeline),
        gaps=gaps,
        hours={k: result.hours(k) for k in Coverage},
        gap_events=[_near(events, g.start, g.end) for g in gaps],
    )


def continuity(verified: VerifyReport, events: Table) -> list[RegionContinuity]:
    return [region_continuity(r, events) for r in verified.regions if r.timeline]


# --- configuration ---------------------------------------------------------------------------------------


def check_configuration(trail: LiveTrail, profile: Profile | None, session: Any = None) -> Configuration:
    import boto3  # type: ignore[import-untyped]

    session = session or boto3.session.Session()
    checks = run_doctor(trail.name, trail.region, trail.expectations, session)
    by_name = {c.check: c for c in checks}
    arn = by_name["trail exists"].detail if by_name["trail exists"].status is Status.PASS else ""
    region = arn.split(":")[3] if arn else trail.region or session.region_name or ""
    check_clauses = {c.check: [cl for cl, _ in controls.clauses_of_check(profile, c.check)] for c in checks}
    rows: list[ControlRow] = []
    retention = None
    if profile is not None:
        configured = controls.configured(profile, trail.settings)
        for clause, text in controls.profile_clauses(profile):
            mapped = [c for c in checks if clause in check_clauses[c.check]]
            settings = configured.get(clause, [])
            statuses = [c.status.name for c in mapped]
            statuses += [FAIL if "(violates" in v else PASS for v in settings]
            rows.append(
                ControlRow(
                    clause, text, [f"{c.check}: {c.status.name}" for c in mapped], settings, worst(statuses)
                )
            )
        required = controls.REQUIRED_RETENTION.get(profile)
        if required is not None:
            days, (clause, text) = required
            in_force = _retention_in_force(arn, region, trail.expectations, session)
            retention = Retention(*in_force, days, clause, text)
    return Configuration(arn or trail.name, region, checks, check_clauses, rows, retention)


def _retention_in_force(arn: str, region: str, expect: Expectations, session: Any) -> tuple[int | None, str]:
    """Days after which the bucket's lifecycle expires the trail's log files, read as `doctor` reads the
    rules (`lifecycle.expiry_days`), and in words: None when no rule expires them, or when there is no
    trail or bucket to read them from."""
    if not arn:
        return None, "unknown: the trail does not exist"
    info = session.client("cloudtrail", region_name=region).get_trail(Name=arn)["Trail"]
    s3 = session.client("s3", region_name=region)
    try:
        rules = s3.get_bucket_lifecycle_configuration(Bucket=info["S3BucketName"])["Rules"]
    except Exception as exc:
        if error_code(exc) == "NoSuchLifecycleConfiguration":
            rules = []
        elif error_code(exc) in ("NoSuchBucket", "404"):
            return None, "unknown: the trail's bucket does not exist"
        else:
            raise
    prefix = info.get("S3KeyPrefix") or "" if expect.s3_key_prefix is None else expect.s3_key_prefix
    folders = [account_prefix(prefix, arn.split(":")[4])]
    if expect.organization_id:
        folders.append(account_prefix(prefix, expect.organization_id))
    days = expiry_days(rules, folders)
    return days, "no expiry rule: kept until deleted" if days is None else f"{days} days"
