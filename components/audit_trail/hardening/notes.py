"""What `audit-trail plan` must tell the user beyond the resource graph: what resources the stack does not own
must contain, and changes AWS makes by replacement."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .. import arns
from ..policies.central_bucket import log_bucket_policy
from ..policies.kms import cloudtrail_statements, log_group_statement
from ..preview import ACCOUNT, DEFAULT_REGION
from ..validation import CONFIG_KEYS, NAMESPACE, check
from .cloudwatch_delivery import log_group_name
from .object_lock import lock_retention_days


@dataclass(frozen=True)
class Note:
    title: str
    text: str
    document: dict[str, Any] | None = None
    warning: bool = False


def _value(v: Any) -> Any:
    return getattr(v, "value", v)


def plan_notes(settings: Any, *, region: str, account: str) -> list[Note]:
    """Notes for SETTINGS deployed in REGION of ACCOUNT (both as `plan` invents them)."""
    s = settings
    partition = arns.partition_of_region(region)
    trail_arn = arns.trail_arn(partition, region, account, s.trail_name)
    organization_id = s.organization_id if s.is_organization_trail else None
    notes = []
    if s.kms_encryption and s.kms_key_arn:
        statements = cloudtrail_statements(partition=partition, account_id=account, trail_arn=trail_arn)
        if s.cloud_watch_logs:
            statements.append(
                log_group_statement(
                    partition=partition,
                    region=region,
                    account_id=account,
                    log_group_name=log_group_name(s.trail_name),
                )
            )
        notes.append(
            Note(
                "Existing KMS key",
                f"The stack does not change the policy of {s.kms_key_arn}. Its administrators must add these "
                "statements, or CloudTrail cannot deliver logs:",
                {"Statement": statements},
            )
        )
    if s.central_bucket_name:
        notes.append(
            Note(
                "Central log bucket",
                f"The stack does not manage bucket {s.central_bucket_name}. Its owner must apply this bucket "
                "policy (and set up encryption, versioning, lifecycle, access logging and object lock there) "
                "before the trail is created:",
                log_bucket_policy(
                    bucket_arn=arns.bucket_arn(partition, s.central_bucket_name),
                    trail_arn=trail_arn,
                    account=account,
                    s3_key_prefix=s.s3_key_prefix,
                    organization_id=organization_id,
                ),
            )
        )
    if _value(s.object_lock_mode) != "None":
        notes.append(
            Note(
                "Object lock",
                f"New log files are locked in {_value(s.object_lock_mode)} mode for "
                f"{lock_retention_days(s)} days. S3 turns object lock on only when a bucket is "
                "created: on a stack that already has its log bucket, this REPLACES the bucket - a new, "
                "empty bucket receives the logs and the old one (with its logs) is kept only when "
                "retainOnDelete is on. With a fixed bucketName the replacement fails, as the name is taken.",
                warning=True,
            )
        )
    if s.is_organization_trail:
        notes.append(
            Note(
                "Organization trail",
                f"Deploy this stack in the management account of organization {s.organization_id}, with "
                "trusted access for CloudTrail enabled in AWS Organizations. It logs every member account "
                f"into AWSLogs/{s.organization_id}/<account>/ of the bucket.",
            )
        )
    if s.insights and _value(s.read_write_type) == "ReadOnly":
        notes.append(
            Note(
                "Insights",
                "The trail records read events only, so CloudTrail can compute API error-rate Insights "
                "but not API call-rate Insights (those need write management events).",
            )
        )
    return notes


def notes_for_config(config: Mapping[str, str]) -> list[Note]:
    """Notes for a stack's config as `audit-trail plan` evaluates it (keys like `audit-trail:kmsKeyArn`)."""
    prefix = f"{NAMESPACE}:"
    args = {
        CONFIG_KEYS[key[len(prefix) :]]: value
        for key, value in config.items()
        if key.startswith(prefix) and key[len(prefix) :] in CONFIG_KEYS
    }
    settings, _ = check(args)
    return plan_notes(settings, region=config.get("aws:region") or DEFAULT_REGION, account=ACCOUNT)
