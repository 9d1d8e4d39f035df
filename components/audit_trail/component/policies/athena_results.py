"""Bucket policy of the Athena query-results bucket: TLS only, since results hold log data."""

from __future__ import annotations

from typing import Any

from .bucket import deny_insecure_transport, policy_document


def results_bucket_policy(bucket_arn: str) -> dict[str, Any]:
    """Nothing but the TLS-only deny: the workgroup's users reach the bucket through their own IAM rights."""
    return policy_document([deny_insecure_transport(bucket_arn)])
