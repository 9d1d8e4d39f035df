"""Each canned question's answer: on the generator's planted incident (known answers) and on real records."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from audit_trail.investigate.answer import Answer
from audit_trail.investigate.local import answer
from audit_trail.investigate.sample_logs import USUAL_REGIONS, KnownAnswers
from audit_trail.queries import filters as f
from audit_trail.queries import questions as q
from audit_trail.window import Window
from support.logs import report_of, write_generated, write_real_folder


@pytest.fixture(scope="module")
def generated(generated_trail: tuple[Path, KnownAnswers]) -> tuple[str, KnownAnswers]:
    root, known = generated_trail
    return str(root), known


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, list[dict[str, Any]]]:
    root = tmp_path_factory.mktemp("real")
    return str(root), write_real_folder(root)


def ids(result: Answer) -> set[str]:
    return {r["event_id"] for r in result.rows}


def ask(source: str, question: q.Question, window: Window | None = None) -> Answer:
    return answer(source, question, window or Window())


# --- the planted incident -------------------------------------------------------------------------------


def test_who_changed_lists_the_creation_and_the_intruders_rule_not_the_reads(generated) -> None:
    source, known = generated
    result = ask(source, q.who_changed(known.target_group))
    assert ids(result) == known.group_changes
    assert not ids(result) & known.group_reads
    assert [(r["actor"], r["action"]) for r in result.rows] == [
        ("alice", "ec2:CreateSecurityGroup"),
        ("mallory", "ec2:AuthorizeSecurityGroupIngress"),
    ]
    assert result.rows[1]["source_ip"] == known.intruder_ip


@pytest.mark.parametrize("who", ["mallory", "AKIAEXAMPLEMALLORY01", "arn:aws:iam::123456789012:user/mallory"])
def test_activity_finds_every_event_of_the_actor_by_any_identifier(generated, who: str) -> None:
    source, known = generated
    result = ask(source, q.activity(who))
    assert sum(r["events"] for r in result.rows) == len(known.intruder_events)
    # One row per instance launched: grouped by the resource each call created.
    runs = [r for r in result.rows if r["action"] == "ec2:RunInstances"]
    assert sorted(r["resource"] for r in runs) == [f"i-0mallory{m:08d}" for m in (6, 7, 8)]
    assert {(r["events"], tuple(r["regions"]), tuple(r["source_ips"])) for r in runs} == {
        (1, ("ap-northeast-1",), (known.intruder_ip,))
    }
    assert min(r["first_seen"] for r in result.rows) < max(r["last_seen"] for r in result.rows)
    denied = [r for r in result.rows if r["errors"]]
    assert {r["action"] for r in denied} == {"cloudtrail:StopLogging", "cloudtrail:DeleteTrail"}


def test_activity_by_role_session(generated) -> None:
    source, _ = generated
    by_session = ask(source, q.activity("ci-deployer/github-actions"))
    by_role = ask(source, q.activity("arn:aws:iam::123456789012:role/ci-deployer"))
    assert by_session.rows and by_session.rows == by_role.rows


def test_root_usage(generated) -> None:
    source, known = generated
    assert ids(ask(source, q.root_usage())) == known.root_events


def test_failed_logins_and_sign_ins_without_mfa(generated) -> None:
    source, known = generated
    result = ask(source, q.failed_logins())
    assert ids(result) == known.failed_logins | known.no_mfa_logins
    findings = {r["event_id"]: r["finding"] for r in result.rows}
    assert {findings[i] for i in known.failed_logins} == {"failed sign-in"}
    assert {findings[i] for i in known.no_mfa_logins} == {"signed in without MFA"}


def test_denied_covers_both_error_code_forms(generated) -> None:
    source, known = generated
    result = ask(source, q.denied())
    assert ids(result) == known.denied
    assert {r["error_code"] for r in result.rows} == {"AccessDenied", "Client.UnauthorizedOperation"}


def test_deletions(generated) -> None:
    source, known = generated
    assert ids(ask(source, q.deletions())) == known.deletions


def test_unusual_regions_by_share_and_by_expected_list(generated) -> None:
    source, known = generated
    for question in (q.unusual_regions(), q.unusual_regions(USUAL_REGIONS)):
        rows = ask(source, question).rows
        assert [(r["aws_region"], r["actor"], r["events"]) for r in rows] == [
            ("ap-northeast-1", "mallory", len(known.unusual_region))
        ]


def test_query_filters_combine(generated) -> None:
    source, known = generated
    question = q.events().with_filters(f.Actor("mallory"), f.Action("ec2:*"), f.WriteOnly())
    rows = ask(source, question).rows
    assert [r["action"] for r in rows] == ["ec2:RunInstances"] * 3 + [
        "ec2:AuthorizeSecurityGroupIngress",
        "ec2:TerminateInstances",
    ]
    assert ids(ask(source, q.events().with_filters(f.Errors()))) == known.errors
    assert ids(ask(source, q.events().with_filters(f.SourceIp("203.0.113.*")))) == known.intruder_events


def test_time_window_and_region_narrow_files_and_rows(generated) -> None:
    source, known = generated
    window = Window(
        since=datetime(2026, 3, 3, 3, 5, tzinfo=UTC),
        until=datetime(2026, 3, 3, 3, 11, tzinfo=UTC),
        regions=frozenset({"ap-northeast-1"}),
    )
    result = ask(source, q.events(), window)
    assert [r["action"] for r in result.rows] == ["ec2:RunInstances"] * 3
    # One region, the window's day plus a day of delivery slack: never the whole trail.
    assert 0 < report_of(result).files_listed <= 2 < known.log_files


def test_events_late_in_a_day_are_found_in_the_next_days_folder(tmp_path: Path) -> None:
    known = write_generated(tmp_path, events=600, days=2, files_per_day=2)
    last = datetime(2026, 3, 3, 23, 59, 59, tzinfo=UTC)
    window = Window(since=datetime(2026, 3, 3, 12, tzinfo=UTC), until=last)
    rows = ask(str(tmp_path), q.events(), window).rows
    everything = ask(str(tmp_path), q.events()).rows
    expected = [r for r in everything if "2026-03-03T12:00:00Z" <= r["event_time"] < "2026-03-03T23:59:59Z"]
    assert rows == expected and len(rows) > 100
    assert known.total_events == len(everything)


# --- real records (TrailDiscover) -----------------------------------------------------------------------


def test_every_real_record_becomes_one_row(real) -> None:
    source, records = real
    result = ask(source, q.events())
    # TrailDiscover repeats some records exactly, as CloudTrail's at-least-once delivery can: one row each.
    distinct = {json.dumps(r, sort_keys=True): r for r in records}.values()
    assert sorted(r["event_id"] for r in result.rows) == sorted(r["eventID"] for r in distinct)
    assert report_of(result).duplicates == len(records) - len(distinct) > 0
    assert report_of(result).records_without_identity == 1
    lost = next(
        r
        for r in result.rows
        if r["event_id"] == next(x for x in records if "userIdentity" not in x)["eventID"]
    )
    assert (lost["actor"], lost["action"]) == (None, "ses:SendEmail")


def test_real_assumed_role_rows_name_role_and_session(real) -> None:
    source, _ = real
    rows = ask(source, q.events().with_filters(f.Actor("AdanAlvarez"))).rows
    assert rows
    assert all(r["identity_type"] in ("AssumedRole", "Unknown") for r in rows)
    assumed = [r for r in rows if r["identity_type"] == "AssumedRole"]
    assert all(r["actor"].endswith("/AdanAlvarez") and r["session_issuer_arn"] for r in assumed)


def _oracle_denied(rec: dict[str, Any]) -> bool:
    code = rec.get("errorCode") or ""
    return code.startswith("AccessDenied") or code.endswith("UnauthorizedOperation")


def test_real_denied_and_deletions_match_a_plain_reading_of_the_records(real) -> None:
    source, records = real
    assert ids(ask(source, q.denied())) == {r["eventID"] for r in records if _oracle_denied(r)}
    deleting = {r["eventID"] for r in records if r["eventName"].startswith(("Delete", "Terminate", "Remove"))}
    assert ids(ask(source, q.deletions())) == deleting
    assert len(deleting) > 10


def test_real_who_changed_a_bucket(real) -> None:
    source, records = real
    bucket = "TrailDiscoverBucket"
    wanted = {r["eventID"] for r in records if r.get("readOnly") is not True and bucket in _searched_text(r)}
    result = ask(source, q.who_changed(bucket))
    assert ids(result) == wanted
    # A substring search: the bucket "TrailDiscoverBucketName" contains the name too.
    assert {r["resource"] for r in result.rows} == {bucket, bucket + "Name"}
    assert {r["action"] for r in result.rows} == {
        "s3:PutBucketAcl",
        "s3:PutBucketVersioning",
        "s3:DeleteBucketPolicy",
    }


def _searched_text(rec: dict[str, Any]) -> str:
    return "\n".join(json.dumps(rec.get(k)) for k in ("resources", "requestParameters", "responseElements"))


def test_real_root_usage_and_logins_are_empty(real) -> None:
    """The real examples hold no root calls and no console sign-ins: the questions must not invent any."""
    source, _ = real
    assert ask(source, q.root_usage()).rows == []
    assert ask(source, q.failed_logins()).rows == []
