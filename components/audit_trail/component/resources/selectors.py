"""Which events the trail records: advanced event selectors for data and network activity events, and
Insights selectors.

Pure functions returning the dicts the trail's `advanced_event_selectors` / `insight_selectors` take, with
the fields and operators of the CloudTrail API reference's AdvancedEventSelector / AdvancedFieldSelector:
within a selector every field must match, within a field every operator, and an event is recorded when any
selector matches it. Basic and advanced selectors are never mixed ("You cannot apply both event selectors
and advanced event selectors"): with no data or network activity events the trail keeps its basic selector;
with any, every event class (management included) is an advanced selector.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ...arns import bucket_arn
from ..args import DataEvents, DataEventSelector, ReadWriteType
from ..settings import AuditTrailSettings

Selector = dict[str, Any]
Field = dict[str, Any]

S3_OBJECT = "AWS::S3::Object"
# `readOnly` field values for a ReadOnly / WriteOnly choice; All needs no field.
_READ_ONLY_FIELD = {"ReadOnly": "true", "WriteOnly": "false"}
# The only `errorCode` a network activity selector takes (user guide, "Logging network activity events").
VPCE_ACCESS_DENIED = "VpceAccessDenied"


def _read_only_field(read_write: str) -> list[Field]:
    value = _READ_ONLY_FIELD.get(read_write)
    return [{"field": "readOnly", "equals": [value]}] if value else []


def _data(resource_type: str) -> list[Field]:
    return [
        {"field": "eventCategory", "equals": ["Data"]},
        {"field": "resources.type", "equals": [resource_type]},
    ]


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
    read_write: str, *, partition: str, log_buckets: Sequence[str], extra: Sequence[Field] = ()
) -> Selector:
    """S3 object-level events (CIS 3.8 write, 3.9 read) of every bucket except the log buckets.

    Each log delivery is an S3 write that would otherwise be logged, delivered, and logged again: the log
    buckets are left out here, and the trail bucket gets `log_bucket_access_selector` instead.
    """
    return {
        "name": f"S3 object-level events ({read_write}), except the log buckets",
        "field_selectors": [
            *_data(S3_OBJECT),
            *_read_only_field(read_write),
            *extra,
            {
                "field": "resources.ARN",
                "not_starts_withs": [f"{bucket_arn(partition, bucket)}/" for bucket in log_buckets],
            },
        ],
    }


def log_bucket_access_selector(*, partition: str, log_bucket: str) -> Selector:
    """Who reads, deletes or copies the audit logs: every object-level call on the trail bucket but
    `PutObject`.

    pulumi-aws cannot set the trail's `RecursiveLogging=false` (user guide, "Suppressing recursive events with
    recursive logging"), which would drop only CloudTrail's own deliveries. CloudTrail delivers log and digest
    files with `PutObject`, so leaving out `PutObject` on this bucket stops the feedback loop; everything else
    (GetObject, DeleteObject, DeleteObjects, CopyObject, multipart uploads, PutObjectRetention, ...) is
    recorded whatever `readWrite` says, since tampering with the evidence is always worth a record. A
    person's `PutObject` over a log file stays unrecorded here: versioning keeps the overwritten version,
    log file validation (`audit-trail verify`) flags the changed file, and S3 access logs (`accessLogging`)
    record the request.
    """
    return {
        "name": "Reads and deletes of the audit logs (everything but CloudTrail's PutObject deliveries)",
        "field_selectors": [
            *_data(S3_OBJECT),
            {"field": "resources.ARN", "starts_withs": [f"{bucket_arn(partition, log_bucket)}/"]},
            {"field": "eventName", "not_equals": ["PutObject"]},
        ],
    }


def resource_type_selector(name: str, resource_type: str) -> Selector:
    return {"name": name, "field_selectors": _data(resource_type)}


def _custom_fields(selector: DataEventSelector) -> list[Field]:
    """The optional filters of a `dataEventSelectors` entry, beyond resource type and read/write."""
    fields: list[Field] = []
    if selector.get("event_names"):
        fields.append({"field": "eventName", "equals": list(selector["event_names"])})
    if selector.get("exclude_principal_arns"):
        fields.append(
            {"field": "userIdentity.arn", "not_starts_withs": list(selector["exclude_principal_arns"])}
        )
    return fields


def custom_selectors(
    selector: DataEventSelector, *, partition: str, log_buckets: Sequence[str]
) -> list[Selector]:
    """A `dataEventSelectors` entry as advanced selectors; S3 objects keep the log buckets' handling."""
    resource_type = selector["resource_type"]
    read_write = ReadWriteType(selector.get("read_write", ReadWriteType.ALL)).value
    extra = _custom_fields(selector)
    if resource_type == S3_OBJECT:
        return [s3_object_selector(read_write, partition=partition, log_buckets=log_buckets, extra=extra)]
    return [
        {
            "name": f"{resource_type} data events ({read_write})",
            "field_selectors": [*_data(resource_type), *_read_only_field(read_write), *extra],
        }
    ]


def network_activity_selector(event_source: str, *, denied_only: bool) -> Selector:
    """Calls to EVENT_SOURCE through VPC endpoints (one selector per source, as CloudTrail requires)."""
    fields: list[Field] = [
        {"field": "eventCategory", "equals": ["NetworkActivity"]},
        {"field": "eventSource", "equals": [event_source]},
    ]
    if denied_only:
        fields.append({"field": "errorCode", "equals": [VPCE_ACCESS_DENIED]})
    return {
        "name": f"Network activity of {event_source}" + (" (denied only)" if denied_only else ""),
        "field_selectors": fields,
    }


def advanced_event_selectors(
    settings: AuditTrailSettings, *, partition: str, log_buckets: Sequence[str]
) -> list[Selector] | None:
    """The trail's advanced selectors, or None when it records management events only (basic selector).

    LOG_BUCKETS are the buckets holding logs, the trail's own first (the access-log bucket after it).
    """
    s = settings
    data: list[Selector] = []
    s3_selected = s.s3_data_events is not DataEvents.NONE or any(
        d.get("resource_type") == S3_OBJECT for d in s.data_event_selectors
    )
    if s.s3_data_events is not DataEvents.NONE:
        data.append(s3_object_selector(s.s3_data_events.value, partition=partition, log_buckets=log_buckets))
    if s.lambda_data_events:
        data.append(resource_type_selector("Lambda invocations", "AWS::Lambda::Function"))
    if s.dynamodb_data_events:
        data.append(resource_type_selector("DynamoDB item-level events", "AWS::DynamoDB::Table"))
    for selector in s.data_event_selectors:
        data.extend(custom_selectors(selector, partition=partition, log_buckets=log_buckets))
    if s3_selected and log_buckets:
        data.append(log_bucket_access_selector(partition=partition, log_bucket=log_buckets[0]))
    network = [
        network_activity_selector(source, denied_only=s.network_activity_denied_only)
        for source in s.network_activity_events
    ]
    if not data and not network:
        return None
    management = [management_selector(s.read_write_type)] if s.management_events else []
    return [*management, *data, *network]


def insight_selectors(read_write_type: ReadWriteType) -> list[Selector]:
    """Insights on API error rate, and on API call rate when write management events are recorded.

    CloudTrail computes call-rate Insights from write management events and error-rate Insights from read or
    write ones.
    """
    types = ["ApiErrorRateInsight"]
    if read_write_type is not ReadWriteType.READ_ONLY:
        types.insert(0, "ApiCallRateInsight")
    return [{"insight_type": t} for t in types]
