"""What the stack's private buckets share: no public access, no ACLs, default encryption, and for short-lived
contents an expiry."""

from __future__ import annotations

import pulumi
from pulumi_aws import s3


def lock_down(
    name: str,
    bucket: s3.Bucket,
    opts: pulumi.ResourceOptions,
    *,
    kms_key_arn: pulumi.Input[str] | None = None,
) -> list[pulumi.Resource]:
    """`NAME-public-access` (all four blocks), `NAME-ownership` (BucketOwnerEnforced: ACLs off) and
    `NAME-encryption`: SSE-KMS under KMS_KEY_ARN with a bucket key, else SSE-S3."""
    if kms_key_arn is not None:
        sse_rule = s3.BucketServerSideEncryptionConfigurationRuleArgs(
            apply_server_side_encryption_by_default=s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                sse_algorithm="aws:kms", kms_master_key_id=kms_key_arn
            ),
            # The bucket key cuts KMS requests (and their cost) for every object.
            bucket_key_enabled=True,
        )
    else:
        sse_rule = s3.BucketServerSideEncryptionConfigurationRuleArgs(
            apply_server_side_encryption_by_default=s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                sse_algorithm="AES256"
            )
        )
    return [
        s3.BucketPublicAccessBlock(
            f"{name}-public-access",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=opts,
        ),
        s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=bucket.id,
            rule=s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=opts,
        ),
        s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption", bucket=bucket.id, rules=[sse_rule], opts=opts
        ),
    ]


def expire_objects(
    name: str,
    bucket: s3.Bucket,
    opts: pulumi.ResourceOptions,
    *,
    rule_id: str,
    days: pulumi.Input[int],
    abort_uploads_after_days: int,
    noncurrent_days: int | None = None,
) -> s3.BucketLifecycleConfiguration:
    """`NAME-lifecycle`: every object expires DAYS after its creation; unfinished uploads are dropped too; in
    a versioned bucket (NONCURRENT_DAYS given) overwritten or deleted versions go that long after."""
    return s3.BucketLifecycleConfiguration(
        f"{name}-lifecycle",
        bucket=bucket.id,
        rules=[
            s3.BucketLifecycleConfigurationRuleArgs(
                id=rule_id,
                status="Enabled",
                filter=s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                expiration=s3.BucketLifecycleConfigurationRuleExpirationArgs(days=days),
                noncurrent_version_expiration=None
                if noncurrent_days is None
                else s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                    noncurrent_days=noncurrent_days
                ),
                abort_incomplete_multipart_upload=s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                    days_after_initiation=abort_uploads_after_days
                ),
            )
        ],
        opts=opts,
    )


def versioned(name: str, bucket: s3.Bucket, opts: pulumi.ResourceOptions) -> s3.BucketVersioning:
    """`NAME-versioning`: an overwritten or deleted object keeps its previous version."""
    return s3.BucketVersioning(
        f"{name}-versioning",
        bucket=bucket.id,
        versioning_configuration=s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
        opts=opts,
    )
