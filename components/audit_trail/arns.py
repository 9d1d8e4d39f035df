"""Partition-aware ARNs and console links: never a hard-coded `arn:aws:`."""

from __future__ import annotations

from urllib.parse import quote

CONSOLE_HOSTS = {
    "aws": "console.aws.amazon.com",
    "aws-us-gov": "console.amazonaws-us-gov.com",
    "aws-cn": "console.amazonaws.cn",
}


def account_root_arn(partition: str, account: str) -> str:
    """The account itself as a principal."""
    return f"arn:{partition}:iam::{account}:root"


def alarms_arn_pattern(partition: str, region: str, account: str) -> str:
    """Every CloudWatch alarm of the account in REGION (an `ArnLike` value)."""
    return f"arn:{partition}:cloudwatch:{region}:{account}:alarm:*"


def bucket_arn(partition: str, bucket: str) -> str:
    return f"arn:{partition}:s3:::{bucket}"


def trail_arn(partition: str, region: str, account: str, trail_name: str) -> str:
    """A trail's ARN, known before the trail exists (so the bucket policy can name it without a cycle)."""
    return f"arn:{partition}:cloudtrail:{region}:{account}:trail/{trail_name}"


def trail_console_url(partition: str, region: str, trail_arn_: str) -> str:
    host = CONSOLE_HOSTS.get(partition, CONSOLE_HOSTS["aws"])
    return f"https://{region}.{host}/cloudtrailv2/home?region={region}#/trails/{quote(trail_arn_, safe='')}"
