"""The access-log bucket's policy (CIS 3.4): only S3's logging service, for the trail bucket, over TLS."""

from __future__ import annotations

import pytest
from audit_trail.component.policies.access_logs import access_log_bucket_policy

ACCOUNT = "123456789012"


@pytest.mark.parametrize("partition", ["aws", "aws-us-gov", "aws-cn"])
def test_only_the_logging_service_writes_and_only_for_the_trail_bucket(partition: str) -> None:
    target = f"arn:{partition}:s3:::trail-logs-access"
    policy = access_log_bucket_policy(
        partition=partition,
        account_id=ACCOUNT,
        access_log_bucket_arn=target,
        source_bucket_name="trail-logs",
        log_prefix="s3-access/",
    )
    write, deny = policy["Statement"]
    assert write == {
        "Sid": "S3ServerAccessLogsDelivery",
        "Effect": "Allow",
        "Principal": {"Service": "logging.s3.amazonaws.com"},
        "Action": "s3:PutObject",
        "Resource": f"{target}/s3-access/*",
        "Condition": {
            "ArnLike": {"aws:SourceArn": f"arn:{partition}:s3:::trail-logs"},
            "StringEquals": {"aws:SourceAccount": ACCOUNT},
        },
    }
    assert deny["Effect"] == "Deny"
    assert deny["Principal"] == "*"
    assert deny["Resource"] == [target, f"{target}/*"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_no_other_principal_is_allowed_anything() -> None:
    policy = access_log_bucket_policy(
        partition="aws",
        account_id=ACCOUNT,
        access_log_bucket_arn="arn:aws:s3:::b",
        source_bucket_name="t",
        log_prefix="",
    )
    allows = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
    assert [s["Principal"] for s in allows] == [{"Service": "logging.s3.amazonaws.com"}]
    assert allows[0]["Resource"] == "arn:aws:s3:::b/*"
