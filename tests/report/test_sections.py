"""Each fact planted in the trail shows in its section of the report, and each section's numbers are the
commands' own: `verify`, the canned questions, `query` and `hunt` on the same folder give the same rows."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from audit_trail.cli.app import app
from audit_trail.integrity.continuity import Coverage
from audit_trail.integrity.verify import Problem
from audit_trail.report.evidence import FAIL, NOT_CHECKED, PASS, Evidence, Table
from support.planted_trail import (
    DELETED_HOURS,
    DELETED_REGION,
    GAP_END,
    GAP_START,
    HOSTILE_AGENT,
    HOSTILE_USER,
    SINCE,
    UNTIL,
    Planted,
)
from typer.testing import CliRunner

WINDOW = ["--since", SINCE.isoformat(), "--until", UNTIL.isoformat()]


def command_json(*args: str) -> Any:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def table(evidence: Evidence, anchor: str) -> Table:
    return next(t for t in [*evidence.activity, evidence.trail_events] if t.anchor == anchor)


def ids(rows: list[dict[str, Any]]) -> set[str]:
    return {r["event_id"] for r in rows}


def test_the_logging_gap_shows_with_its_hours_and_the_calls_that_opened_and_closed_it(
    evidence: Evidence, planted: Planted
) -> None:
    for region in evidence.continuity:
        (off,) = [g for g in region.gaps if g.coverage is Coverage.RESTART]
        assert (off.start, off.end, off.hours) == (GAP_START, GAP_END, 3.0)
        beside = region.gap_events[region.gaps.index(off)]
        assert [e["event_id"] for e in beside] == [planted.stop_logging, planted.start_logging]
        assert region.hours[Coverage.RESTART] == 3.0
    # the trail's own events on the timeline: the planted stop and start, and mallory's denied attempts
    events = table(evidence, "trail-events")
    assert {planted.stop_logging, planted.start_logging} <= ids(events.rows)
    assert {r["action"] for r in events.rows if r["error_code"]} == {
        "cloudtrail:StopLogging",
        "cloudtrail:DeleteTrail",
    }
    assert evidence.continuity_status == FAIL


def test_two_deleted_digests_are_one_two_hour_gap_naming_both(evidence: Evidence, planted: Planted) -> None:
    (region,) = [r for r in evidence.continuity if r.region == DELETED_REGION]
    (missing,) = [g for g in region.gaps if g.coverage is Coverage.MISSING]
    assert (missing.start, missing.end, missing.hours) == (
        DELETED_HOURS[0],
        DELETED_HOURS[1] + timedelta(hours=1),
        2,
    )
    assert sorted(missing.digests) == sorted(planted.deleted_digests)
    assert region.hours[Coverage.MISSING] == 2
    others = [r for r in evidence.continuity if r.region != DELETED_REGION]
    assert all(r.hours[Coverage.MISSING] == 0 for r in others)


def test_integrity_names_the_modified_log_and_the_deleted_digests_by_key(
    evidence: Evidence, planted: Planted
) -> None:
    failures = {(f.problem, f.key) for f in evidence.verify.findings if f.result == "FAIL"}
    assert (Problem.LOG_MODIFIED, planted.modified_log) in failures
    assert {(Problem.DIGEST_MISSING, k) for k in planted.deleted_digests} <= failures
    undigested = [k for p, k in failures if p is Problem.UNDIGESTED]
    assert len(undigested) == 2 and all(DELETED_REGION in k for k in undigested)
    assert {s.anchor: s.status for s in evidence.sections()}["integrity"] == FAIL


def test_privileged_and_risky_activity_holds_each_planted_event(evidence: Evidence, planted: Planted) -> None:
    known = planted.known
    assert ids(table(evidence, "root-usage").rows) == known.root_events
    created = [r for r in table(evidence, "iam-changes").rows if r["action"] == "iam:CreateUser"]
    assert [(r["event_id"], r["resource"]) for r in created] == [(planted.created_user, HOSTILE_USER)]
    assert ids(table(evidence, "no-mfa-sign-ins").rows) == known.no_mfa_logins
    failed = table(evidence, "failed-sign-ins")
    assert ids(failed.rows) == known.failed_logins | {planted.hostile_sign_in}
    assert HOSTILE_AGENT in {r["user_agent"] for r in failed.rows}
    assert ids(table(evidence, "denied-calls").rows) == known.denied
    (burst, *_) = table(evidence, "denied-bursts").rows
    assert (burst["actor"], burst["denied"]) == ("mallory", 2)
    assert {r["actor"] for r in table(evidence, "unusual-regions").rows} == {"mallory"}
    hits = table(evidence, "hunt-hits")
    assert [(r["event_id"], r["rule"]) for r in hits.rows] == [
        (planted.flow_logs_deleted, "AWS VPC Flow Logs Deleted")
    ]
    statuses = {t.anchor: t.status for t in evidence.activity}
    assert statuses["root-usage"] == statuses["no-mfa-sign-ins"] == statuses["hunt-hits"] == FAIL
    assert evidence.activity_status == FAIL


def test_the_summary_has_a_line_per_section_and_says_what_was_not_checked(evidence: Evidence) -> None:
    summary = {s.anchor: s for s in evidence.sections()}
    assert list(summary) == ["continuity", "integrity", "configuration", "activity", "charts"]
    assert summary["configuration"].status == NOT_CHECKED
    assert "no live trail" in summary["configuration"].line
    assert "2 h without a valid digest" in summary["continuity"].line
    assert summary["charts"].status == PASS
    assert evidence.has_findings


def test_charts_count_every_record_of_the_period(evidence: Evidence, planted: Planted) -> None:
    per_region = command_json(
        "query",
        str(planted.root),
        *WINDOW,
        "--sql",
        "SELECT CAST(event_time AS DATE)::VARCHAR AS day, aws_region, count(*) AS n FROM events GROUP BY ALL",
        "-f",
        "json",
    )
    expected: dict[str, dict[str, int]] = {}
    for row in per_region:
        expected.setdefault(row["day"], {})[row["aws_region"]] = row["n"]
    assert evidence.charts.per_day == expected
    assert evidence.charts.records == sum(row["n"] for row in per_region)
    actors = command_json(
        "query", str(planted.root), *WINDOW, "--sql", "SELECT actor, count(*) AS n FROM events GROUP BY 1",
        "-f", "json",
    )  # fmt: skip
    top = sorted(((r["actor"], r["n"]) for r in actors), key=lambda a: (-a[1], a[0]))[:10]
    assert sorted(evidence.charts.top_actors, key=lambda a: (-a[1], a[0])) == top


# --- the same answers as the commands ---------------------------------------------------------------------


def test_integrity_and_continuity_are_verify_s_own_answer(evidence: Evidence, planted: Planted) -> None:
    verified = command_json(
        "verify", "--folder", str(planted.root), "--public-keys", str(planted.keys), *WINDOW, "-f", "json"
    )
    mine = json.loads(json.dumps(evidence.verify.to_dict(), default=str))
    assert mine["findings"] == verified["findings"]
    assert mine["regions"] == verified["regions"]
    gaps = {(r["account"], r["region"]): r["gaps"] for r in verified["regions"]}
    for region in evidence.continuity:
        shown = [{k: v for k, v in g.row().items()} for g in region.gaps]
        assert shown == gaps[(region.account, region.region)]


@pytest.mark.parametrize(
    ("anchor", "command"),
    [
        ("root-usage", ["root-usage"]),
        ("iam-changes", ["query", "--action", "iam.amazonaws.com:*", "--write-only"]),
        ("denied-calls", ["denied"]),
    ],
)
def test_event_lists_are_the_commands_rows(
    evidence: Evidence, planted: Planted, anchor: str, command: list[str]
) -> None:
    rows = command_json(command[0], str(planted.root), *command[1:], *WINDOW, "-f", "json")
    assert [r["event_id"] for r in table(evidence, anchor).rows] == [r["event_id"] for r in rows]
    assert table(evidence, anchor).total == len(rows)


def test_sign_ins_are_failed_logins_rows_split_by_finding(evidence: Evidence, planted: Planted) -> None:
    rows = command_json("failed-logins", str(planted.root), *WINDOW, "-f", "json")
    no_mfa = [r["event_id"] for r in rows if r["finding"] == "signed in without MFA"]
    failed = [r["event_id"] for r in rows if r["finding"] == "failed sign-in"]
    assert [r["event_id"] for r in table(evidence, "no-mfa-sign-ins").rows] == no_mfa
    assert [r["event_id"] for r in table(evidence, "failed-sign-ins").rows] == failed


def test_unusual_regions_are_the_command_s_with_the_regions_the_account_uses(
    evidence: Evidence, planted: Planted
) -> None:
    expected = ["--expected", "eu-west-1", "--expected", "us-east-1", "--expected", "us-west-2"]
    rows = command_json("unusual-regions", str(planted.root), *expected, *WINDOW, "-f", "json")
    assert table(evidence, "unusual-regions").rows == rows
    # and the share-based default of the command agrees (the account's regions hold over 1% each)
    assert command_json("unusual-regions", str(planted.root), *WINDOW, "-f", "json") == rows


def test_hunt_hits_are_the_hunt_s_at_high_and_above(evidence: Evidence, planted: Planted) -> None:
    rows = command_json("hunt", str(planted.root), "--min-level", "high", *WINDOW, "-f", "json")
    assert [(r["event_id"], r["rule_id"]) for r in rows] == [
        (r["event_id"], rule["rule_id"])
        for r in table(evidence, "hunt-hits").rows
        for rule in evidence.hunt_rules
        if rule["rule"] == r["rule"]
    ]
