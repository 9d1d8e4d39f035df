"""The CloudWatch Logs delivery role: trusted by CloudTrail, allowed only this group's CloudTrail streams."""

from __future__ import annotations

import json

import pytest
from audit_trail.component.policies import cloudwatch

ACCOUNT = "123456789012"
GROUP = "/aws/cloudtrail/account-activity-trail"


def test_trust_policy_trusts_only_the_cloudtrail_service_and_no_condition_by_default() -> None:
    policy = cloudwatch.delivery_role_trust_policy()
    assert policy["Statement"] == [
        {
            "Sid": "AllowCloudTrailAssumeRole",
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ]


def test_trust_policy_source_arn_condition_is_opt_in() -> None:
    arn = f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/t"
    (statement,) = cloudwatch.delivery_role_trust_policy(trail_arn=arn)["Statement"]
    assert statement["Condition"] == {"StringEquals": {"aws:SourceArn": arn}}


@pytest.mark.parametrize(
    ("partition", "region"),
    [("aws", "eu-central-1"), ("aws-us-gov", "us-gov-east-1"), ("aws-cn", "cn-north-1")],
)
def test_role_policy_allows_only_stream_creation_and_puts_on_this_groups_cloudtrail_streams(
    partition: str, region: str
) -> None:
    policy = cloudwatch.delivery_role_policy(
        partition=partition, region=region, account_id=ACCOUNT, log_group_name=GROUP
    )
    stream = (
        f"arn:{partition}:logs:{region}:{ACCOUNT}:log-group:{GROUP}:log-stream:{ACCOUNT}_CloudTrail_{region}*"
    )
    assert [(s["Effect"], s["Action"], s["Resource"]) for s in policy["Statement"]] == [
        ("Allow", "logs:CreateLogStream", [stream]),
        ("Allow", "logs:PutLogEvents", [stream]),
    ]
    if partition != "aws":
        assert "arn:aws:" not in json.dumps(policy)


def test_organization_trail_adds_the_organization_streams() -> None:
    policy = cloudwatch.delivery_role_policy(
        partition="aws",
        region="us-east-1",
        account_id=ACCOUNT,
        log_group_name=GROUP,
        organization_id="o-abc123def4",
    )
    for statement in policy["Statement"]:
        assert statement["Resource"] == [
            f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{GROUP}:log-stream:{ACCOUNT}_CloudTrail_us-east-1*",
            f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{GROUP}:log-stream:o-abc123def4_*",
        ]


def test_trail_log_group_arn_ends_in_colon_star_exactly_once() -> None:
    arn = cloudwatch.log_group_arn(
        partition="aws-cn", region="cn-north-1", account_id=ACCOUNT, log_group_name=GROUP
    )
    assert arn == f"arn:aws-cn:logs:cn-north-1:{ACCOUNT}:log-group:{GROUP}"
    assert cloudwatch.trail_log_group_arn(arn) == f"{arn}:*"
    assert cloudwatch.trail_log_group_arn(f"{arn}:*") == f"{arn}:*"
