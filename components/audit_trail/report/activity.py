"""Section 5 and the trail's own events: each list is a canned question (or `query` filters) answered by the
same `ask` the commands call, or the same `hunt`, so a report and the command give the same rows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from ..hunt.findings import SigmaHits, hunt
from ..investigate.sources import LogFile
from ..queries import filters as f
from ..queries import questions as q
from ..window import Window
from .evidence import Table

TRAIL_EVENTS = (
    "CreateTrail",
    "DeleteTrail",
    "UpdateTrail",
    "StopLogging",
    "StartLogging",
    "PutEventSelectors",
    "PutInsightSelectors",
)
"""Calls that change what the trail records (CloudTrail API reference: the trail's own actions)."""
BUCKET_EVENTS = (
    "PutBucketPolicy",
    "DeleteBucketPolicy",
    "PutBucketLifecycle",
    "DeleteBucketLifecycle",
    "PutBucketVersioning",
)
"""Calls that change who may touch the log bucket and how long it keeps the logs (S3 logs
PutBucketLifecycleConfiguration as `PutBucketLifecycle`)."""
IAM_ACTIONS = "iam.amazonaws.com:*"
HUNT_LEVEL = "high"
"""Hunt hits the report lists: high and critical (the rest is `audit-trail hunt`)."""
BURST_WINDOW = "hour"

EVENT_COLUMNS = (
    "event_time",
    "actor",
    "identity_type",
    "action",
    "resource",
    "aws_region",
    "source_ip",
    "user_agent",
    "error_code",
    "event_id",
)
SIGN_IN_COLUMNS = (
    "event_time",
    "actor",
    "identity_type",
    "source_ip",
    "user_agent",
    "error_message",
    "event_id",
)
HIT_COLUMNS = ("event_time", "level", "rule", "who", "action", "source_ip", "region", "event_id", "author")

Ask = Callable[[q.Question], Iterable[dict[str, Any]]]


@dataclass(frozen=True)
class EventNames(f.Filter):
    """`eventName` is one of NAMES. A file holds a match only if it holds one of the names literally."""

    names: tuple[str, ...]

    def sql(self) -> str:
        return f"event_name IN {f.sql_list(self.names)}"

    def test(self, row: f.Row) -> bool:
        return row.get("event_name") in self.names

    def needles(self) -> tuple[bytes, ...]:
        return tuple(name.encode() for name in self.names)


def trail_events_question() -> q.Question:
    question = q.events().with_filters(EventNames(TRAIL_EVENTS + BUCKET_EVENTS))
    return replace(question, title="Trail and log bucket changes")


def iam_changes_question() -> q.Question:
    """`audit-trail query --action 'iam.amazonaws.com:*' --write-only`."""
    return replace(q.events().with_filters(f.Action(IAM_ACTIONS), f.WriteOnly()), title="IAM changes")


def _bucket_of(row: dict[str, Any]) -> str | None:
    request = row.get("request_parameters")
    name = request.get("bucketName") if isinstance(request, dict) else None
    return name if isinstance(name, str) else None


def trail_events(answer: Ask, log_bucket: str | None) -> Table:
    """The trail's own changes, and the log bucket's (every bucket's when the log bucket is not known)."""
    table = Table(
        "trail-events",
        "Trail and log bucket changes",
        EVENT_COLUMNS,
        about=f"eventName in {', '.join(TRAIL_EVENTS + BUCKET_EVENTS)}"
        + (f"; bucket calls on s3://{log_bucket} only" if log_bucket else "; bucket calls on any bucket"),
    )
    for row in answer(trail_events_question()):
        if log_bucket and row["action"].split(":")[-1] in BUCKET_EVENTS and _bucket_of(row) != log_bucket:
            continue
        table.add(_event(row))
    return table


def _event(row: dict[str, Any]) -> dict[str, Any]:
    return {c: row.get(c) for c in (*EVENT_COLUMNS, "request_parameters")}


def _listed(question: q.Question, answer: Ask, anchor: str, columns: tuple[str, ...], **kw: Any) -> Table:
    table = Table(anchor, question.title, columns, **kw)
    for row in answer(question):
        table.add({c: row.get(c) for c in columns})
    return table


def sign_ins(answer: Ask) -> tuple[Table, Table]:
    """`failed-logins`, split into its two findings: signed in without MFA, and failed sign-ins."""
    no_mfa = Table(
        "no-mfa-sign-ins",
        "Console sign-ins without MFA",
        SIGN_IN_COLUMNS,
        finding=True,
        about="`audit-trail failed-logins`, rows `signed in without MFA` (CIS 4.2)",
    )
    failed = Table(
        "failed-sign-ins",
        "Failed console sign-ins",
        SIGN_IN_COLUMNS,
        about="`audit-trail failed-logins`, rows `failed sign-in`",
    )
    for row in answer(q.failed_logins()):
        (no_mfa if row["finding"] == "signed in without MFA" else failed).add(
            {c: row.get(c) for c in SIGN_IN_COLUMNS}
        )
    return no_mfa, failed


def denied(answer: Ask) -> tuple[Table, Table]:
    """`denied`, and its bursts: the denied calls of each actor in each hour, most first."""
    calls = Table(
        "denied-calls",
        "Denied calls",
        EVENT_COLUMNS,
        about="`audit-trail denied` (CIS 4.1: *UnauthorizedOperation, AccessDenied*)",
    )
    per_hour: Counter[tuple[str, str]] = Counter()
    actions: dict[tuple[str, str], Counter[str]] = {}
    for row in answer(q.denied()):
        calls.add({c: row.get(c) for c in EVENT_COLUMNS})
        key = (str(row.get("actor") or ""), str(row["event_time"])[:13] + ":00Z")
        per_hour[key] += 1
        actions.setdefault(key, Counter())[str(row.get("action"))] += 1
    bursts = Table(
        "denied-bursts",
        "Denied bursts (per actor and hour)",
        ("actor", BURST_WINDOW, "denied", "actions"),
        about="the rows of `audit-trail denied`, counted per actor and hour",
    )
    for (actor, hour), n in sorted(per_hour.items(), key=lambda item: (-item[1], item[0])):
        top = ", ".join(f"{a} ({k})" for a, k in actions[(actor, hour)].most_common(5))
        bursts.add({"actor": actor, BURST_WINDOW: hour, "denied": n, "actions": top})
    return bursts, calls


def unusual_regions(answer: Ask, expected: tuple[str, ...]) -> Table:
    """`unusual-regions --expected R...` with R the regions holding at least `SHARE` of the records."""
    question = q.unusual_regions(expected) if expected else q.unusual_regions()
    columns = ("aws_region", "actor", "events", "first_seen", "last_seen", "actions", "source_ips")
    return _listed(
        question,
        answer,
        "unusual-regions",
        columns,
        about="`audit-trail unusual-regions "
        + (" ".join(f"--expected {r}" for r in expected) if expected else "")
        + "`: the expected regions are those holding at least 1% of the period's records",
    )


def activity(answer: Ask, expected_regions: tuple[str, ...]) -> list[Table]:
    root = _listed(
        q.root_usage(),
        answer,
        "root-usage",
        EVENT_COLUMNS,
        finding=True,
        about="`audit-trail root-usage` (CIS 4.3)",
    )
    iam = _listed(
        iam_changes_question(),
        answer,
        "iam-changes",
        EVENT_COLUMNS,
        about="`audit-trail query --action 'iam.amazonaws.com:*' --write-only`: users, keys, policies, roles",
    )
    no_mfa, failed = sign_ins(answer)
    bursts, calls = denied(answer)
    return [root, iam, no_mfa, failed, bursts, calls, unusual_regions(answer, expected_regions)]


def hunt_hits(files: list[LogFile], window: Window) -> tuple[Table, list[dict[str, Any]]]:
    """The high and critical hits of the shipped Sigma rules (`audit-trail hunt --min-level high`), and the
    per-rule summary (with each rule's author, as the Detection Rule License asks)."""
    table = Table(
        "hunt-hits",
        "Hunt hits, high and critical",
        HIT_COLUMNS,
        finding=True,
        about=f"`audit-trail hunt --min-level {HUNT_LEVEL}`: the SigmaHQ CloudTrail rules it ships",
    )
    with hunt(files, SigmaHits(min_level=HUNT_LEVEL), f.window_filters(window)) as result:
        for row in result.hits():
            table.add({c: row.get(c) for c in HIT_COLUMNS})
        summary = [{k: v for k, v in row.items() if k != "rank"} for row in result.summary]
    return table, summary
