"""IAM role that lets CloudTrail deliver the trail's events to its CloudWatch Logs group.

Follows the CloudTrail user guide page "Role policy document for CloudTrail to use CloudWatch Logs for
monitoring": only `logs:CreateLogStream` and `logs:PutLogEvents`, only on this group's CloudTrail streams
(`<account>_CloudTrail_<home region>*`, plus `o-<org id>_*` for an organization trail).
"""

from __future__ import annotations

from typing import Any


def log_group_arn(*, partition: str, region: str, account_id: str, log_group_name: str) -> str:
    return f"arn:{partition}:logs:{region}:{account_id}:log-group:{log_group_name}"


def trail_log_group_arn(group_arn: str) -> str:
    """The form CloudTrail's `cloudWatchLogsGroupArn` requires: the group ARN ending in `:*`."""
    return group_arn if group_arn.endswith(":*") else f"{group_arn}:*"


def delivery_stream_arns(
    *,
    partition: str,
    region: str,
    account_id: str,
    log_group_name: str,
    organization_id: str | None = None,
) -> list[str]:
    group = log_group_arn(
        partition=partition, region=region, account_id=account_id, log_group_name=log_group_name
    )
    streams = [f"{group}:log-stream:{account_id}_CloudTrail_{region}*"]
    if organization_id:
        streams.append(f"{group}:log-stream:{organization_id}_*")
    return streams


def delivery_role_trust_policy(*, trail_arn: str | None = None) -> dict[str, Any]:
    """Trust policy: only the CloudTrail service may assume the role.

    AWS's documented role trusts `cloudtrail.amazonaws.com` with no condition, and a public report says an
    `aws:SourceArn` condition here stopped delivery; pass `trail_arn` only when that is known to work.
    """
    statement: dict[str, Any] = {
        "Sid": "AllowCloudTrailAssumeRole",
        "Effect": "Allow",
        "Principal": {"Service": "cloudtrail.amazonaws.com"},
        "Action": "sts:AssumeRole",
    }
    if trail_arn is not None:
        statement["Condition"] = {"StringEquals": {"aws:SourceArn": trail_arn}}
    return {"Version": "2012-10-17", "Statement": [statement]}


def delivery_role_policy(
    *,
    partition: str,
    region: str,
    account_id: str,
    log_group_name: str,
    organization_id: str | None = None,
) -> dict[str, Any]:
    """Permissions of the delivery role: create streams and put events on this group's CloudTrail streams."""
    streams = delivery_stream_arns(
        partition=partition,
        region=region,
        account_id=account_id,
        log_group_name=log_group_name,
        organization_id=organization_id,
    )
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AWSCloudTrailCreateLogStream",
                "Effect": "Allow",
                "Action": "logs:CreateLogStream",
                "Resource": streams,
            },
            {
                "Sid": "AWSCloudTrailPutLogEvents",
                "Effect": "Allow",
                "Action": "logs:PutLogEvents",
                "Resource": streams,
            },
        ],
    }
