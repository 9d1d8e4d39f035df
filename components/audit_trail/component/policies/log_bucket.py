"""Bucket-policy statements for organization trails and for a log bucket the stack does not own.

An organization trail writes member accounts' logs under `[prefix/]AWSLogs/o-ORGID/`; the bucket needs one
more `s3:PutObject` statement for that path, with the same conditions as the account's own path.
"""

from __future__ import annotations

from typing import Any

from .bucket import cloudtrail_acl_check, cloudtrail_write, deny_insecure_transport, policy_document


def organization_trail_statement(
    *, bucket_arn: str, s3_key_prefix: str, organization_id: str, trail_arn: str
) -> dict[str, Any]:
    """CloudTrail may write member accounts' logs, with the same conditions as the account's own: the
    organization id takes the account's place in the path."""
    return {
        **cloudtrail_write(bucket_arn, trail_arn, organization_id, s3_key_prefix),
        "Sid": "AWSCloudTrailWriteOrganization",
    }


def log_bucket_policy(
    *,
    bucket_arn: str,
    trail_arn: str,
    account: str,
    s3_key_prefix: str = "",
    organization_id: str | None = None,
) -> dict[str, Any]:
    """The whole policy of a trail bucket: the account trail's statements, plus the organization path for an
    organization trail. `plan` prints it for a central bucket, whose owner applies it."""
    statements = [
        cloudtrail_acl_check(bucket_arn, trail_arn),
        cloudtrail_write(bucket_arn, trail_arn, account, s3_key_prefix),
    ]
    if organization_id:
        statements.append(
            organization_trail_statement(
                bucket_arn=bucket_arn,
                s3_key_prefix=s3_key_prefix,
                organization_id=organization_id,
                trail_arn=trail_arn,
            )
        )
    statements.append(deny_insecure_transport(bucket_arn))
    return policy_document(statements)
