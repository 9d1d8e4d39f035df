"""Key policy of the customer-managed KMS key that encrypts the trail's logs (CIS 3.5).

Statements follow the CloudTrail user guide, "Configure AWS KMS key policies for CloudTrail"
(create-kms-key-policy-for-cloudtrail.html): the account root keeps `kms:*`; CloudTrail may generate data keys
only for this trail (`aws:SourceArn`) and only with the CloudTrail encryption context, and describe the key
for this trail; CloudTrail may decrypt, unconditioned, exactly as the guide's "Allow CloudTrail to decrypt a
trail" statement (it needs that to create or update a trail whose bucket uses an S3 Bucket Key). When the key
also encrypts the CloudWatch Logs group, that service gets its own narrowly conditioned statement. The CIS
alarm topic never shares this key (it has a small key of its own), so CloudWatch cannot decrypt logs.
"""

from __future__ import annotations

from typing import Any

from ...arns import account_root_arn, alarms_arn_pattern
from ...regions import dns_suffix
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


def cloudtrail_statements(*, partition: str, region: str, account_id: str, trail_arn: str) -> list[Statement]:
    """What CloudTrail, and readers of its logs, need on any key that encrypts this trail's files; REGION is
    the key's (and so the bucket's) region.

    Printed by `plan` for a key the stack does not own, so its administrators can add them.
    """
    context = _cloudtrail_context(partition, account_id)
    return [
        {
            # The guide's "Allow CloudTrail to encrypt logs", with its recommended aws:SourceArn.
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
            # The guide's "Allow CloudTrail to decrypt a trail", which has no condition: the guide does not
            # say the Decrypt CloudTrail makes to check an S3 Bucket Key carries aws:SourceArn, and without
            # it CreateTrail fails with InsufficientEncryptionPolicyException.
            "Sid": "AllowCloudTrailDecryptForBucketKey",
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "kms:Decrypt",
            "Resource": "*",
        },
        {
            # Readers in this account (Athena, `audit-trail fetch`, the console) decrypt through S3. The
            # bucket uses an S3 Bucket Key, and then "Amazon S3 uses the bucket ARN as the encryption
            # context" (S3 user guide, "Reducing the cost of SSE-KMS with Amazon S3 Bucket Keys"): a
            # condition on the aws:cloudtrail:arn context, as the guide's "Enable CloudTrail log decrypt
            # permissions" has, would not match then. kms:ViaService (KMS developer guide, "kms:ViaService")
            # holds for every read through S3 in the key's region, whichever context S3 sends.
            "Sid": "AllowAccountPrincipalsDecryptLogs",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": ["kms:Decrypt", "kms:ReEncryptFrom"],
            "Resource": "*",
            "Condition": {
                "StringEquals": {
                    "kms:CallerAccount": account_id,
                    # The S3 endpoint's name in the key's region, whose domain is the partition's.
                    "kms:ViaService": f"s3.{region}.{dns_suffix(partition)}",
                },
            },
        },
    ]


def logs_service_principal(partition: str, region: str) -> str:
    """CloudWatch Logs' regional service principal, in the partition's domain
    (`logs.cn-north-1.amazonaws.com.cn`, `logs.eusc-de-east-1.amazonaws.eu`): "regional AND partitional" in
    aws-cdk's region-info (`Default.servicePrincipal`: `logs` is `${service}.${region}.${urlSuffix}`)."""
    return f"logs.{region}.{dns_suffix(partition)}"


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
    """Lets this account's CloudWatch alarms publish to a topic encrypted with the key (the topic's own).

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
) -> dict[str, Any]:
    """The whole key policy of the key the stack creates for the trail."""
    statements = [
        account_admin_statement(partition=partition, account_id=account_id),
        *cloudtrail_statements(
            partition=partition, region=region, account_id=account_id, trail_arn=trail_arn
        ),
    ]
    if log_group_name is not None:
        statements.append(
            log_group_statement(
                partition=partition, region=region, account_id=account_id, log_group_name=log_group_name
            )
        )
    return {"Version": "2012-10-17", "Statement": statements}


def alarm_topic_key_policy(*, partition: str, region: str, account_id: str) -> dict[str, Any]:
    """Policy of the small key that encrypts the alarm topic: the account administers it, alarms publish."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            account_admin_statement(partition=partition, account_id=account_id),
            alarm_topic_statement(partition=partition, region=region, account_id=account_id),
        ],
    }
