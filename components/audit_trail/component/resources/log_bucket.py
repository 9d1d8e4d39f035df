"""The bucket the trail writes to: one the stack creates and locks down, or a central one it only names."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
from pulumi_aws import s3

from ... import arns
from ..names import LOG_BUCKET
from ..policies.log_bucket import log_bucket_policy
from ..settings import AuditTrailSettings
from .access_logging import access_logging
from .buckets import lock_down, versioned
from .context import Context
from .object_lock import object_lock


@dataclass(frozen=True)
class LogBucket:
    """Where the trail delivers, whether the stack owns the bucket or not."""

    id: pulumi.Output[str]
    name: pulumi.Output[str]
    arn: pulumi.Output[str]
    ready: list[pulumi.Resource]
    """What must exist before the trail is created (CloudTrail checks the bucket policy then)."""
    log_buckets: list[pulumi.Output[str]]
    """Buckets holding logs, the trail's own first: S3 data events leave out their deliveries, which would
    otherwise be logged, delivered and logged again (see `selectors`)."""


def log_bucket(ctx: Context, *, kms_key_arn: pulumi.Output[str] | None) -> LogBucket:
    s = ctx.settings
    if s.central_bucket_name:
        # A bucket the stack does not own: its owner applies the policy `audit-trail plan` prints.
        name = pulumi.Output.from_input(s.central_bucket_name)
        arn = ctx.partition.apply(lambda p: arns.bucket_arn(p, s.central_bucket_name))
        return LogBucket(id=name, name=name, arn=arn, ready=[], log_buckets=[name])

    bucket, configured = _owned_bucket(ctx, kms_key_arn)
    policy = s3.BucketPolicy(
        f"{ctx.name}-policy",
        bucket=bucket.id,
        policy=pulumi.Output.all(ctx.partition, bucket.bucket, ctx.trail_arn, ctx.account).apply(
            lambda a: json.dumps(
                log_bucket_policy(
                    bucket_arn=arns.bucket_arn(a[0], a[1]),
                    trail_arn=a[2],
                    account=a[3],
                    s3_key_prefix=s.s3_key_prefix,
                    organization_id=s.organization,
                )
            )
        ),
        opts=ctx.opts(keep=True, depends_on=configured),
    )
    ready: list[pulumi.Resource] = [policy, *configured]
    log_buckets = [bucket.bucket]
    if s.access_logging:
        log_buckets.append(access_logging(ctx, trail_bucket=bucket).bucket)
    if s.has_object_lock:
        ready.append(object_lock(ctx, bucket=bucket, after=configured))
    return LogBucket(id=bucket.id, name=bucket.bucket, arn=bucket.arn, ready=ready, log_buckets=log_buckets)


def _owned_bucket(
    ctx: Context, kms_key_arn: pulumi.Output[str] | None
) -> tuple[s3.Bucket, list[pulumi.Resource]]:
    """The bucket and the resources that lock it down, which must exist before logs arrive.

    The bucket's settings are retained with it: deleting them on destroy would leave the kept logs open to
    public policies, without the TLS-only policy, or never expiring.
    """
    s = ctx.settings
    bucket = s3.Bucket(
        f"{ctx.name}-{LOG_BUCKET}",
        bucket=s.bucket_name or None,
        force_destroy=s.force_destroy,
        # No `object_lock_enabled` here: it forces a new bucket. `object_lock` enables the lock in place.
        tags=ctx.tags,
        opts=ctx.opts(keep=True),
    )
    locked = lock_down(ctx.name, bucket, ctx.opts(keep=True), kms_key_arn=kms_key_arn)
    versioning = versioned(ctx.name, bucket, ctx.opts(keep=True))
    lifecycle = s3.BucketLifecycleConfiguration(
        f"{ctx.name}-lifecycle",
        bucket=bucket.id,
        rules=lifecycle_rules(s),
        # S3 rejects lifecycle rules on noncurrent versions until versioning is on.
        opts=ctx.opts(keep=True, depends_on=[versioning]),
    )
    return bucket, [*locked, versioning, lifecycle]


def lifecycle_rules(settings: AuditTrailSettings) -> list[s3.BucketLifecycleConfigurationRuleArgs]:
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
