"""Validated settings of an AuditTrail: the defaults live here, one field per `AuditTrailArgs` key, and what
the builders derive from them."""

from __future__ import annotations

from dataclasses import dataclass, field

from .args import DataEvents, DataEventSelector, ObjectLockMode, Profile, ReadWriteType

# Stack config namespace: `audit-trail:retentionDays`.
NAMESPACE = "audit-trail"
DEFAULT_TRAIL_NAME = "account-activity-trail"


@dataclass(frozen=True)
class AuditTrailSettings:
    """What the component builds from. Field names are exactly the `AuditTrailArgs` keys."""

    trail_name: str = DEFAULT_TRAIL_NAME
    retention_days: int = 90
    noncurrent_version_days: int = 30
    multi_region: bool = True
    read_write_type: ReadWriteType = ReadWriteType.ALL
    include_global_service_events: bool = True
    log_file_validation: bool = True
    enable_logging: bool = True
    s3_key_prefix: str = ""
    bucket_name: str = ""
    force_destroy: bool = False
    retain_on_delete: bool = True
    tags: dict[str, str] = field(default_factory=dict)
    profile: Profile = Profile.SEED
    kms_encryption: bool = False
    kms_key_arn: str = ""
    cloud_watch_logs: bool = False
    cloud_watch_logs_retention_days: int = 365
    cloud_watch_logs_role_source_arn: bool = False
    cis_alarms: bool = False
    alarm_emails: list[str] = field(default_factory=list)
    access_logging: bool = False
    access_log_retention_days: int = 365
    management_events: bool = True
    s3_data_events: DataEvents = DataEvents.NONE
    lambda_data_events: bool = False
    dynamodb_data_events: bool = False
    data_event_selectors: list[DataEventSelector] = field(default_factory=list)
    network_activity_events: list[str] = field(default_factory=list)
    network_activity_denied_only: bool = False
    insights: bool = False
    is_organization_trail: bool = False
    organization_id: str = ""
    central_bucket_name: str = ""
    object_lock_mode: ObjectLockMode = ObjectLockMode.NONE
    object_lock_retention_days: int | None = None
    extra_regions: list[str] = field(default_factory=list)
    athena: bool = False
    athena_database: str = ""
    athena_workgroup: str = ""

    # --- derived: what several builders and rules ask of the settings -------------------------------------

    @property
    def has_data_events(self) -> bool:
        """The trail records data events of some kind."""
        return (
            self.s3_data_events is not DataEvents.NONE
            or self.lambda_data_events
            or self.dynamodb_data_events
            or bool(self.data_event_selectors)
        )

    @property
    def has_advanced_selectors(self) -> bool:
        """Data or network activity events: only advanced event selectors express them."""
        return self.has_data_events or bool(self.network_activity_events)

    @property
    def has_object_lock(self) -> bool:
        return self.object_lock_mode is not ObjectLockMode.NONE

    @property
    def lock_retention_days(self) -> int:
        """The object lock's default retention: `objectLockRetentionDays`, or the lifecycle's
        `retentionDays`."""
        days = self.object_lock_retention_days
        return self.retention_days if days is None else days

    @property
    def organization(self) -> str | None:
        """The organization id an organization trail logs under, else None."""
        return self.organization_id if self.is_organization_trail and self.organization_id else None

    @property
    def base_name(self) -> str:
        """The trail's name in the form KMS alias and SNS topic names accept (no `.`)."""
        return self.trail_name.replace(".", "-")
