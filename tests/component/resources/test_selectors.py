"""Event selectors: data events by advanced selectors, always with management events, never the log bucket."""

from __future__ import annotations

from typing import Any

import pytest
from audit_trail.component.args import DataEvents, ReadWriteType
from audit_trail.component.resources.selectors import advanced_event_selectors, insight_selectors

LOG_BUCKETS = ["trail-logs", "trail-logs-access"]


def selectors(**overrides: Any) -> list[dict] | None:
    options: dict[str, Any] = {
        "partition": "aws",
        "management_events": True,
        "read_write_type": "All",
        "s3_data_events": "None",
        "lambda_data_events": False,
        "dynamodb_data_events": False,
        "excluded_buckets": LOG_BUCKETS,
    } | overrides
    # Choices given by their config values, as stack config spells them.
    options["read_write_type"] = ReadWriteType(options["read_write_type"])
    options["s3_data_events"] = DataEvents(options["s3_data_events"])
    return advanced_event_selectors(**options)


def with_data(**overrides: Any) -> list[dict]:
    result = selectors(**overrides)
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
def test_s3_data_events_keep_management_events_and_exclude_every_log_bucket(
    read_write: str, read_only: list[str] | None
) -> None:
    management, s3 = with_data(s3_data_events=read_write, partition="aws-us-gov")
    assert fields(management) == {"eventCategory": {"equals": ["Management"]}}
    s3_fields = fields(s3)
    assert s3_fields["eventCategory"] == {"equals": ["Data"]}
    assert s3_fields["resources.type"] == {"equals": ["AWS::S3::Object"]}
    assert s3_fields["resources.ARN"] == {
        "not_starts_withs": ["arn:aws-us-gov:s3:::trail-logs/", "arn:aws-us-gov:s3:::trail-logs-access/"]
    }
    assert s3_fields.get("readOnly", {}).get("equals") == read_only


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
    assert [fields(s)["eventCategory"]["equals"] for s in result] == [["Data"]]


def test_every_selector_has_a_name() -> None:
    result = selectors(s3_data_events="All", lambda_data_events=True, dynamodb_data_events=True)
    assert result is not None
    assert all(s["name"] for s in result)
    assert len({s["name"] for s in result}) == len(result)


@pytest.mark.parametrize(
    ("read_write", "types"),
    [
        ("All", ["ApiCallRateInsight", "ApiErrorRateInsight"]),
        ("WriteOnly", ["ApiCallRateInsight", "ApiErrorRateInsight"]),
        # Call-rate Insights need write management events; CloudTrail rejects them on a read-only trail.
        ("ReadOnly", ["ApiErrorRateInsight"]),
    ],
)
def test_insight_types_follow_the_recorded_management_events(read_write: str, types: list[str]) -> None:
    assert [s["insight_type"] for s in insight_selectors(ReadWriteType(read_write))] == types
