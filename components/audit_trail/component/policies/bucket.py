"""The log bucket's policy: CloudTrail may deliver only this trail's logs to this account's path; TLS only."""

from __future__ import annotations

from typing import Any

from ...cloudtrail_layout import account_prefix

Statement = dict[str, Any]

CLOUDTRAIL = {"Service": "cloudtrail.amazonaws.com"}


def cloudtrail_acl_check(bucket_arn: str, trail_arn: str) -> Statement:
    """CloudTrail checks the bucket ACL before delivering; only this trail (confused-deputy protection)."""
    return {
        "Sid": "AWSCloudTrailAclCheck",
        "Effect": "Allow",
        "Principal": CLOUDTRAIL,
        "Action": "s3:GetBucketAcl",
        "Resource": bucket_arn,
        "Condition": {"StringEquals": {"aws:SourceArn": trail_arn}},
    }


def cloudtrail_write(bucket_arn: str, trail_arn: str, account: str, s3_key_prefix: str = "") -> Statement:
    """CloudTrail may write this trail's files under `[prefix/]AWSLogs/<account>/`, owned by the bucket
    owner."""
    return {
        "Sid": "AWSCloudTrailWrite",
        "Effect": "Allow",
        "Principal": CLOUDTRAIL,
        "Action": "s3:PutObject",
        "Resource": f"{bucket_arn}/{account_prefix(s3_key_prefix, account)}*",
        "Condition": {
            "StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceArn": trail_arn},
        },
    }


def deny_insecure_transport(bucket_arn: str) -> Statement:
    """Every request without TLS is refused, whoever makes it."""
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, f"{bucket_arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def policy_document(statements: list[Statement]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": statements}
