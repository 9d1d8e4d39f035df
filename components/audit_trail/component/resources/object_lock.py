"""Object lock (WORM) on the trail bucket: every new log file is locked for a default retention period.

S3 can lock only objects of a bucket created with object lock enabled: turning it on for a bucket the stack
already created replaces that bucket (a new, empty bucket; the old one is kept when `retainOnDelete` is on).
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
from pulumi_aws import s3

from .context import Context


def object_lock(
    ctx: Context, *, bucket: s3.Bucket, after: Sequence[pulumi.Resource]
) -> s3.BucketObjectLockConfiguration:
    """Default retention in the configured mode (GOVERNANCE or COMPLIANCE) for every new log file."""
    return s3.BucketObjectLockConfiguration(
        f"{ctx.name}-object-lock",
        bucket=bucket.id,
        rule=s3.BucketObjectLockConfigurationRuleArgs(
            default_retention=s3.BucketObjectLockConfigurationRuleDefaultRetentionArgs(
                mode=ctx.settings.object_lock_mode.value, days=ctx.settings.lock_retention_days
            )
        ),
        # Object lock needs versioning, which the bucket's own settings turn on.
        opts=ctx.opts(keep=True, depends_on=after),
    )
