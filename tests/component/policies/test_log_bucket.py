"""The alarm topic's policy and the organization / central-bucket statements of the log bucket policy."""

from __future__ import annotations

import json

from audit_trail.component.policies.log_bucket import log_bucket_policy, organization_trail_statement
from audit_trail.component.policies.sns import alarm_topic_policy

ACCOUNT = "123456789012"
TRAIL = f"arn:aws-us-gov:cloudtrail:us-gov-west-1:{ACCOUNT}:trail/org-trail"
BUCKET = "arn:aws-us-gov:s3:::log-archive-central"


def test_alarm_topic_accepts_only_this_accounts_alarms_over_tls() -> None:
    topic = f"arn:aws-cn:sns:cn-north-1:{ACCOUNT}:cis-alarms"
    policy = alarm_topic_policy(partition="aws-cn", region="cn-north-1", account_id=ACCOUNT, topic_arn=topic)
    owner, cloudwatch, deny = policy["Statement"]
    assert owner["Principal"] == {"AWS": f"arn:aws-cn:iam::{ACCOUNT}:root"}
    # Every allow carries a condition (checkov CKV_AWS_385 flags an unconditioned account grant).
    assert owner["Condition"] == {"StringEquals": {"aws:PrincipalAccount": ACCOUNT}}
    assert cloudwatch["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert cloudwatch["Action"] == "sns:Publish"
    assert cloudwatch["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT},
        "ArnLike": {"aws:SourceArn": f"arn:aws-cn:cloudwatch:cn-north-1:{ACCOUNT}:alarm:*"},
    }
    assert (deny["Effect"], deny["Condition"]) == ("Deny", {"Bool": {"aws:SecureTransport": "false"}})
    assert all(s["Resource"] == topic for s in policy["Statement"])
    assert "arn:aws:" not in json.dumps(policy)


def test_organization_statement_writes_under_the_org_path_with_the_account_conditions() -> None:
    statement = organization_trail_statement(
        bucket_arn=BUCKET, s3_key_prefix="audit", organization_id="o-a1b2c3d4e5", trail_arn=TRAIL
    )
    assert statement["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
    assert statement["Action"] == "s3:PutObject"
    assert statement["Resource"] == f"{BUCKET}/audit/AWSLogs/o-a1b2c3d4e5/*"
    assert statement["Condition"] == {
        "StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceArn": TRAIL}
    }
    no_prefix = organization_trail_statement(
        bucket_arn=BUCKET, s3_key_prefix="", organization_id="o-a1b2c3d4e5", trail_arn=TRAIL
    )
    assert no_prefix["Resource"] == f"{BUCKET}/AWSLogs/o-a1b2c3d4e5/*"


def test_log_bucket_policy_for_an_organization_trail_has_both_write_paths() -> None:
    policy = log_bucket_policy(
        bucket_arn=BUCKET, trail_arn=TRAIL, account=ACCOUNT, s3_key_prefix="", organization_id="o-a1b2c3d4e5"
    )
    sids = [s["Sid"] for s in policy["Statement"]]
    assert sids == [
        "AWSCloudTrailAclCheck",
        "AWSCloudTrailWrite",
        "AWSCloudTrailWriteOrganization",
        "DenyInsecureTransport",
    ]
    writes = [s["Resource"] for s in policy["Statement"] if s["Action"] == "s3:PutObject"]
    assert writes == [f"{BUCKET}/AWSLogs/{ACCOUNT}/*", f"{BUCKET}/AWSLogs/o-a1b2c3d4e5/*"]


def test_log_bucket_policy_without_organization_is_the_account_trail_policy() -> None:
    policy = log_bucket_policy(bucket_arn=BUCKET, trail_arn=TRAIL, account=ACCOUNT, s3_key_prefix="p")
    assert [s["Sid"] for s in policy["Statement"]] == [
        "AWSCloudTrailAclCheck",
        "AWSCloudTrailWrite",
        "DenyInsecureTransport",
    ]
