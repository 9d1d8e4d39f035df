"""Who touches the audit logs is on record: the trail's selectors, as the engine receives them, evaluated
against CloudTrail records of a person deleting or reading a log file and of CloudTrail delivering one.

The records follow the shape of S3 data events in the CloudTrail user guide ("CloudTrail record contents for
management, data, and network activity events"; "Logging data events"): an object event lists the object
(AWS::S3::Object) and its bucket (AWS::S3::Bucket); CloudTrail's deliveries are `PutObject` calls by the
AWSService identity `invokedBy: cloudtrail.amazonaws.com` ("Suppressing recursive events with recursive
logging"); S3 server access logs are delivered by `logging.s3.amazonaws.com`.
"""

from __future__ import annotations

from typing import Any

import pytest
from audit_trail.plan.preview import Preview
from support.event_selectors import records
from support.graph import one

ACCOUNT = "123456789012"
LOG_KEY = (
    f"AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/2026/03/03/"
    f"{ACCOUNT}_CloudTrail_us-east-1_20260303T1030Z_a1.json.gz"
)
PERSON = {
    "type": "IAMUser",
    "principalId": "AIDAEXAMPLE",
    "arn": f"arn:aws:iam::{ACCOUNT}:user/mallory",
    "accountId": ACCOUNT,
    "userName": "mallory",
}


def s3_event(
    name: str, bucket: str, key: str, identity: dict[str, Any], *, read_only: bool
) -> dict[str, Any]:
    return {
        "eventVersion": "1.11",
        "userIdentity": identity,
        "eventSource": "s3.amazonaws.com",
        "eventName": name,
        "readOnly": read_only,
        "resources": [
            {"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/{key}"},
            {"accountId": ACCOUNT, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"},
        ],
        "eventType": "AwsApiCall",
        "managementEvent": False,
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Data",
    }


def service(principal: str) -> dict[str, Any]:
    return {"type": "AWSService", "invokedBy": principal}


def trail_selectors(preview_stack: Any, *options: str) -> tuple[Preview, list[dict[str, Any]]]:
    result = preview_stack("dev", *(f"audit-trail:{o}" for o in options))
    assert result.error is None, result.error
    return result, one(result, "aws:cloudtrail/trail:Trail")["inputs"]["advancedEventSelectors"]


@pytest.mark.parametrize("s3_data_events", ["All", "WriteOnly", "ReadOnly"])
def test_people_reading_or_deleting_log_files_are_recorded_cloudtrail_deliveries_are_not(
    preview_stack: Any, s3_data_events: str
) -> None:
    result, selectors = trail_selectors(preview_stack, f"s3DataEvents={s3_data_events}", "accessLogging=true")
    bucket = result.outputs["bucketName"]
    access_bucket_name = next(
        r["inputs"]["targetBucket"]
        for r in result.resources
        if r["type"] == "aws:s3/bucketLogging:BucketLogging"
    )

    # Tampering with the evidence is on record, whatever s3DataEvents says.
    assert records(selectors, s3_event("DeleteObject", bucket, LOG_KEY, PERSON, read_only=False))
    assert records(selectors, s3_event("GetObject", bucket, LOG_KEY, PERSON, read_only=True))
    assert records(selectors, s3_event("CopyObject", bucket, LOG_KEY, PERSON, read_only=False))
    # No feedback loop: CloudTrail's deliveries into its bucket, S3's deliveries of the access logs.
    delivery = s3_event("PutObject", bucket, LOG_KEY, service("cloudtrail.amazonaws.com"), read_only=False)
    assert not records(selectors, delivery)
    access_log = s3_event(
        "PutObject",
        access_bucket_name,
        "s3-access-logs/2026-03-03-10-30-00-ABC",
        service("logging.s3.amazonaws.com"),
        read_only=False,
    )
    assert not records(selectors, access_log)
    # The documented gap: a person's PutObject over a log file (versioning, validation and access logs
    # still show it).
    assert not records(selectors, s3_event("PutObject", bucket, LOG_KEY, PERSON, read_only=False))

    # Other buckets follow s3DataEvents.
    other_write = s3_event("PutObject", "app-data", "report.csv", PERSON, read_only=False)
    other_read = s3_event("GetObject", "app-data", "report.csv", PERSON, read_only=True)
    assert records(selectors, other_write) is (s3_data_events in ("All", "WriteOnly"))
    assert records(selectors, other_read) is (s3_data_events in ("All", "ReadOnly"))


def test_without_s3_data_events_no_object_event_is_recorded(preview_stack: Any) -> None:
    result, selectors = trail_selectors(preview_stack, "lambdaDataEvents=true")
    bucket = result.outputs["bucketName"]
    assert not records(selectors, s3_event("DeleteObject", bucket, LOG_KEY, PERSON, read_only=False))


def test_network_activity_denied_only_records_only_denied_vpc_endpoint_calls(preview_stack: Any) -> None:
    _, selectors = trail_selectors(
        preview_stack, 'networkActivityEvents=["kms.amazonaws.com"]', "networkActivityDeniedOnly=true"
    )
    call = {
        "eventSource": "kms.amazonaws.com",
        "eventName": "Decrypt",
        "eventType": "AwsVpceEvent",
        "eventCategory": "NetworkActivity",
        "vpcEndpointId": "vpce-0123456789abcdef0",
        "userIdentity": PERSON,
    }
    assert records(selectors, {**call, "errorCode": "VpceAccessDenied"})
    assert not records(selectors, call)
    assert not records(
        selectors, {**call, "eventSource": "s3.amazonaws.com", "errorCode": "VpceAccessDenied"}
    )


def test_the_evaluator_follows_the_documented_operator_semantics() -> None:
    """Values of one operator are alternatives; a Not* operator excludes any listed value; fields combine."""
    selector = {
        "fieldSelectors": [
            {"field": "eventCategory", "equals": ["Data"]},
            {"field": "resources.type", "equals": ["AWS::S3::Object"]},
            {"field": "eventName", "equals": ["GetObject", "DeleteObject"], "notEquals": ["DeleteObject"]},
            {"field": "resources.ARN", "notStartsWiths": ["arn:aws:s3:::a/", "arn:aws:s3:::b/"]},
        ]
    }
    assert records([selector], s3_event("GetObject", "c", "k", PERSON, read_only=True))
    assert not records([selector], s3_event("DeleteObject", "c", "k", PERSON, read_only=False))
    assert not records([selector], s3_event("GetObject", "b", "k", PERSON, read_only=True))
    assert not records([selector], s3_event("PutObject", "c", "k", PERSON, read_only=False))
    # resources.ARN is the object's ARN, not the bucket's: a bucket ARN prefix without `/` still matches.
    by_bucket = {
        "fieldSelectors": [
            *selector["fieldSelectors"][:2],
            {"field": "resources.ARN", "startsWiths": ["arn:aws:s3:::c/"]},
        ]
    }
    assert records([by_bucket], s3_event("GetObject", "c", "k", PERSON, read_only=True))
    assert not records(
        [by_bucket],
        {**s3_event("GetObject", "c", "k", PERSON, read_only=True), "eventCategory": "Management"},
    )
