"""The trail's arguments the options decide: key, CloudWatch Logs, selectors, Insights, organization."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi
from pulumi_aws import cloudtrail

from .cloudwatch_delivery import Delivery, log_group_name
from .context import Context
from .kms_key import trail_key
from .selectors import advanced_event_selectors, insight_selectors


class EncryptionKey:
    """The trail's KMS key: None, an existing key (its ARN), or one the stack creates."""

    def __init__(self, ctx: Context) -> None:
        s = ctx.settings
        self.arn: pulumi.Output[str] | None = None
        if s.kms_encryption and s.kms_key_arn:
            self.arn = pulumi.Output.from_input(s.kms_key_arn)
        elif s.kms_encryption:
            key = trail_key(ctx, log_group_name=log_group_name(s.trail_name) if s.cloud_watch_logs else None)
            self.arn = key.arn


def _advanced(selectors: list[dict[str, Any]]) -> list[cloudtrail.TrailAdvancedEventSelectorArgs]:
    return [
        cloudtrail.TrailAdvancedEventSelectorArgs(
            name=s["name"],
            field_selectors=[
                cloudtrail.TrailAdvancedEventSelectorFieldSelectorArgs(**f) for f in s["field_selectors"]
            ],
        )
        for s in selectors
    ]


def trail_arguments(
    ctx: Context,
    *,
    key: EncryptionKey,
    delivery: Delivery | None,
    log_buckets: Sequence[pulumi.Input[str]],
) -> dict[str, Any]:
    """The trail's arguments the options decide; with every option off, exactly the seed's basic selector."""
    s = ctx.settings
    read_write = s.read_write_type
    arguments: dict[str, Any] = {}
    if s.has_advanced_selectors:
        arguments["advanced_event_selectors"] = pulumi.Output.all(ctx.partition, *log_buckets).apply(
            lambda a: _advanced(advanced_event_selectors(s, partition=a[0], log_buckets=a[1:]) or [])
        )
    else:
        arguments["event_selectors"] = [
            cloudtrail.TrailEventSelectorArgs(
                read_write_type=read_write.value, include_management_events=True
            )
        ]
    if key.arn is not None:
        arguments["kms_key_id"] = key.arn
    if delivery is not None:
        arguments["cloud_watch_logs_group_arn"] = delivery.trail_group_arn
        arguments["cloud_watch_logs_role_arn"] = delivery.role.arn
    if s.insights:
        arguments["insight_selectors"] = [
            cloudtrail.TrailInsightSelectorArgs(insight_type=i["insight_type"])
            for i in insight_selectors(read_write)
        ]
    if s.is_organization_trail:
        arguments["is_organization_trail"] = True
    return arguments
