"""The AuditTrail component's inputs.

A TypedDict of plain types on purpose: the multi-language provider infers its schema from these annotations
(each field's docstring becomes the schema description) and hands the component a plain dict of snake_case
keys. Stack config keys are the camelCase form of each field (`retention_days` ->
`audit-trail:retentionDays`).

No `from __future__ import annotations` here: the schema analyser reads the annotations as real types.
"""

from enum import StrEnum
from typing import Required, TypedDict


class ReadWriteType(StrEnum):
    """Which management events the trail records."""

    ALL = "All"
    """Read and write events (CIS 3.1)."""
    READ_ONLY = "ReadOnly"
    """Only read events (Describe*, Get*, List*)."""
    WRITE_ONLY = "WriteOnly"
    """Only write events (changes)."""


class Profile(StrEnum):
    """A compliance preset of the hardening options (explicit settings override it, within the standard)."""

    SEED = "seed"
    """No preset: the seed's stack, every option at its default."""
    CIS = "cis"
    """CIS AWS Foundations Benchmark sections 3 and 4: KMS, CloudWatch Logs, CIS alarms, access logging, S3
    data events."""
    SOC2 = "soc2"
    """SOC 2: KMS, CloudWatch Logs, CIS alarms, access logging, a year of logs."""
    PCI = "pci"
    """PCI DSS v4.0: KMS, CloudWatch Logs, CIS alarms, access logging, at least a year of logs (10.5.1)."""
    HIPAA = "hipaa"
    """HIPAA: KMS, CloudWatch Logs, CIS alarms, access logging, six years of logs."""


class DataEvents(StrEnum):
    """Which S3 object-level (data) events the trail records."""

    NONE = "None"
    """No S3 data events."""
    READ_ONLY = "ReadOnly"
    """Object reads (CIS 3.9)."""
    WRITE_ONLY = "WriteOnly"
    """Object writes (CIS 3.8)."""
    ALL = "All"
    """Reads and writes (CIS 3.8 and 3.9)."""


class ObjectLockMode(StrEnum):
    """Object lock (WORM) mode of the log bucket."""

    NONE = "None"
    """No object lock."""
    GOVERNANCE = "GOVERNANCE"
    """Locked; users with s3:BypassGovernanceRetention can still delete."""
    COMPLIANCE = "COMPLIANCE"
    """Locked; nobody, not even the root user, can delete before retention ends."""


class DataEventSelector(TypedDict, total=False):
    """One kind of data events to record: a CloudTrail advanced event selector on one resource type."""

    resource_type: Required[str]
    """The data-event resource type, as the CloudTrail user guide's data events table names it,
    e.g. `AWS::S3::Object`, `AWS::Lambda::Function`, `AWS::DynamoDB::Table`, `AWS::SNS::Topic`."""
    read_write: ReadWriteType
    """All, ReadOnly or WriteOnly calls. Default All."""
    event_names: list[str]
    """Only these API actions, e.g. `["DeleteObject", "PutObject"]`. Default: every action."""
    exclude_principal_arns: list[str]
    """Leave out calls by these principals (`userIdentity.arn`): an ARN, or a prefix ending in `/` such as
    `arn:aws:sts::123456789012:assumed-role/backup/` for every session of a role. Default none."""


