"""Which events the trail records: advanced event selectors for data events, and Insights selectors.

Pure functions returning the dicts the trail's `advanced_event_selectors` / `insight_selectors` take.
Basic and advanced selectors are never mixed: with no data events the trail keeps its basic selector;
with any, every event class (management included) is an advanced selector.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ...arns import bucket_arn
from ..args import DataEvents, ReadWriteType

Selector = dict[str, Any]

# `readOnly` field values for a ReadOnly / WriteOnly choice; All needs no field.
_READ_ONLY_FIELD = {"ReadOnly": "true", "WriteOnly": "false"}


def _read_only_field(read_write: str) -> list[Selector]:
    value = _READ_ONLY_FIELD.get(read_write)
    return [{"field": "readOnly", "equals": [value]}] if value else []


def management_selector(read_write_type: ReadWriteType) -> Selector:
    """Management events (Read, Write or both): with advanced selectors they are logged only if selected."""
    return {
        "name": f"Management events ({read_write_type.value})",
        "field_selectors": [
            {"field": "eventCategory", "equals": ["Management"]},
            *_read_only_field(read_write_type),
        ],
    }


def s3_object_selector(
    read_write: DataEvents, *, partition: str, excluded_buckets: Sequence[str]
) -> Selector:
    """S3 object-level events (CIS 3.8 write, 3.9 read) of every bucket except the excluded ones.

    The trail's own bucket (and its access-log bucket) must be excluded: each log delivery is an S3 write that
    would otherwise be logged, delivered, and logged again.
    """
    fields: list[Selector] = [
        {"field": "eventCategory", "equals": ["Data"]},
        {"field": "resources.type", "equals": ["AWS::S3::Object"]},
        *_read_only_field(read_write),
    ]
    if excluded_buckets:
        fields.append(
            {
                "field": "resources.ARN",
                "not_starts_withs": [f"{bucket_arn(partition, bucket)}/" for bucket in excluded_buckets],
            }
        )
    return {
        "name": f"S3 object-level events ({read_write.value}), except the log buckets",
        "field_selectors": fields,
    }


def resource_type_selector(name: str, resource_type: str) -> Selector:
    return {
        "name": name,
        "field_selectors": [
            {"field": "eventCategory", "equals": ["Data"]},
            {"field": "resources.type", "equals": [resource_type]},
        ],
    }


def advanced_event_selectors(
    *,
    partition: str,
    management_events: bool,
    read_write_type: ReadWriteType,
    s3_data_events: DataEvents,
    lambda_data_events: bool,
    dynamodb_data_events: bool,
    excluded_buckets: Sequence[str],
) -> list[Selector] | None:
    """The trail's advanced selectors, or None when it records management events only (basic selector)."""
    data: list[Selector] = []
    if s3_data_events is not DataEvents.NONE:
        data.append(
            s3_object_selector(s3_data_events, partition=partition, excluded_buckets=excluded_buckets)
        )
    if lambda_data_events:
        data.append(resource_type_selector("Lambda invocations", "AWS::Lambda::Function"))
    if dynamodb_data_events:
        data.append(resource_type_selector("DynamoDB item-level events", "AWS::DynamoDB::Table"))
    if not data:
        return None
    management = [management_selector(read_write_type)] if management_events else []
    return [*management, *data]


def insight_selectors(read_write_type: ReadWriteType) -> list[Selector]:
    """Insights on API error rate, and on API call rate when write management events are recorded.

    CloudTrail computes call-rate Insights from write management events and error-rate Insights from read or
    write ones.
    """
    types = ["ApiErrorRateInsight"]
    if read_write_type is not ReadWriteType.READ_ONLY:
        types.insert(0, "ApiCallRateInsight")
    return [{"insight_type": t} for t in types]
