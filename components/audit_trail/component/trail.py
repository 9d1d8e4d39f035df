"""AuditTrail: a multi-region CloudTrail trail writing to a dedicated, locked-down, retained S3 bucket.

No `from __future__ import annotations` here: the schema analyser reads `__init__`'s and the outputs'
annotations as real types.
"""

from typing import Any, Optional

import pulumi
import pulumi_aws as aws
from pulumi_aws import cloudtrail

from .. import arns, cloudtrail_layout
from .args import AuditTrailArgs
from .problems import ConfigError
from .resources.athena import add_athena
from .resources.cis_alarms import cis_alarms
from .resources.cloudwatch_delivery import cloudwatch_delivery
from .resources.context import Context
from .resources.kms_key import alarm_topic_key
from .resources.log_bucket import log_bucket
from .resources.trail_options import EncryptionKey, trail_arguments
from .validation import validate

TYPE = "audit-trail:index:AuditTrail"

STACK_OUTPUTS = {
    "trailName": "trail_name",
    "trailArn": "trail_arn",
    "bucketName": "bucket_name",
    "bucketArn": "bucket_arn",
    "homeRegion": "home_region",
    "s3KeyPrefix": "s3_key_prefix",
    "logsLocation": "logs_location",
    "consoleUrl": "console_url",
    "athenaDatabase": "athena_database",
    "athenaTable": "athena_table",
    "athenaWorkgroup": "athena_workgroup",
}
"""Stack output name -> component attribute: the contract the CLI and other tools read."""
ATHENA_OUTPUTS = frozenset({"athenaDatabase", "athenaTable", "athenaWorkgroup"})
"""Exported only by a stack with `athena: true`."""


class InvalidConfiguration(ConfigError, pulumi.RunError):
    """A ConfigError as `pulumi up` reports it: a RunError, so the engine shows the message, no traceback."""


class AuditTrail(pulumi.ComponentResource):
    """A tamper-evident CloudTrail trail for an AWS account and the dedicated S3 bucket keeping its logs."""

    trail_name: pulumi.Output[str]
    """Name of the trail."""
    trail_arn: pulumi.Output[str]
    """ARN of the trail."""
    bucket_name: pulumi.Output[str]
    """Name of the log bucket."""
    bucket_arn: pulumi.Output[str]
    """ARN of the log bucket."""
    home_region: pulumi.Output[str]
    """Region the trail was created in."""
    s3_key_prefix: pulumi.Output[str]
    """Key prefix of the log files in the bucket (may be empty)."""
    logs_location: pulumi.Output[str]
    """Where this account's log files land: `s3://bucket/[prefix/]AWSLogs/<account>/`, or
    `s3://bucket/[prefix/]AWSLogs/<o-id>/<account>/` for an organization trail."""
    console_url: pulumi.Output[str]
    """Link to the trail in the AWS console."""
    athena_database: pulumi.Output[Optional[str]]  # noqa: UP045
    """With athena: the Glue database holding the trail table (else null)."""
    athena_table: pulumi.Output[Optional[str]]  # noqa: UP045
    """With athena: the trail table (else null)."""
    athena_workgroup: pulumi.Output[Optional[str]]  # noqa: UP045
    """With athena: the Athena workgroup to query in (else null)."""

    def __init__(
        self,
        name: str,
        args: AuditTrailArgs,
        opts: Optional[pulumi.ResourceOptions] = None,  # noqa: UP045
    ) -> None:
        # Validate first: a bad setting must leave nothing registered, not even this component.
        # The region is known before any resource only from the default provider's config.
        try:
            settings = validate(
                args or {}, region=None if opts and opts.provider else aws.config.region, name=name
            )
        except ConfigError as exc:
            raise InvalidConfiguration(exc.problems) from None
        super().__init__(TYPE, name, {}, opts)

        invoke = pulumi.InvokeOptions(parent=self)
        partition = aws.get_partition_output(opts=invoke).partition
        account = aws.get_caller_identity_output(opts=invoke).account_id
        region = aws.get_region_output(opts=invoke).region

        source_trail_arn = pulumi.Output.all(partition, region, account).apply(
            lambda a: arns.trail_arn(a[0], a[1], a[2], settings.trail_name)
        )
        ctx = Context(name, self, settings, partition, region, account, source_trail_arn)
        key = EncryptionKey(ctx)
        bucket = log_bucket(ctx, kms_key_arn=key.arn)
        delivery = cloudwatch_delivery(ctx, kms_key_arn=key.arn) if settings.cloud_watch_logs else None
        trail = cloudtrail.Trail(
            f"{name}-trail",
            name=settings.trail_name,
            s3_bucket_name=bucket.id,
            s3_key_prefix=settings.s3_key_prefix or None,
            is_multi_region_trail=settings.multi_region,
            include_global_service_events=settings.include_global_service_events,
            enable_log_file_validation=settings.log_file_validation,
            enable_logging=settings.enable_logging,
            tags=settings.tags or None,
            **trail_arguments(ctx, key=key, delivery=delivery, log_buckets=bucket.log_buckets),
            # CloudTrail checks the bucket policy (and key, log group role) when the trail is created.
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[*bucket.ready, *(delivery.ready if delivery else [])]
            ),
        )
        if delivery is not None and settings.cis_alarms:
            # The topic has a key of its own: the trail's key protects the logs, and CloudWatch needs decrypt
            # on whatever key encrypts the topic.
            cis_alarms(ctx, log_group=delivery.group, topic_key_arn=alarm_topic_key(ctx))
        athena_names = add_athena(ctx, bucket_name=bucket.name) if settings.athena else None
        self._athena = athena_names is not None

        self.trail_name = trail.name
        self.trail_arn = trail.arn
        self.bucket_name = bucket.name
        self.bucket_arn = bucket.arn
        self.home_region = trail.home_region
        self.s3_key_prefix = pulumi.Output.from_input(settings.s3_key_prefix)
        # An organization trail writes every account, this one included, under AWSLogs/<o-id>/<account>/.
        self.logs_location = pulumi.Output.all(bucket.name, account).apply(
            lambda a: cloudtrail_layout.logs_location(
                a[0], settings.s3_key_prefix, a[1], settings.organization
            )
        )
        self.console_url = pulumi.Output.all(partition, trail.home_region, trail.arn).apply(
            lambda a: arns.trail_console_url(a[0], a[1], a[2])
        )
        # Where `audit-trail query --engine athena --stack <stack>` finds the table.
        self.athena_database = pulumi.Output.from_input(athena_names.database if athena_names else None)
        self.athena_table = pulumi.Output.from_input(athena_names.table if athena_names else None)
        self.athena_workgroup = pulumi.Output.from_input(athena_names.workgroup if athena_names else None)
        self.register_outputs({attr: getattr(self, attr) for attr in STACK_OUTPUTS.values()})

    def stack_outputs(self) -> dict[str, pulumi.Output[Any]]:
        """The outputs under their stack output names (camelCase), for `pulumi.export`; the Athena ones only
        when the stack has Athena."""
        return {
            key: getattr(self, attr)
            for key, attr in STACK_OUTPUTS.items()
            if self._athena or key not in ATHENA_OUTPUTS
        }
