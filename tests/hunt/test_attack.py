"""ATT&CK context from the shipped TrailDiscover catalogue."""

from __future__ import annotations

import json
from importlib.resources import files

from audit_trail.attack_tactics import action_tactics, catalogue, event_tactics
from audit_trail.hunt.attack import record_tactics, tactic_rows
from support.tactics_data import CATALOGUE, TABLE, derive


def test_catalogue_is_shipped_with_its_attribution() -> None:
    data = files("audit_trail") / "data"
    notice = (data / "TRAILDISCOVER.md").read_text()
    assert "CC BY 4.0" in notice and "github.com/adanalvarez/TrailDiscover" in notice
    # 381 entries, one (ec2 GetLaunchTemplateData) listed twice.
    assert len(catalogue()) == 380


def test_the_shipped_table_is_the_catalogue_s() -> None:
    assert json.loads(TABLE.read_text(encoding="utf-8")) == derive(
        json.loads(CATALOGUE.read_text(encoding="utf-8"))
    ), "audit_trail/data/traildiscover_tactics.json is stale: run `python tests/support/tactics_data.py`"


def test_events_get_tactics_in_attack_order() -> None:
    assert event_tactics("iam.amazonaws.com", "CreateAccessKey") == ("Persistence", "Privilege Escalation")
    assert record_tactics({"eventSource": "cloudtrail.amazonaws.com", "eventName": "StopLogging"}) == [
        "Defense Evasion"
    ]


def test_a_technique_filed_under_tactics_is_not_a_tactic() -> None:
    # TrailDiscover files "T1496 - Resource Hijacking" among SendEmail's tactics.
    assert event_tactics("ses.amazonaws.com", "SendEmail") == ("Collection", "Command and Control")


def test_events_attackers_are_not_known_to_use_have_no_tactics() -> None:
    assert record_tactics({"eventSource": "s3.amazonaws.com", "eventName": "HeadBucket"}) == []
    assert record_tactics({"eventName": "ListBuckets"}) == []  # source unknown: no guess
    assert event_tactics("s3.amazonaws.com", "listbuckets") == ()  # CloudTrail names are exact


def test_first_and_last_seen_of_a_tactic_are_by_instant_not_by_text() -> None:
    rows = tactic_rows(
        (when, "cloudtrail.amazonaws.com", "StopLogging")
        for when in ("2026-03-03T03:12:00.500Z", "2026-03-03T03:12:00Z", "2026-03-03T03:12:01Z")
    )
    assert (rows[0]["first_seen"], rows[0]["last_seen"]) == ("2026-03-03T03:12:00Z", "2026-03-03T03:12:01Z")


def test_query_rows_get_tactics_from_their_action() -> None:
    assert action_tactics("cloudtrail:StopLogging") == ["Defense Evasion"]
    assert action_tactics("s3:HeadBucket") == [] and action_tactics(None) == []


def test_events_grouped_by_tactic_with_first_and_last_time() -> None:
    rows = tactic_rows(
        [
            ("2026-03-03T03:12:00Z", "cloudtrail.amazonaws.com", "StopLogging"),
            ("2026-03-03T03:00:00Z", "sts.amazonaws.com", "GetCallerIdentity"),
            ("2026-03-03T03:20:00Z", "cloudtrail.amazonaws.com", "DeleteTrail"),
            ("2026-03-03T03:01:00Z", "s3.amazonaws.com", "ListBuckets"),
            ("2026-03-03T03:02:00Z", "s3.amazonaws.com", "HeadBucket"),  # not in the catalogue
        ]
    )
    assert rows == [
        {
            "tactic": "Defense Evasion",
            "events": 2,
            "first_seen": "2026-03-03T03:12:00Z",
            "last_seen": "2026-03-03T03:20:00Z",
            "actions": "cloudtrail:DeleteTrail, cloudtrail:StopLogging",
        },
        {
            "tactic": "Discovery",
            "events": 2,
            "first_seen": "2026-03-03T03:00:00Z",
            "last_seen": "2026-03-03T03:01:00Z",
            "actions": "s3:ListBuckets, sts:GetCallerIdentity",
        },
    ]
