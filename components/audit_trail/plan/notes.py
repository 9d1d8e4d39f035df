"""What `audit-trail plan` must tell the user beyond the resource graph: what resources the stack does not own
must contain, and changes AWS makes by replacement. One function per note, each given the settings and where
the stack would deploy."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .. import arns, regions
from ..component.args import DataEvents, ReadWriteType
from ..component.config import args_from_config
from ..component.policies.kms import cloudtrail_statements, log_group_statement
from ..component.policies.log_bucket import log_bucket_policy
from ..component.resources.cloudwatch_delivery import log_group_name
from ..component.resources.selectors import S3_OBJECT
from ..component.settings import AuditTrailSettings
from ..component.validation import check
from .preview import ACCOUNT, DEFAULT_REGION


@dataclass(frozen=True)
class Note:
    title: str
    text: str
    document: dict[str, Any] | None = None
    warning: bool = False


@dataclass(frozen=True)
class Where:
    """The account, region and partition `plan` deploys into, and the trail's ARN there."""

    account: str
    region: str

    @property
    def partition(self) -> str:
        return regions.partition_of_region(self.region)

    def trail_arn(self, s: AuditTrailSettings) -> str:
        return arns.trail_arn(self.partition, self.region, self.account, s.trail_name)


def existing_key(s: AuditTrailSettings, at: Where) -> Note | None:
    if not (s.kms_encryption and s.kms_key_arn):
        return None
    # The key's own region (a central bucket's key may be elsewhere): readers decrypt through S3 there.
    parts = s.kms_key_arn.split(":")
    key_region = parts[3] if len(parts) > 3 and parts[3] else at.region
    statements = cloudtrail_statements(
        partition=at.partition, region=key_region, account_id=at.account, trail_arn=at.trail_arn(s)
    )
    text = (
        f"The stack does not change the policy of {s.kms_key_arn}. Its administrators must add these "
        "statements before `pulumi up`."
    )
    if s.cloud_watch_logs:
        statements.append(
            log_group_statement(
                partition=at.partition,
                region=at.region,
                account_id=at.account,
                log_group_name=log_group_name(s.trail_name),
            )
        )
        text += (
            f" The CloudWatch Logs group {log_group_name(s.trail_name)} is created with this key before the "
            "trail: without AllowCloudWatchLogsEncryptTrailLogGroup, `pulumi up` fails at the log group "
            "(CreateLogGroup is refused: CloudWatch Logs may not use the key) and creates no trail."
        )
    if s.central_bucket_name:
        text += (
            f" The account owning {s.central_bucket_name} reads the logs too: the key also needs a statement "
            'letting it decrypt, as AWS\'s "Enable cross account log decryption" (kms:Decrypt and '
            "kms:ReEncryptFrom for that account's principals, under kms:CallerAccount)."
        )
    text += (
        " Without the CloudTrail statements, creating the trail fails "
        "(InsufficientEncryptionPolicyException) and no log is delivered. The statements:"
    )
    return Note("Existing KMS key", text, {"Statement": statements})


def central_bucket(s: AuditTrailSettings, at: Where) -> Note | None:
    if not s.central_bucket_name:
        return None
    return Note(
        "Central log bucket",
        f"The stack does not manage bucket {s.central_bucket_name}. Its owner must apply this bucket "
        "policy (and set up encryption, versioning, lifecycle, access logging and object lock there) "
        "before the trail is created:",
        log_bucket_policy(
            bucket_arn=arns.bucket_arn(at.partition, s.central_bucket_name),
            trail_arn=at.trail_arn(s),
            account=at.account,
            s3_key_prefix=s.s3_key_prefix,
            organization_id=s.organization,
        ),
    )


