"""CIS 4.1-4.15: a metric filter on the trail's log group and an alarm each, into an encrypted topic."""

from __future__ import annotations

import json

import pulumi
from pulumi_aws import cloudwatch, sns

from ..cis_controls import (
    ALARM_COMPARISON,
    ALARM_EVALUATION_PERIODS,
    ALARM_PERIOD_SECONDS,
    ALARM_STATISTIC,
    ALARM_THRESHOLD,
    CIS_CONTROLS,
    metric_namespace,
)
from ..policies.sns import alarm_topic_policy
from .context import Context


def cis_alarms(
    ctx: Context, *, log_group: cloudwatch.LogGroup, topic_key_arn: pulumi.Input[str]
) -> sns.Topic:
    """The topic (with the configured email subscriptions) and the fifteen filters and alarms."""
    trail = ctx.settings.trail_name
    namespace = metric_namespace(trail)
    topic = sns.Topic(
        f"{ctx.name}-alarms",
        name=f"{ctx.settings.base_name}-cis-alarms",
        kms_master_key_id=topic_key_arn,
        tags=ctx.tags,
        opts=ctx.opts(),
    )
    sns.TopicPolicy(
        f"{ctx.name}-alarms-policy",
        arn=topic.arn,
        policy=pulumi.Output.all(ctx.partition, ctx.region, ctx.account, topic.arn).apply(
            lambda a: json.dumps(
                alarm_topic_policy(partition=a[0], region=a[1], account_id=a[2], topic_arn=a[3])
            )
        ),
        opts=ctx.opts(),
    )
    for index, email in enumerate(ctx.settings.alarm_emails):
        sns.TopicSubscription(
            f"{ctx.name}-alarms-email-{index}",
            topic=topic.arn,
            protocol="email",
            endpoint=email,
            opts=ctx.opts(),
        )
    for control in CIS_CONTROLS:
        metric_filter = cloudwatch.LogMetricFilter(
            f"{ctx.name}-{control.resource_suffix}",
            name=f"{trail}-{control.resource_suffix}-{control.metric_name}",
            log_group_name=log_group.name,
            pattern=control.filter_pattern,
            metric_transformation=cloudwatch.LogMetricFilterMetricTransformationArgs(
                name=control.metric_name, namespace=namespace, value="1"
            ),
            opts=ctx.opts(),
        )
        hub = f", Security Hub {control.security_hub_id}" if control.security_hub_id else ""
        cloudwatch.MetricAlarm(
            f"{ctx.name}-{control.resource_suffix}-alarm",
            name=f"{trail}-CIS-{control.cis_id}-{control.metric_name}",
            alarm_description=f"CIS {control.cis_id}{hub}: {control.title} (trail {trail})",
            namespace=namespace,
            metric_name=control.metric_name,
            statistic=ALARM_STATISTIC,
            period=ALARM_PERIOD_SECONDS,
            evaluation_periods=ALARM_EVALUATION_PERIODS,
            threshold=ALARM_THRESHOLD,
            comparison_operator=ALARM_COMPARISON,
            treat_missing_data="notBreaching",
            alarm_actions=[topic.arn],
            tags=ctx.tags,
            opts=ctx.opts(depends_on=[metric_filter]),
        )
    return topic
