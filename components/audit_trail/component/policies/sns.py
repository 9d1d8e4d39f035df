"""Access policy of the SNS topic that receives the CIS alarms."""

from __future__ import annotations

from typing import Any

from ...arns import account_root_arn, alarms_arn_pattern


def alarm_topic_policy(*, partition: str, region: str, account_id: str, topic_arn: str) -> dict[str, Any]:
    """The account manages the topic; CloudWatch may publish only for this account's alarms; TLS only."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AccountManagesTopic",
                "Effect": "Allow",
                "Principal": {"AWS": account_root_arn(partition, account_id)},
                "Action": [
                    "sns:GetTopicAttributes",
                    "sns:SetTopicAttributes",
                    "sns:AddPermission",
                    "sns:RemovePermission",
                    "sns:DeleteTopic",
                    "sns:Subscribe",
                    "sns:ListSubscriptionsByTopic",
                    "sns:Publish",
                ],
                "Resource": topic_arn,
                # Redundant with the principal, but an account-principal grant without a condition is what
                # policy scanners flag (checkov CKV_AWS_385); the condition pins it to this account anyway.
                "Condition": {"StringEquals": {"aws:PrincipalAccount": account_id}},
            },
            {
                "Sid": "AllowCloudWatchAlarmsPublish",
                "Effect": "Allow",
                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                "Action": "sns:Publish",
                "Resource": topic_arn,
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account_id},
                    "ArnLike": {"aws:SourceArn": alarms_arn_pattern(partition, region, account_id)},
                },
            },
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "sns:Publish",
                "Resource": topic_arn,
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
        ],
    }