class AuditTrailArgs(TypedDict, total=False):
    """Settings of an AuditTrail; every key is optional and has a secure default."""

    trail_name: str
    """Name of the CloudTrail trail (3-128 characters: letters, digits, `.`, `_`, `-`; starts with a letter or
    digit). Default `account-activity-trail`."""
    retention_days: int
    """Days a log file stays in the bucket before S3 deletes it (1-3650). Default 90."""
    noncurrent_version_days: int
    """Days an overwritten or deleted log file's previous version is kept before S3 removes it for good
    (1-3650). Default 30."""
    multi_region: bool
    """Record events from every region, not only the stack's region. Default true."""
    read_write_type: ReadWriteType
    """Management events to record: All, ReadOnly or WriteOnly. Default All."""
    include_global_service_events: bool
    """Record events of global services such as IAM and STS. Default true; a multi-region trail needs it."""
    log_file_validation: bool
    """Write signed hourly digest files so tampering with log files can be detected. Default true."""
    enable_logging: bool
    """Whether the trail is logging. Default true."""
    s3_key_prefix: str
    """Key prefix of the log files in the bucket, without leading or trailing `/` (at most 200 characters).
    Default none: logs land under `AWSLogs/`."""
    bucket_name: str
    """Name of the log bucket to create (S3 bucket name rules). Default: a generated unique name."""
    force_destroy: bool
    """Let `pulumi destroy` delete the bucket with its logs. Default false; needs retain_on_delete false."""
    retain_on_delete: bool
    """Keep the log bucket, its settings and its logs in AWS when the stack is destroyed. Default true."""
    tags: dict[str, str]
    """Tags applied to every taggable resource."""
    profile: Profile
    """Compliance preset: seed (default), cis, soc2, pci or hipaa. Explicit settings override the preset,
    except values the profile's standard forbids."""
    kms_encryption: bool
    """Encrypt log files with a customer-managed KMS key (CIS 3.5), created with rotation on unless
    kms_key_arn names one. Default false (SSE-S3)."""
    kms_key_arn: str
    """With kms_encryption: ARN of an existing KMS key to use instead of creating one; its policy is left
    alone (`audit-trail plan` prints the statements it needs). Default none."""
    cloud_watch_logs: bool
    """Also deliver events to a CloudWatch Logs group through a role only CloudTrail can assume. Default
    false."""
    cloud_watch_logs_retention_days: int
    """Retention of the CloudWatch Logs group, one of CloudWatch's allowed values. Default 365."""
    cloud_watch_logs_role_source_arn: bool
    """Condition the delivery role's trust policy on the trail's ARN (`aws:SourceArn`). Default false: AWS's
    documented role has no condition, and one is reported to stop delivery."""
    cis_alarms: bool
    """The CIS 4.1-4.15 metric filters and alarms into an encrypted SNS topic; needs cloud_watch_logs.
    Default false."""
    alarm_emails: list[str]
    """Email addresses subscribed to the alarm topic. Default none."""
    access_logging: bool
    """S3 server access logging of the log bucket into a separate bucket (CIS 3.4). Default false."""
    access_log_retention_days: int
    """Days the access-log bucket keeps its files (1-3650). Default 365."""
    management_events: bool
    """Record management events. Default true."""
    s3_data_events: DataEvents
    """S3 object-level events of every bucket: None, ReadOnly, WriteOnly or All (CIS 3.8, 3.9). The log
    bucket's reads and deletes are recorded too, but not CloudTrail's own deliveries nor the access-log
    bucket. Default None."""
    lambda_data_events: bool
    """Record Lambda invocations (data events). Default false."""
    dynamodb_data_events: bool
    """Record DynamoDB item-level events (data events). Default false."""
    data_event_selectors: list[DataEventSelector]
    """Further data events, one entry per resource type: `resourceType` (required), `readWrite`,
    `eventNames`, `excludePrincipalArns`. Generalises s3DataEvents, lambdaDataEvents and dynamodbDataEvents
    (which keep working; do not select the same type both ways). Default none."""
    network_activity_events: list[str]
    """Record network activity events (API calls through VPC endpoints) of these event sources, e.g.
    `["kms.amazonaws.com", "s3.amazonaws.com"]`; one of the sources CloudTrail supports. Default none."""
    network_activity_denied_only: bool
    """With network_activity_events: record only calls a VPC endpoint policy denied (`VpceAccessDenied`).
    Default false."""
    insights: bool
    """CloudTrail Insights on API call and error rates; needs management events. Default false."""
    is_organization_trail: bool
    """Log every account of the AWS Organization (deploy in the management account). Default false."""
    organization_id: str
    """The organization's id (o-...), required by an organization trail. Default none."""
    central_bucket_name: str
    """Log into this existing bucket (e.g. a log-archive account's) instead of creating one. Default none."""
    object_lock_mode: ObjectLockMode
    """Object lock of the log bucket: None, GOVERNANCE or COMPLIANCE; switched on in place (the bucket is
    kept), locking new log files. Default None."""
    object_lock_retention_days: int
    """Default object-lock retention of each log file, at most retention_days. Default retention_days."""
    extra_regions: list[str]
    """Regions to accept beyond the list this release knows (a region AWS opened since), e.g.
    `["eu-west-9"]`: `aws:region` may then be one of them, and the Athena table projects them. Default
    none."""
    athena: bool
    """Query the logs at scale with Athena: a Glue table over the bucket (CloudTrail schema, partition
    projection on account, region and date), a workgroup whose results are encrypted and expire after 7 days,
    and one named query per canned question of the CLI. Default false."""
    athena_database: str
    """With athena: name of the Glue database (lower-case letters, digits, `_`). Default: unique to the
    stack, `<component>_<stack>` as a Glue name (e.g. `audit_trail_prod`)."""
    athena_workgroup: str
    """With athena: name of the Athena workgroup (letters, digits, `.`, `_`, `-`; at most 128). Default:
    unique to the stack, `<component>-<stack>` (e.g. `audit-trail-prod`)."""
