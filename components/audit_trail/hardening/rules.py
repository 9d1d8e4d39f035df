"""Rules of the hardening options, alone and combined: every combination AWS would reject, refused up front.

Each rule takes the settings (and the stack's region when known) and yields `(config key, value, message)`;
validation turns them into problems reported with all the others, before any resource is registered.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from enum import Enum
from typing import Any

from ..arns import partition_of_region

Found = tuple[str, Any, str]

# CloudWatch Logs accepts only these retention periods (days).
LOG_GROUP_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip
MAX_OBJECT_LOCK_DAYS = 36500
MAX_ACCESS_LOG_DAYS = 3650

_ORG_ID = re.compile(r"o-[a-z0-9]{10,32}")
_KMS_KEY_ARN = re.compile(
    r"arn:(?P<partition>aws|aws-cn|aws-us-gov):kms:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):key/(?P<id>[A-Za-z0-9-]+)"
)
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def _value(v: Any) -> Any:
    return v.value if isinstance(v, Enum) else v


def _has_data_events(s: Any) -> bool:
    return _value(s.s3_data_events) != "None" or s.lambda_data_events or s.dynamodb_data_events


def _object_lock(s: Any) -> bool:
    return _value(s.object_lock_mode) != "None"


def monitoring_rule(s: Any, region: str | None) -> Iterable[Found]:
    if s.cis_alarms and not s.cloud_watch_logs:
        yield (
            "cisAlarms",
            True,
            "the CIS alarms are metric filters on the trail's CloudWatch Logs group, so they need "
            "`cloudWatchLogs: true`. Turn it on, or unset `cisAlarms`.",
        )
    if s.alarm_emails and not s.cis_alarms:
        yield (
            "alarmEmails",
            s.alarm_emails,
            "subscribes addresses to the CIS alarm topic, which exists only with `cisAlarms: true`. "
            "Turn the alarms on, or remove the addresses.",
        )
    for email in s.alarm_emails:
        if not _EMAIL.fullmatch(email):
            yield ("alarmEmails", email, "is not an email address (name@example.com). Correct or remove it.")
    if s.cloud_watch_logs_retention_days not in LOG_GROUP_RETENTION_DAYS:
        allowed = ", ".join(str(d) for d in LOG_GROUP_RETENTION_DAYS)
        yield (
            "cloudWatchLogsRetentionDays",
            s.cloud_watch_logs_retention_days,
            f"CloudWatch Logs accepts only these retention periods (days): {allowed}. Pick one, e.g. 365.",
        )
    if s.cloud_watch_logs_role_source_arn and not s.cloud_watch_logs:
        yield (
            "cloudWatchLogsRoleSourceArn",
            True,
            "conditions the CloudWatch Logs delivery role, which exists only with `cloudWatchLogs: true`. "
            "Turn it on, or unset this key.",
        )


def events_rule(s: Any, region: str | None) -> Iterable[Found]:
    if not s.management_events and not _has_data_events(s):
        yield (
            "managementEvents",
            False,
            "with no management events and no data events (`s3DataEvents`, `lambdaDataEvents`, "
            "`dynamodbDataEvents`) the trail would record nothing. Keep management events on, or add data "
            "events.",
        )
    if s.insights and not s.management_events:
        yield (
            "insights",
            True,
            "CloudTrail Insights analyses management events, and CloudTrail rejects Insights on a trail that "
            "records none. Set `managementEvents: true`, or unset `insights`.",
        )


def kms_rule(s: Any, region: str | None) -> Iterable[Found]:
    if not s.kms_key_arn:
        return
    if not s.kms_encryption:
        yield (
            "kmsKeyArn",
            s.kms_key_arn,
            "names the key to encrypt with, but `kmsEncryption` is off. Set `kmsEncryption: true` to use "
            "this key, or remove `kmsKeyArn`.",
        )
    match = _KMS_KEY_ARN.fullmatch(s.kms_key_arn)
    if match is None:
        yield (
            "kmsKeyArn",
            s.kms_key_arn,
            "must be a KMS key ARN, arn:<partition>:kms:<region>:<account>:key/<key id> (not an alias: the "
            "CloudWatch Logs group needs the key itself). Copy the ARN from the KMS console.",
        )
        return
    if region:
        partition = partition_of_region(region)
        if match["partition"] != partition:
            yield (
                "kmsKeyArn",
                s.kms_key_arn,
                f"is in partition `{match['partition']}`, but the stack's region {region} is in "
                f"`{partition}`; a key cannot be used across partitions. Use a key from this partition.",
            )
        elif match["region"] != region and not s.central_bucket_name:
            yield (
                "kmsKeyArn",
                s.kms_key_arn,
                f"is in region {match['region']}, but the trail and its bucket are in {region}; CloudTrail "
                "needs the key in the bucket's region. Use a key from that region.",
            )


def organization_rule(s: Any, region: str | None) -> Iterable[Found]:
    if s.is_organization_trail and not s.organization_id:
        yield (
            "isOrganizationTrail",
            True,
            "an organization trail needs `organizationId` (o-xxxxxxxxxx, from `aws organizations "
            "describe-organization`) so the bucket policy can admit member accounts' logs. Set it.",
        )
    if s.organization_id and not s.is_organization_trail:
        yield (
            "organizationId",
            s.organization_id,
            "is only used by an organization trail. Set `isOrganizationTrail: true`, or remove it.",
        )
    if s.organization_id and not _ORG_ID.fullmatch(s.organization_id):
        yield (
            "organizationId",
            s.organization_id,
            "must look like o-a1b2c3d4e5 (`o-` and 10-32 lowercase letters or digits).",
        )


def central_bucket_rule(s: Any, region: str | None) -> Iterable[Found]:
    name = s.central_bucket_name
    if not name:
        return
    owner_options = [
        ("bucketName", s.bucket_name, "names a bucket for the stack to create"),
        ("accessLogging", s.access_logging, "configures the log bucket's access logging"),
        ("objectLockMode", _value(s.object_lock_mode) if _object_lock(s) else "", "locks the log bucket"),
        ("forceDestroy", s.force_destroy, "deletes the log bucket on destroy"),
    ]
    for key, value, what in owner_options:
        if value:
            yield (
                key,
                value,
                f"{what}, but `centralBucketName` sends the logs to an existing bucket the stack does not "
                "own; its owner configures it (see `audit-trail plan`). Remove one of the two.",
            )


def access_logging_rule(s: Any, region: str | None) -> Iterable[Found]:
    if not 1 <= s.access_log_retention_days <= MAX_ACCESS_LOG_DAYS:
        yield (
            "accessLogRetentionDays",
            s.access_log_retention_days,
            f"must be a number of days from 1 to {MAX_ACCESS_LOG_DAYS}.",
        )


def object_lock_rule(s: Any, region: str | None) -> Iterable[Found]:
    days = s.object_lock_retention_days
    if not _object_lock(s):
        if days is not None:
            yield (
                "objectLockRetentionDays",
                days,
                "only applies with `objectLockMode` GOVERNANCE or COMPLIANCE. Set a mode, or remove it.",
            )
        return
    effective = s.retention_days if days is None else days
    if not 1 <= effective <= MAX_OBJECT_LOCK_DAYS:
        yield ("objectLockRetentionDays", effective, f"must be from 1 to {MAX_OBJECT_LOCK_DAYS} days.")
    elif effective > s.retention_days:
        yield (
            "objectLockRetentionDays",
            effective,
            f"is longer than `retentionDays` ({s.retention_days}): the lifecycle rule would try to expire "
            "log files that are still locked. Lower it to at most retentionDays, or raise retentionDays.",
        )
    if s.force_destroy:
        yield (
            "forceDestroy",
            True,
            "cannot delete log files under object lock before their retention ends, so `pulumi destroy` "
            "would fail. Unset `forceDestroy`, or turn object lock off.",
        )


RULES: tuple[Callable[[Any, str | None], Iterable[Found]], ...] = (
    monitoring_rule,
    events_rule,
    kms_rule,
    organization_rule,
    central_bucket_rule,
    access_logging_rule,
    object_lock_rule,
)


def hardening_problems(settings: Any, region: str | None = None) -> list[Found]:
    """Every problem of the hardening options, given the stack's region when it is known."""
    return [found for rule in RULES for found in rule(settings, region)]
