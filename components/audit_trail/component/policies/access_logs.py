"""Bucket policy of the bucket that receives the trail bucket's S3 server access logs (CIS 3.4).

Per the S3 user guide ("Permissions for log delivery"), only the S3 logging service principal may write, only
under the log prefix, and only for the trail bucket of this account (`aws:SourceArn` + `aws:SourceAccount`).
The target bucket must use SSE-S3 default encryption: S3 cannot deliver access logs into an SSE-KMS bucket.
"""

from __future__ import annotations

from typing import Any

from ...arns import bucket_arn
from .bucket import deny_insecure_transport, policy_document


def access_log_bucket_policy(
    *,
    partition: str,
    account_id: str,
    access_log_bucket_arn: str,
    source_bucket_name: str,
    log_prefix: str,
) -> dict[str, Any]:
    """Only `logging.s3.amazonaws.com`, writing the trail bucket's access logs, and only over TLS."""
    return policy_document(
        [
            {
                "Sid": "S3ServerAccessLogsDelivery",
                "Effect": "Allow",
                "Principal": {"Service": "logging.s3.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": f"{access_log_bucket_arn}/{log_prefix}*",
                "Condition": {
                    "ArnLike": {"aws:SourceArn": bucket_arn(partition, source_bucket_name)},
                    "StringEquals": {"aws:SourceAccount": account_id},
                },
            },
            deny_insecure_transport(access_log_bucket_arn),
        ]
    )
