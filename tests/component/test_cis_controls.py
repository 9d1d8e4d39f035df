"""The fifteen CIS 4.x controls: each filter pattern exactly as the quoted benchmark or Security Hub text."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from audit_trail.component.cis_controls import CIS_CONTROLS, CisControl, metric_namespace
from support.cloudwatch_filter import matches
from support.paths import DATA

REFERENCE = DATA / "cis_metric_filters.md"
SECTION = re.compile(
    r"## \[(?P<id>[^\]]+)\] .+?\n\nRelated requirements: (?P<req>.+?)\n\n```\n(?P<pattern>.+?)\n```"
)

# Security Hub maps CloudWatch.2 and .3 only to CIS v1.2.0 3.1 / 3.2, which became 4.1 / 4.2 in v1.4.0.
V12_NUMBERS = {"4.1": "3.1", "4.2": "3.2"}


def quoted() -> dict[str, tuple[str, str]]:
    sections = {m["id"]: (m["req"], m["pattern"]) for m in SECTION.finditer(REFERENCE.read_text())}
    assert len(sections) == 15
    return sections


def reference_key(control: CisControl) -> str:
    return control.security_hub_id or f"CIS {control.cis_id}"


def test_the_fifteen_monitoring_controls_in_order() -> None:
    assert [c.cis_id for c in CIS_CONTROLS] == [f"4.{n}" for n in range(1, 16)]
    assert sorted(c.security_hub_id for c in CIS_CONTROLS if c.security_hub_id) == sorted(
        f"CloudWatch.{n}" for n in range(1, 15)
    )
    assert CIS_CONTROLS[-1].security_hub_id is None  # 4.15 has no Security Hub control
    assert len({c.metric_name for c in CIS_CONTROLS}) == 15
    assert len({c.resource_suffix for c in CIS_CONTROLS}) == 15


@pytest.mark.parametrize("control", CIS_CONTROLS, ids=lambda c: c.cis_id)
def test_filter_pattern_is_verbatim_from_the_quoted_text(control: CisControl) -> None:
    requirements, pattern = quoted()[reference_key(control)]
    assert control.filter_pattern == pattern
    if control.cis_id in V12_NUMBERS:
        assert f"CIS AWS Foundations Benchmark v1.2.0/{V12_NUMBERS[control.cis_id]}" in requirements
    else:
        assert f"v1.4.0/{control.cis_id}" in requirements


def test_each_trail_has_a_metric_namespace_of_its_own_that_cloudwatch_accepts() -> None:
    """CloudWatch Logs API reference, MetricTransformation: metricNamespace at most 255 of `[^:*$]`."""
    assert metric_namespace("account-activity-trail") == "CISBenchmark/account-activity-trail"
    assert metric_namespace("prod") != metric_namespace("dev")
    longest = metric_namespace("t" * 128)  # the longest trail name
    assert len(longest) <= 255 and re.fullmatch(r"[^:*$]+", longest)


@pytest.mark.parametrize("control", CIS_CONTROLS, ids=lambda c: c.cis_id)
def test_metric_name_is_a_plain_cloudwatch_name(control: CisControl) -> None:
    assert re.fullmatch(r"[A-Za-z0-9]{1,255}", control.metric_name)
    assert control.resource_suffix == "cis-" + control.cis_id.replace(".", "-")


# --- What fires for what: the patterns evaluated on real CloudTrail records -----------------------------

EXAMPLES = DATA / "traildiscover_examples.jsonl"


def fired(record: dict[str, Any]) -> set[str]:
    return {c.cis_id for c in CIS_CONTROLS if matches(c.filter_pattern, record)}


def real_record(event_id: str) -> dict[str, Any]:
    for line in EXAMPLES.read_text().splitlines():
        record = json.loads(line)
        if record["eventID"] == event_id:
            return record
    raise AssertionError(event_id)


@pytest.mark.parametrize(
    ("event_id", "what", "alarms"),
    [
        ("de53d94e-f8b3-4111-b2d2-4f1c2f77a2b1", "denied StopLogging", {"4.1", "4.5"}),
        ("03383b06-8e2e-4272-a022-5871c25e46f9", "denied DeleteTrail", {"4.1", "4.5"}),
        ("ba0bcf69-abc1-403e-ab64-faf08b719b17", "PutBucketPolicy on a missing bucket", {"4.8"}),
        (
            "5de97e56-a296-4e79-9122-e8543a2cb73e",
            "denied IAM CreatePolicy (not Organizations')",
            {"4.1", "4.4"},
        ),
        ("11e88ec8-9e68-4d1f-84c1-e69babd4a493", "denied LeaveOrganization", {"4.1", "4.15"}),
        ("f59ee926-fe5d-444b-b8c2-dd6241823ec4", "denied StopConfigurationRecorder", {"4.1", "4.9"}),
        (
            "b87911ca-8464-4181-a78a-1bb80498e32c",
            "unauthorized AuthorizeSecurityGroupIngress",
            {"4.1", "4.10"},
        ),
        ("e7921105-f089-46b8-b97c-01b819b7036c", "unauthorized CreateNetworkAclEntry", {"4.1", "4.11"}),
        ("d121bef5-9ddc-4aed-aed8-861a375beacc", "unauthorized EC2 CreateRoute", {"4.1", "4.13"}),
        # The CIS 4.13 pattern names no event source, so API Gateway's CreateRoute sets it off too.
        ("c202eb07-c30d-46f2-a098-f65cd97a115e", "API Gateway CreateRoute", {"4.13"}),
        ("0e25f683-77e8-49a1-a52c-1ba2575ceaf7", "unauthorized DescribeInstances", {"4.1"}),
        ("8f902385-4734-4700-8091-6dd7217ffc43", "GetCallerIdentity", set()),
    ],
)
def test_real_records_set_off_the_expected_alarms(event_id: str, what: str, alarms: set[str]) -> None:
    assert fired(real_record(event_id)) == alarms, what


def console_login(identity_type: str, result: str, mfa: str) -> dict[str, Any]:
    """A ConsoleLogin record in the shape CloudTrail logs it (sign-in events reference)."""
    record: dict[str, Any] = {
        "eventName": "ConsoleLogin",
        "eventSource": "signin.amazonaws.com",
        "eventType": "AwsConsoleSignIn",
        "userIdentity": {"type": identity_type},
        "responseElements": {"ConsoleLogin": result},
        "additionalEventData": {"MFAUsed": mfa},
    }
    if result == "Failure":
        record["errorMessage"] = "Failed authentication"
    return record


@pytest.mark.parametrize(
    ("record", "alarms"),
    [
        (console_login("IAMUser", "Success", "No"), {"4.2"}),
        (console_login("IAMUser", "Success", "Yes"), set()),
        (console_login("IAMUser", "Failure", "No"), {"4.6"}),
        (console_login("Root", "Success", "Yes"), {"4.3"}),
        # A service acting as root (e.g. on the account's behalf) is not root usage.
        (
            {
                "userIdentity": {"type": "Root", "invokedBy": "support.amazonaws.com"},
                "eventType": "AwsApiCall",
            },
            set(),
        ),
        ({"userIdentity": {"type": "Root"}, "eventType": "AwsServiceEvent"}, set()),
        ({"eventSource": "kms.amazonaws.com", "eventName": "ScheduleKeyDeletion"}, {"4.7"}),
        ({"eventSource": "kms.amazonaws.com", "eventName": "Decrypt"}, set()),
        ({"eventSource": "ec2.amazonaws.com", "eventName": "AttachInternetGateway"}, {"4.12"}),
        ({"eventSource": "ec2.amazonaws.com", "eventName": "CreateVpcPeeringConnection"}, {"4.14"}),
    ],
)
def test_documented_record_shapes_set_off_the_expected_alarms(
    record: dict[str, Any], alarms: set[str]
) -> None:
    assert fired(record) == alarms
