"""The customer-managed key that encrypts the trail's log and digest files (CIS 3.5, rotation CIS 3.6)."""

from __future__ import annotations

import pulumi
from pulumi_aws import kms

from ..policies.kms import alarm_topic_key_policy, trail_key_policy
from .context import Context

DELETION_WINDOW_DAYS = 30


def trail_key(ctx: Context, *, log_group_name: str | None) -> kms.Key:
    """The key, rotated yearly and kept with the logs, with the policy CloudTrail (and the log group when it
    shares the key) needs; and its alias `alias/<trail name>-logs`."""
    name = ctx.settings.trail_name
    key = kms.Key(
        f"{ctx.name}-key",
        description=f"Encrypts the log files of CloudTrail trail {name}",
        enable_key_rotation=True,
        deletion_window_in_days=DELETION_WINDOW_DAYS,
        policy=ctx.policy(
            lambda partition, region, account, trail_arn: trail_key_policy(
                partition=partition,
                region=region,
                account_id=account,
                trail_arn=trail_arn,
                log_group_name=log_group_name,
            )
        ),
        tags=ctx.tags,
        opts=ctx.opts(keep=True),
    )
    kms.Alias(
        f"{ctx.name}-key-alias",
        name=f"alias/{ctx.settings.base_name}-logs",
        target_key_id=key.key_id,
        opts=ctx.opts(keep=True),
    )
    return key


def alarm_topic_key(ctx: Context) -> pulumi.Output[str]:
    """The alarm topic's own small key: CloudWatch may decrypt with it, never with the key of the logs."""
    key = kms.Key(
        f"{ctx.name}-alarms-key",
        description=f"Encrypts the CIS alarm topic of CloudTrail trail {ctx.settings.trail_name}",
        enable_key_rotation=True,
        deletion_window_in_days=DELETION_WINDOW_DAYS,
        policy=ctx.policy(
            lambda partition, region, account, _trail: alarm_topic_key_policy(
                partition=partition, region=region, account_id=account
            )
        ),
        tags=ctx.tags,
        opts=ctx.opts(),
    )
    return key.arn
