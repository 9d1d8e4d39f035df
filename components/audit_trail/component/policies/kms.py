"""Key policy of the customer-managed KMS key that encrypts the trail's logs (CIS 3.5).

Statements follow the CloudTrail user guide ("Configure AWS KMS key policies for CloudTrail"): the account
root keeps `kms:*`, CloudTrail may use the key only for this trail (`aws:SourceArn`) and only with the
CloudTrail encryption context, and principals of this account may decrypt what CloudTrail encrypted. When the
same key encrypts the CloudWatch Logs group or the alarm topic, those services get their own
narrowly conditioned statements.
"""

from __future__ import annotations

from typing import Any

from ...arns import account_root_arn, alarms_arn_pattern
from .cloudwatch import log_group_arn

Statement = dict[str, Any]


def _cloudtrail_context(partition: str, account_id: str) -> str:
    return f"arn:{partition}:cloudtrail:*:{account_id}:trail/*"


def account_admin_statement(*, partition: str, account_id: str) -> Statement:
    # Without it nobody (not even the account) can manage the key again.
    return {
        "Sid": "EnableAccountAdministration",
        "Effect": "Allow",
        "Principal": {"AWS": account_root_arn(partition, account_id)},
        "Action": "kms:*",
        "Resource": "*",
    }


def cloudtrail_statements(*, partition: str, account_id: str, trail_arn: str) -> list[Statement]:
    """What CloudTrail needs on any key that encrypts this trail's log and digest files.

    Printed by `plan` for a key the stack does not own, so its administrators can add them.
    """
    context = _cloudtrail_context(partition, account_id)
    return [
        {
            "Sid": "AllowCloudTrailEncryptLogs",
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "kms:GenerateDataKey*",
            "Resource": "*",
            "Condition": {
                "StringEquals": {"aws:SourceArn": trail_arn},
                "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": context},
            },
        },
        {
            "Sid": "AllowCloudTrailDescribeKey",
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "kms:DescribeKey",
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceArn": trail_arn}},
        },
        {
            # With an S3 Bucket Key on the bucket, CloudTrail needs kms:Decrypt to create or update the trail.
            "Sid": "AllowCloudTrailDecryptForBucketKey",
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "kms:Decrypt",
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceArn": trail_arn}},
        },
        {
            "Sid": "AllowAccountPrincipalsDecryptLogs",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": ["kms:Decrypt", "kms:ReEncryptFrom"],
            "Resource": "*",
            "Condition": {
                "StringEquals": {"kms:CallerAccount": account_id},
                "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": context},
            },
        },
    ]


def logs_service_principal(partition: str, region: str) -> str:
    """CloudWatch Logs' regional service principal (China regions use the .com.cn domain)."""
    suffix = "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com"
    return f"logs.{region}.{suffix}"


def log_group_statement(*, partition: str, region: str, account_id: str, log_group_name: str) -> Statement:
    """Lets CloudWatch Logs encrypt one log group with the key, and nothing else."""
    return {
        "Sid": "AllowCloudWatchLogsEncryptTrailLogGroup",
        "Effect": "Allow",
        "Principal": {"Service": logs_service_principal(partition, region)},
        "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
        "Resource": "*",
        "Condition": {
            "ArnEquals": {
                "kms:EncryptionContext:aws:logs:arn": log_group_arn(
                    partition=partition, region=region, account_id=account_id, log_group_name=log_group_name
                )
            }
        },
    }


def alarm_topic_statement(*, partition: str, region: str, account_id: str) -> Statement:
    """Lets this account's CloudWatch alarms publish to a topic encrypted with the key.

    Alarms cannot publish to a topic under the AWS-managed `alias/aws/sns` key, so the topic needs a
    customer-managed key with this grant.
    """
    return {
        "Sid": "AllowCloudWatchAlarmsPublishToEncryptedTopic",
        "Effect": "Allow",
        "Principal": {"Service": "cloudwatch.amazonaws.com"},
        "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
        "Resource": "*",
        "Condition": {
            "StringEquals": {"aws:SourceAccount": account_id},
            "ArnLike": {"aws:SourceArn": alarms_arn_pattern(partition, region, account_id)},
        },
    }


def trail_key_policy(
    *,
    partition: str,
    region: str,
    account_id: str,
    trail_arn: str,
    log_group_name: str | None = None,
    alarm_topic: bool = False,
) -> dict[str, Any]:
    """The whole key policy of the key the stack creates for the trail."""
    statements = [
        account_admin_statement(partition=partition, account_id=account_id),
        *cloudtrail_statements(partition=partition, account_id=account_id, trail_arn=trail_arn),
    ]
    if log_group_name is not None:
        statements.append(
            log_group_statement(
                partition=partition, region=region, account_id=account_id, log_group_name=log_group_name
            )
        )
    if alarm_topic:
        statements.append(alarm_topic_statement(partition=partition, region=region, account_id=account_id))
    return {"Version": "2012-10-17", "Statement": statements}


def alarm_topic_key_policy(*, partition: str, region: str, account_id: str) -> dict[str, Any]:
    """Policy of the small key that encrypts the alarm topic when the trail itself has no customer key."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            account_admin_statement(partition=partition, account_id=account_id),
            alarm_topic_statement(partition=partition, region=region, account_id=account_id),
        ],
    }