def object_lock(s: AuditTrailSettings, at: Where) -> Note | None:
    if not s.has_object_lock:
        return None
    return Note(
        "Object lock",
        f"New log files are locked in {s.object_lock_mode.value} mode for {s.lock_retention_days} days; "
        "files already in the bucket stay unlocked. The lock is enabled on the existing bucket (versioning "
        "is on), so the bucket is not replaced. S3 asks for a checksum (Content-MD5 or "
        "x-amz-sdk-checksum-algorithm) on every PUT into a bucket with default retention; AWS does not "
        "document whether CloudTrail's deliveries carry one, so after `pulumi up` check that log files "
        "arrive: `audit-trail doctor` shows the trail's last delivery error.",
        warning=True,
    )


def organization_trail(s: AuditTrailSettings, at: Where) -> Note | None:
    if not s.is_organization_trail:
        return None
    return Note(
        "Organization trail",
        f"Deploy this stack in the management account of organization {s.organization_id}, with "
        "trusted access for CloudTrail enabled in AWS Organizations. It logs every member account "
        f"into AWSLogs/{s.organization_id}/<account>/ of the bucket.",
    )


def read_only_insights(s: AuditTrailSettings, at: Where) -> Note | None:
    if not (s.insights and s.read_write_type is ReadWriteType.READ_ONLY):
        return None
    return Note(
        "Insights",
        "The trail records read events only, so CloudTrail can compute API error-rate Insights "
        "but not API call-rate Insights (those need write management events).",
    )


def log_bucket_events(s: AuditTrailSettings, at: Where) -> Note | None:
    s3_objects = s.s3_data_events is not DataEvents.NONE or any(
        d.get("resource_type") == S3_OBJECT for d in s.data_event_selectors
    )
    if not s3_objects:
        return None
    return Note(
        "S3 data events",
        "The log bucket's reads, deletes and copies are recorded; PutObject on it is not, because "
        "CloudTrail delivers every log file with PutObject and pulumi-aws cannot set the trail's "
        "RecursiveLogging=false. "
        "A PutObject over a log file still shows: versioning keeps the original, `audit-trail verify` flags "
        "the changed file, and S3 access logs (accessLogging) record the request. The access-log bucket is "
        "not recorded (S3's own deliveries would loop).",
    )


def athena_names(s: AuditTrailSettings, at: Where) -> Note | None:
    if not s.athena or (s.athena_database and s.athena_workgroup):
        return None
    return Note(
        "Athena",
        "The Glue database and workgroup are named for the stack (outputs athenaDatabase, athenaWorkgroup; "
        "`--engine athena --stack <stack>` reads them). A stack whose Athena resources an earlier release "
        "created as audit_trail / audit-trail keeps them only with `athenaDatabase: audit_trail` and "
        "`athenaWorkgroup: audit-trail`; otherwise `pulumi up` replaces both, and the old workgroup's query "
        "history goes with it.",
    )


def network_activity(s: AuditTrailSettings, at: Where) -> Note | None:
    if not s.network_activity_events:
        return None
    which = "denied calls (VpceAccessDenied)" if s.network_activity_denied_only else "every call"
    return Note(
        "Network activity events",
        f"Records {which} through VPC endpoints to {', '.join(s.network_activity_events)}, in the accounts "
        "owning the endpoints. They are charged like data events (CloudTrail pricing).",
    )


NOTES: tuple[Callable[[AuditTrailSettings, Where], Note | None], ...] = (
    existing_key,
    central_bucket,
    object_lock,
    organization_trail,
    read_only_insights,
    log_bucket_events,
    athena_names,
    network_activity,
)


def plan_notes(settings: AuditTrailSettings, *, region: str, account: str) -> list[Note]:
    """Notes for SETTINGS deployed in REGION of ACCOUNT (both as `plan` invents them)."""
    at = Where(account, region)
    return [note for make in NOTES if (note := make(settings, at)) is not None]


def notes_for_config(config: Mapping[str, str]) -> list[Note]:
    """Notes for a stack's config as `audit-trail plan` evaluates it (keys like `audit-trail:kmsKeyArn`)."""
    settings, _ = check(args_from_config(config))
    return plan_notes(settings, region=config.get("aws:region") or DEFAULT_REGION, account=ACCOUNT)
