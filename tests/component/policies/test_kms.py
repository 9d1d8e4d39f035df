"""The trail key's policy, statement by statement (CIS 3.5), in every partition."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from audit_trail.component.policies import kms
from support.paths import PROJECT_DIR

ACCOUNT = "123456789012"
# Every partition the README lists, with its region and its domain (botocore's endpoint data, `dnsSuffix`).
PARTITIONS = [
    ("aws", "us-east-1", "amazonaws.com"),
    ("aws-us-gov", "us-gov-west-1", "amazonaws.com"),
    ("aws-cn", "cn-north-1", "amazonaws.com.cn"),
    ("aws-eusc", "eusc-de-east-1", "amazonaws.eu"),
    ("aws-iso", "us-iso-east-1", "c2s.ic.gov"),
    ("aws-iso-b", "us-isob-east-1", "sc2s.sgov.gov"),
    ("aws-iso-e", "eu-isoe-west-1", "cloud.adc-e.uk"),
    ("aws-iso-f", "us-isof-south-1", "csp.hci.ic.gov"),
]


def trail_arn(partition: str, region: str) -> str:
    return f"arn:{partition}:cloudtrail:{region}:{ACCOUNT}:trail/account-activity-trail"


def by_sid(policy: dict) -> dict[str, dict]:
    return {s["Sid"]: s for s in policy["Statement"]}


@pytest.mark.parametrize(("partition", "region", "domain"), PARTITIONS)
def test_trail_key_policy_grants_only_what_cloudtrail_and_readers_need(
    partition: str, region: str, domain: str
) -> None:
    arn = trail_arn(partition, region)
    policy = kms.trail_key_policy(partition=partition, region=region, account_id=ACCOUNT, trail_arn=arn)
    statements = by_sid(policy)
    assert list(statements) == [
        "EnableAccountAdministration",
        "AllowCloudTrailEncryptLogs",
        "AllowCloudTrailDescribeKey",
        "AllowCloudTrailDecryptForBucketKey",
        "AllowAccountPrincipalsDecryptLogs",
    ]
    admin = statements["EnableAccountAdministration"]
    assert admin["Principal"] == {"AWS": f"arn:{partition}:iam::{ACCOUNT}:root"}
    assert admin["Action"] == "kms:*"

    context = f"arn:{partition}:cloudtrail:*:{ACCOUNT}:trail/*"
    encrypt = statements["AllowCloudTrailEncryptLogs"]
    assert encrypt["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
    assert encrypt["Action"] == "kms:GenerateDataKey*"
    assert encrypt["Condition"] == {
        "StringEquals": {"aws:SourceArn": arn},
        "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": context},
    }
    assert statements["AllowCloudTrailDescribeKey"]["Condition"] == {"StringEquals": {"aws:SourceArn": arn}}
    assert statements["AllowCloudTrailDescribeKey"]["Action"] == "kms:DescribeKey"
    # The user guide's "Allow CloudTrail to decrypt a trail" (create-kms-key-policy-for-cloudtrail.html) has
    # no condition: CreateTrail's bucket-key check must not depend on a context the guide does not promise.
    assert statements["AllowCloudTrailDecryptForBucketKey"] == {
        "Sid": "AllowCloudTrailDecryptForBucketKey",
        "Effect": "Allow",
        "Principal": {"Service": "cloudtrail.amazonaws.com"},
        "Action": "kms:Decrypt",
        "Resource": "*",
    }

    # With an S3 Bucket Key the encryption context is the bucket ARN, not aws:cloudtrail:arn: the readers'
    # grant must not depend on the CloudTrail context, only on reading through S3 in the key's region, whose
    # endpoint is in the partition's domain (s3.eusc-de-east-1.amazonaws.eu).
    readers = statements["AllowAccountPrincipalsDecryptLogs"]
    assert readers["Action"] == ["kms:Decrypt", "kms:ReEncryptFrom"]
    assert readers["Condition"] == {
        "StringEquals": {"kms:CallerAccount": ACCOUNT, "kms:ViaService": f"s3.{region}.{domain}"}
    }
    assert "EncryptionContext" not in json.dumps(readers)
    if partition != "aws":
        assert "arn:aws:" not in json.dumps(policy)


def test_every_grant_but_the_account_admin_is_pinned_to_this_account() -> None:
    policy = kms.trail_key_policy(
        partition="aws",
        region="us-east-1",
        account_id=ACCOUNT,
        trail_arn=trail_arn("aws", "us-east-1"),
        log_group_name="/aws/cloudtrail/account-activity-trail",
    )
    admin, *grants = policy["Statement"]
    assert admin["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    assert len(grants) == 5
    # CloudTrail's own decrypt is the guide's unconditioned statement; every other grant names the account.
    for statement in (g for g in grants if g["Sid"] != "AllowCloudTrailDecryptForBucketKey"):
        assert statement["Effect"] == "Allow"
        assert ACCOUNT in json.dumps(statement["Condition"]), statement["Sid"]


@pytest.mark.parametrize(("partition", "region", "domain"), PARTITIONS)
def test_log_group_statement_is_limited_to_the_trail_group(partition: str, region: str, domain: str) -> None:
    """CloudWatch Logs' principal is regional and in the partition's domain (aws-cdk region-info,
    `Default.servicePrincipal`): logs.cn-north-1.amazonaws.com.cn, logs.us-iso-east-1.c2s.ic.gov."""
    policy = kms.trail_key_policy(
        partition=partition,
        region=region,
        account_id=ACCOUNT,
        trail_arn=trail_arn(partition, region),
        log_group_name="/aws/cloudtrail/t",
    )
    statement = by_sid(policy)["AllowCloudWatchLogsEncryptTrailLogGroup"]
    assert statement["Principal"] == {"Service": f"logs.{region}.{domain}"}
    group_arn = f"arn:{partition}:logs:{region}:{ACCOUNT}:log-group:/aws/cloudtrail/t"
    assert statement["Condition"] == {"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": group_arn}}
    assert "kms:GenerateDataKey*" in statement["Action"]


def test_log_group_statement_appears_only_when_asked_and_cloudwatch_never_gets_the_log_key() -> None:
    base: dict[str, Any] = dict(
        partition="aws", region="us-east-1", account_id=ACCOUNT, trail_arn=trail_arn("aws", "us-east-1")
    )
    assert len(kms.trail_key_policy(**base)["Statement"]) == 5
    with_group = kms.trail_key_policy(**base, log_group_name="cloudtrail/t")
    assert "AllowCloudWatchLogsEncryptTrailLogGroup" in by_sid(with_group)
    assert "cloudwatch.amazonaws.com" not in json.dumps(with_group)


def test_alarm_topic_statement_is_limited_to_this_accounts_alarms() -> None:
    topic = by_sid(kms.alarm_topic_key_policy(partition="aws", region="us-east-1", account_id=ACCOUNT))[
        "AllowCloudWatchAlarmsPublishToEncryptedTopic"
    ]
    assert topic["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert topic["Action"] == ["kms:Decrypt", "kms:GenerateDataKey*"]
    assert topic["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT},
        "ArnLike": {"aws:SourceArn": f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:*"},
    }


def test_alarm_topic_key_policy_is_admin_plus_cloudwatch_only() -> None:
    policy = kms.alarm_topic_key_policy(partition="aws-us-gov", region="us-gov-east-1", account_id=ACCOUNT)
    assert [s["Sid"] for s in policy["Statement"]] == [
        "EnableAccountAdministration",
        "AllowCloudWatchAlarmsPublishToEncryptedTopic",
    ]
    assert "arn:aws:" not in json.dumps(policy)


def test_cloudtrail_statements_are_what_an_existing_key_must_contain() -> None:
    arn = trail_arn("aws", "us-east-1")
    required = kms.cloudtrail_statements(
        partition="aws", region="us-east-1", account_id=ACCOUNT, trail_arn=arn
    )
    full = kms.trail_key_policy(partition="aws", region="us-east-1", account_id=ACCOUNT, trail_arn=arn)
    assert required == full["Statement"][1:]


def test_the_readme_describes_cloudtrails_decrypt_grant_as_the_policy_has_it() -> None:
    """The guide's "Allow CloudTrail to decrypt a trail" has no condition, and neither does the key's
    statement: the README must not promise one."""
    policy = kms.trail_key_policy(
        partition="aws", region="us-east-1", account_id=ACCOUNT, trail_arn=trail_arn("aws", "us-east-1")
    )
    assert "Condition" not in by_sid(policy)["AllowCloudTrailDecryptForBucketKey"]
    readme = " ".join((PROJECT_DIR / "README.md").read_text(encoding="utf-8").split())
    claims = re.findall(r"CloudTrail `kms:Decrypt`[^.]*", readme)
    assert claims
    for claim in claims:
        assert "no condition" in claim and "conditioned on" not in claim, claim
