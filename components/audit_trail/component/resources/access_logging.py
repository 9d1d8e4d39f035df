"""S3 server access logging of the trail bucket (CIS 3.4) into a bucket of its own."""

from __future__ import annotations

import json

import pulumi
from pulumi_aws import s3

from ..names import ACCESS_LOG_BUCKET
from ..policies.access_logs import access_log_bucket_policy
from .buckets import expire_objects, lock_down, versioned
from .context import Context

ACCESS_LOG_PREFIX = "s3-access-logs/"


def access_logging(ctx: Context, *, trail_bucket: s3.Bucket) -> s3.Bucket:
    """The access-log bucket - public access blocked, SSE-S3 (S3 cannot deliver access logs into SSE-KMS), its
    own lifecycle, writable only by S3's logging service for the trail bucket - and logging turned on."""
    s = ctx.settings
    name = f"{ctx.name}-{ACCESS_LOG_BUCKET}"
    bucket = s3.Bucket(name, tags=ctx.tags, opts=ctx.opts(keep=True))
    # Versioned: the access logs are evidence too (who read or overwrote a log file), and an overwritten or
    # deleted one keeps its previous version for `noncurrentVersionDays` (checkov CKV_AWS_21).
    versioning = versioned(name, bucket, ctx.opts(keep=True))
    locked = [
        *lock_down(name, bucket, ctx.opts(keep=True)),
        versioning,
        expire_objects(
            name,
            bucket,
            # S3 rejects lifecycle rules on noncurrent versions until versioning is on.
            ctx.opts(keep=True, depends_on=[versioning]),
            rule_id="expire-access-logs",
            days=s.access_log_retention_days,
            abort_uploads_after_days=7,
            noncurrent_days=s.noncurrent_version_days,
        ),
    ]
    policy = s3.BucketPolicy(
        f"{name}-policy",
        bucket=bucket.id,
        policy=pulumi.Output.all(ctx.partition, ctx.account, bucket.arn, trail_bucket.bucket).apply(
            lambda a: json.dumps(
                access_log_bucket_policy(
                    partition=a[0],
                    account_id=a[1],
                    access_log_bucket_arn=a[2],
                    source_bucket_name=a[3],
                    log_prefix=ACCESS_LOG_PREFIX,
                )
            )
        ),
        opts=ctx.opts(keep=True, depends_on=locked),
    )
    s3.BucketLogging(
        f"{ctx.name}-access-logging",
        bucket=trail_bucket.id,
        target_bucket=bucket.id,
        target_prefix=ACCESS_LOG_PREFIX,
        opts=ctx.opts(keep=True, depends_on=[policy]),
    )
    return bucket
