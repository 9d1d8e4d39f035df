"""The Athena query-results bucket's policy: TLS only."""

from __future__ import annotations

from audit_trail.component.policies.athena_results import results_bucket_policy


def test_results_bucket_admits_tls_only() -> None:
    policy = results_bucket_policy("arn:aws-cn:s3:::results")
    assert policy["Version"] == "2012-10-17"
    (statement,) = policy["Statement"]
    assert statement["Sid"] == "DenyInsecureTransport" and statement["Principal"] == "*"
    assert statement["Effect"] == "Deny" and statement["Action"] == "s3:*"
    assert statement["Resource"] == ["arn:aws-cn:s3:::results", "arn:aws-cn:s3:::results/*"]
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
