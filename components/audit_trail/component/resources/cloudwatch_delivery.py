"""Delivery of the trail's events to a CloudWatch Logs group, through a role only CloudTrail can assume."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
from pulumi_aws import cloudwatch, iam

from ..names import CLOUDWATCH_ROLE
from ..policies.cloudwatch import delivery_role_policy, delivery_role_trust_policy, trail_log_group_arn
from .context import Context


def log_group_name(trail_name: str) -> str:
    """Fixed, so the key policy can name the group before the group exists."""
    return f"cloudtrail/{trail_name}"


@dataclass(frozen=True)
class Delivery:
    group: cloudwatch.LogGroup
    role: iam.Role
    ready: list[pulumi.Resource]
    """What must exist before the trail points at the group."""

    @property
    def trail_group_arn(self) -> pulumi.Output[str]:
        return self.group.arn.apply(trail_log_group_arn)


def cloudwatch_delivery(ctx: Context, *, kms_key_arn: pulumi.Input[str] | None) -> Delivery:
    s = ctx.settings
    group_name = log_group_name(s.trail_name)
    group = cloudwatch.LogGroup(
        f"{ctx.name}-log-group",
        name=group_name,
        retention_in_days=s.cloud_watch_logs_retention_days,
        kms_key_id=kms_key_arn,
        tags=ctx.tags,
        opts=ctx.opts(keep=True),
    )
    trust = pulumi.Output.from_input(
        json.dumps(delivery_role_trust_policy())
        if not s.cloud_watch_logs_role_source_arn
        else ctx.trail_arn.apply(lambda arn: json.dumps(delivery_role_trust_policy(trail_arn=arn)))
    )
    role = iam.Role(
        f"{ctx.name}-{CLOUDWATCH_ROLE}",
        description=f"Lets CloudTrail trail {s.trail_name} deliver its events to {group_name}",
        assume_role_policy=trust,
        tags=ctx.tags,
        opts=ctx.opts(),
    )
    role_policy = iam.RolePolicy(
        f"{ctx.name}-cloudwatch-delivery",
        role=role.id,
        policy=ctx.policy(
            lambda partition, region, account, _trail: delivery_role_policy(
                partition=partition,
                region=region,
                account_id=account,
                log_group_name=group_name,
                organization_id=s.organization,
            )
        ),
        opts=ctx.opts(),
    )
    return Delivery(group=group, role=role, ready=[group, role, role_policy])
