"""The log bucket policy, as pure functions."""

from __future__ import annotations

import pytest
from audit_trail import arns, regions
from audit_trail.component.policies.bucket import (
    cloudtrail_acl_check,
    cloudtrail_write,
    deny_insecure_transport,
)
from audit_trail.component.policies.log_bucket import log_bucket_policy

BUCKET_ARN = "arn:aws:s3:::logs"
TRAIL_ARN = "arn:aws:cloudtrail:us-east-1:111122223333:trail/t"


def test_acl_check_is_for_this_trail_only() -> None:
    assert cloudtrail_acl_check(BUCKET_ARN, TRAIL_ARN) == {
        "Sid": "AWSCloudTrailAclCheck",
        "Effect": "Allow",
        "Principal": {"Service": "cloudtrail.amazonaws.com"},
        "Action": "s3:GetBucketAcl",
        "Resource": BUCKET_ARN,
        "Condition": {"StringEquals": {"aws:SourceArn": TRAIL_ARN}},
    }


@pytest.mark.parametrize(
    ("prefix", "resource"),
    [
        ("", "arn:aws:s3:::logs/AWSLogs/111122223333/*"),
        ("a/b", "arn:aws:s3:::logs/a/b/AWSLogs/111122223333/*"),
    ],
)
def test_write_is_limited_to_the_accounts_path_owner_acl_and_trail(prefix: str, resource: str) -> None:
    statement = cloudtrail_write(BUCKET_ARN, TRAIL_ARN, "111122223333", prefix)
    assert statement["Action"] == "s3:PutObject"
    assert statement["Resource"] == resource
    assert statement["Condition"] == {
        "StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceArn": TRAIL_ARN}
    }


def test_requests_without_tls_are_denied_to_everyone() -> None:
    statement = deny_insecure_transport(BUCKET_ARN)
    assert (statement["Effect"], statement["Principal"], statement["Action"]) == ("Deny", "*", "s3:*")
    assert statement["Resource"] == [BUCKET_ARN, f"{BUCKET_ARN}/*"]
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_whole_policy_grants_write_to_cloudtrail_alone() -> None:
    doc = log_bucket_policy(
        bucket_arn=BUCKET_ARN, trail_arn=TRAIL_ARN, account="111122223333", s3_key_prefix="p"
    )
    assert doc["Version"] == "2012-10-17"
    assert [s["Sid"] for s in doc["Statement"]] == [
        "AWSCloudTrailAclCheck",
        "AWSCloudTrailWrite",
        "DenyInsecureTransport",
    ]
    allows = [s for s in doc["Statement"] if s["Effect"] == "Allow"]
    assert all(s["Principal"] == {"Service": "cloudtrail.amazonaws.com"} for s in allows)
    assert [s["Action"] for s in allows] == ["s3:GetBucketAcl", "s3:PutObject"]


@pytest.mark.parametrize(
    ("region", "partition"),
    [
        ("us-east-1", "aws"),
        ("us-gov-west-1", "aws-us-gov"),
        ("cn-northwest-1", "aws-cn"),
        ("eusc-de-east-1", "aws-eusc"),
        ("us-isob-east-1", "aws-iso-b"),
        # A region newer than the packaged list still lands in the partition its name pattern says.
        ("us-gov-north-9", "aws-us-gov"),
        ("eu-west-9", "aws"),
    ],
)
def test_arns_follow_the_partition(region: str, partition: str) -> None:
    p = regions.partition_of_region(region)
    assert p == partition
    assert arns.bucket_arn(p, "b") == f"arn:{partition}:s3:::b"
    assert arns.trail_arn(p, region, "1", "t") == f"arn:{partition}:cloudtrail:{region}:1:trail/t"
