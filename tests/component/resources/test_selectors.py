"""Event selectors: data and network activity events by advanced selectors, always with management events,
and the log buckets' own deliveries never recorded while people's reads and deletes of the logs are."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from audit_trail.component.resources.selectors import advanced_event_selectors, insight_selectors
from audit_trail.component.settings import AuditTrailSettings
from audit_trail.component.validation import check

LOG_BUCKETS = ["trail-logs", "trail-logs-access"]


def settings(**args: Any) -> AuditTrailSettings:
    """Settings from args as stack config spells the values (`"WriteOnly"`, JSON lists)."""
    built, problems = check(args)
    assert problems == [], [str(p) for p in problems]
    return built


def selectors(partition: str = "aws", **args: Any) -> list[dict] | None:
    return advanced_event_selectors(settings(**args), partition=partition, log_buckets=LOG_BUCKETS)


def with_data(partition: str = "aws", **args: Any) -> list[dict]:
    result = selectors(partition, **args)
    assert result is not None
    return result


def fields(selector: dict) -> dict[str, dict]:
    return {f["field"]: {k: v for k, v in f.items() if k != "field"} for f in selector["field_selectors"]}


def test_no_data_events_means_no_advanced_selectors() -> None:
    # The trail keeps its basic selector (management events); basic and advanced are never mixed.
    assert selectors() is None


@pytest.mark.parametrize(
    ("read_write", "read_only"), [("All", None), ("WriteOnly", ["false"]), ("ReadOnly", ["true"])]
)
def test_s3_data_events_exclude_the_log_buckets_and_record_access_to_the_logs(
    read_write: str, read_only: list[str] | None
) -> None:
    management, s3, log_access = with_data("aws-us-gov", s3_data_events=read_write)
    assert fields(management) == {"eventCategory": {"equals": ["Management"]}}
    s3_fields = fields(s3)
    assert s3_fields["eventCategory"] == {"equals": ["Data"]}
    assert s3_fields["resources.type"] == {"equals": ["AWS::S3::Object"]}
    assert s3_fields["resources.ARN"] == {
        "not_starts_withs": ["arn:aws-us-gov:s3:::trail-logs/", "arn:aws-us-gov:s3:::trail-logs-access/"]
    }
    assert s3_fields.get("readOnly", {}).get("equals") == read_only
    # The trail bucket: every call but PutObject (CloudTrail's deliveries), whatever readWrite says; the
    # access-log bucket (S3's own deliveries) is not named.
    assert fields(log_access) == {
        "eventCategory": {"equals": ["Data"]},
        "resources.type": {"equals": ["AWS::S3::Object"]},
        "resources.ARN": {"starts_withs": ["arn:aws-us-gov:s3:::trail-logs/"]},
        "eventName": {"not_equals": ["PutObject"]},
    }


def test_management_selector_follows_read_write_type() -> None:
    management, *_ = with_data(lambda_data_events=True, read_write_type="WriteOnly")
    assert fields(management) == {
        "eventCategory": {"equals": ["Management"]},
        "readOnly": {"equals": ["false"]},
    }


def test_lambda_and_dynamodb_selectors() -> None:
    _, lam, ddb = with_data(lambda_data_events=True, dynamodb_data_events=True)
    assert fields(lam)["resources.type"] == {"equals": ["AWS::Lambda::Function"]}
    assert fields(ddb)["resources.type"] == {"equals": ["AWS::DynamoDB::Table"]}
    assert fields(ddb)["eventCategory"] == {"equals": ["Data"]}


def test_without_management_events_only_data_selectors_remain() -> None:
    result = selectors(management_events=False, s3_data_events="All")
    assert result is not None
    assert [fields(s)["eventCategory"]["equals"] for s in result] == [["Data"], ["Data"]]


def test_data_event_selectors_entry_becomes_one_filtered_selector() -> None:
    entry = (
        '[{"resourceType": "AWS::SNS::Topic", "readWrite": "WriteOnly", "eventNames": ["Publish"], '
        '"excludePrincipalArns": ["arn:aws:sts::123456789012:assumed-role/batch/"]}]'
    )
    _, sns = with_data(data_event_selectors=entry)
    assert fields(sns) == {
        "eventCategory": {"equals": ["Data"]},
        "resources.type": {"equals": ["AWS::SNS::Topic"]},
        "readOnly": {"equals": ["false"]},
        "eventName": {"equals": ["Publish"]},
        "userIdentity.arn": {"not_starts_withs": ["arn:aws:sts::123456789012:assumed-role/batch/"]},
    }


def test_s3_through_data_event_selectors_keeps_the_log_bucket_handling() -> None:
    _, s3, log_access = with_data(data_event_selectors=[{"resource_type": "AWS::S3::Object"}])
    assert fields(s3)["resources.ARN"] == {
        "not_starts_withs": ["arn:aws:s3:::trail-logs/", "arn:aws:s3:::trail-logs-access/"]
    }
    assert fields(log_access)["eventName"] == {"not_equals": ["PutObject"]}


@pytest.mark.parametrize("denied_only", [False, True])
def test_network_activity_is_one_selector_per_event_source(denied_only: bool) -> None:
    _, kms, s3 = with_data(
        network_activity_events='["kms.amazonaws.com", "s3.amazonaws.com"]',
        network_activity_denied_only=str(denied_only).lower(),
    )
    for selector, source in ((kms, "kms.amazonaws.com"), (s3, "s3.amazonaws.com")):
        expected = {
            "eventCategory": {"equals": ["NetworkActivity"]},
            "eventSource": {"equals": [source]},
        }
        if denied_only:
            expected["errorCode"] = {"equals": ["VpceAccessDenied"]}
        assert fields(selector) == expected


def test_every_selector_has_a_name() -> None:
    every = settings(
        s3_data_events="All",
        lambda_data_events=True,
        dynamodb_data_events=True,
        data_event_selectors=[{"resource_type": "AWS::SNS::Topic"}],
        network_activity_events=["kms.amazonaws.com"],
    )
    result = advanced_event_selectors(every, partition="aws", log_buckets=LOG_BUCKETS)
    assert result is not None and len(result) == 7
    assert all(s["name"] for s in result)
    assert len({s["name"] for s in result}) == len(result)


def test_a_central_bucket_alone_is_both_excluded_and_watched() -> None:
    central = dataclasses.replace(settings(s3_data_events="All"), central_bucket_name="log-archive")
    _, s3, log_access = advanced_event_selectors(central, partition="aws", log_buckets=["log-archive"]) or []
    assert fields(s3)["resources.ARN"] == {"not_starts_withs": ["arn:aws:s3:::log-archive/"]}
    assert fields(log_access)["resources.ARN"] == {"starts_withs": ["arn:aws:s3:::log-archive/"]}


@pytest.mark.parametrize(
    ("read_write", "types"),
    [
        ("All", ["ApiCallRateInsight", "ApiErrorRateInsight"]),
        ("WriteOnly", ["ApiCallRateInsight", "ApiErrorRateInsight"]),
        ("ReadOnly", ["ApiErrorRateInsight"]),
    ],
)
def test_insight_selectors_follow_what_the_trail_records(read_write: str, types: list[str]) -> None:
    assert [
        i["insight_type"] for i in insight_selectors(settings(read_write_type=read_write).read_write_type)
    ] == types
