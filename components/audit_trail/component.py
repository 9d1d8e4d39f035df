"""AuditTrail: a multi-region CloudTrail trail writing to a dedicated, locked-down, retained S3 bucket.

No `from __future__ import annotations` here: the schema analyser reads `__init__`'s and the outputs'
annotations as real types.
"""

import json
from typing import Any, Optional

import pulumi
import pulumi_aws as aws
from pulumi_aws import cloudtrail, s3

from . import arns
from .args import AuditTrailArgs
from .athena_resources import add_athena
from .hardening.access_logging import access_logging
from .hardening.alarms import cis_alarms
from .hardening.cloudwatch_delivery import cloudwatch_delivery
from .hardening.context import Context
from .hardening.object_lock import object_lock
from .hardening.trail import EncryptionKey, trail_arguments
from .policies.central_bucket import log_bucket_policy
from .private_bucket import lock_down
from .settings import AuditTrailSettings
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
}
"""Stack output name -> component attribute: the contract the CLI and other tools read."""


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
    """Where this account's log files land: `s3://bucket/[prefix/]AWSLogs/<account>/`."""
    console_url: pulumi.Output[str]
    """Link to the trail in the AWS console."""

    def __init__(
        self,
        name: str,
        args: AuditTrailArgs,
        opts: Optional[pulumi.ResourceOptions] = None,  # noqa: UP045
    ) -> None:
        # Validate first: a bad setting must leave nothing registered, not even this component.
        # The region is known before any resource only from the default provider's config.
        settings = validate(args or {}, region=None if opts and opts.provider else aws.config.region)
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
        organization_id = settings.organization_id if settings.is_organization_trail else None
        bucket_id: pulumi.Output[str]
        if settings.central_bucket_name:
            # A bucket the stack does not own: its owner applies the policy `audit-trail plan` prints.
            bucket_id = bucket_name = pulumi.Output.from_input(settings.central_bucket_name)
            bucket_arn = partition.apply(lambda p: arns.bucket_arn(p, settings.central_bucket_name))
            ready: list[pulumi.Resource] = []
            log_buckets = [bucket_name]
        else:
            bucket, bucket_configured = self._log_bucket(name, settings, key.arn)
            policy = s3.BucketPolicy(
                f"{name}-policy",
                bucket=bucket.id,
                policy=pulumi.Output.all(partition, bucket.bucket, source_trail_arn, account).apply(
                    lambda a: json.dumps(
                        log_bucket_policy(
                            bucket_arn=arns.bucket_arn(a[0], a[1]),
                            trail_arn=a[2],
                            account=a[3],
                            s3_key_prefix=settings.s3_key_prefix,
                            organization_id=organization_id,
                        )
                    )
                ),
                opts=self._bucket_child_opts(settings, depends_on=bucket_configured),
            )
            ready = [policy, *bucket_configured]
            bucket_id, bucket_name, bucket_arn = bucket.id, bucket.bucket, bucket.arn
            log_buckets = [bucket.bucket]
            if settings.access_logging:
                log_buckets.append(access_logging(ctx, trail_bucket=bucket).bucket)
            if settings.object_lock_mode.value != "None":
                ready.append(object_lock(ctx, bucket=bucket, after=bucket_configured))
        delivery = cloudwatch_delivery(ctx, kms_key_arn=key.arn) if settings.cloud_watch_logs else None
        trail = cloudtrail.Trail(
            f"{name}-trail",
            name=settings.trail_name,
            s3_bucket_name=bucket_id,
            s3_key_prefix=settings.s3_key_prefix or None,
            is_multi_region_trail=settings.multi_region,
            include_global_service_events=settings.include_global_service_events,
            enable_log_file_validation=settings.log_file_validation,
            enable_logging=settings.enable_logging,
            tags=settings.tags or None,
            **trail_arguments(ctx, key=key, delivery=delivery, log_buckets=log_buckets),
            # CloudTrail checks the bucket policy (and key, log group role) when the trail is created.
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[*ready, *(delivery.ready if delivery else [])]
            ),
        )
        if delivery is not None and settings.cis_alarms:
            cis_alarms(ctx, log_group=delivery.group, topic_key_arn=key.for_alarm_topic(ctx))
        if settings.athena:
            add_athena(
                self,
                name=name,
                bucket_name=bucket_name,
                s3_key_prefix=settings.s3_key_prefix,
                partition=partition,
                account=account,
                organization_id=organization_id,
                tags=settings.tags or None,
            )

        self.trail_name = trail.name
        self.trail_arn = trail.arn
        self.bucket_name = bucket_name
        self.bucket_arn = bucket_arn
        self.home_region = trail.home_region
        self.s3_key_prefix = pulumi.Output.from_input(settings.s3_key_prefix)
        self.logs_location = pulumi.Output.all(bucket_name, account).apply(
            lambda a: arns.logs_location(a[0], settings.s3_key_prefix, a[1])
        )
        self.console_url = pulumi.Output.all(partition, trail.home_region, trail.arn).apply(
            lambda a: arns.trail_console_url(a[0], a[1], a[2])
        )
        self.register_outputs({attr: getattr(self, attr) for attr in STACK_OUTPUTS.values()})

    def stack_outputs(self) -> dict[str, pulumi.Output[Any]]:
        """The outputs under their stack output names (camelCase), for `pulumi.export`."""
        return {key: getattr(self, attr) for key, attr in STACK_OUTPUTS.items()}

    def _bucket_child_opts(
        self, settings: AuditTrailSettings, depends_on: list[pulumi.Resource] | None = None
    ) -> pulumi.ResourceOptions:
        # The bucket's settings are retained with it: deleting them on destroy would leave the kept logs
        # open to public policies, without the TLS-only policy, or never expiring.
        return pulumi.ResourceOptions(
            parent=self, retain_on_delete=settings.retain_on_delete, depends_on=depends_on or []
        )

    def _log_bucket(
        self, name: str, settings: AuditTrailSettings, kms_key_arn: pulumi.Output[str] | None
    ) -> tuple[s3.Bucket, list[pulumi.Resource]]:
        """The bucket and the resources that lock it down, which must exist before logs arrive."""
        bucket = s3.Bucket(
            f"{name}-logs",
            bucket=settings.bucket_name or None,
            force_destroy=settings.force_destroy,
            # S3 enables object lock only at creation: switching it on replaces the bucket (`plan` warns).
            object_lock_enabled=True if settings.object_lock_mode.value != "None" else None,
            tags=settings.tags or None,
            opts=self._bucket_child_opts(settings),
        )
        locked = lock_down(name, bucket, self._bucket_child_opts(settings), kms_key_arn=kms_key_arn)
        versioning = s3.BucketVersioning(
            f"{name}-versioning",
            bucket=bucket.id,
            versioning_configuration=s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
            opts=self._bucket_child_opts(settings),
        )
        lifecycle = s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=bucket.id,
            rules=_lifecycle_rules(settings),
            # S3 rejects lifecycle rules on noncurrent versions until versioning is on.
            opts=self._bucket_child_opts(settings, depends_on=[versioning]),
        )
        return bucket, [*locked, versioning, lifecycle]


def _lifecycle_rules(settings: AuditTrailSettings) -> list[s3.BucketLifecycleConfigurationRuleArgs]:
    """Expire logs after the retention period, and clean up what versioning would otherwise keep forever."""
    every_object = s3.BucketLifecycleConfigurationRuleFilterArgs(prefix="")
    return [
        s3.BucketLifecycleConfigurationRuleArgs(
            id="expire-logs",
            status="Enabled",
            filter=every_object,
            expiration=s3.BucketLifecycleConfigurationRuleExpirationArgs(days=settings.retention_days),
            noncurrent_version_expiration=s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                noncurrent_days=settings.noncurrent_version_days
            ),
            abort_incomplete_multipart_upload=s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                days_after_initiation=7
            ),
        ),
        # S3 refuses `expired_object_delete_marker` next to `days` in one rule, hence a rule of its own.
        s3.BucketLifecycleConfigurationRuleArgs(
            id="remove-expired-delete-markers",
            status="Enabled",
            filter=every_object,
            expiration=s3.BucketLifecycleConfigurationRuleExpirationArgs(expired_object_delete_marker=True),
        ),
    ]
