"""Compliance profiles: documented presets of the hardening options, and the values each standard forbids.

A profile fills in the options the user did not set; explicit config always wins, except for a value the
profile's standard forbids, which is refused with the requirement quoted. Fields are `AuditTrailArgs` keys.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .args import DataEvents, Profile, ReadWriteType
from .problems import Problem, config_key
from .settings import AuditTrailSettings


@dataclass(frozen=True)
class Requirement:
    """One setting a standard fixes: FIELD must satisfy ALLOWED; NEEDS says so in words."""

    field: str
    allowed: Callable[[Any], bool]
    needs: str
    clause: str
    text: str
    applies: Callable[[AuditTrailSettings], bool] = lambda settings: True

    def violated_by(self, settings: AuditTrailSettings) -> bool:
        return self.applies(settings) and not self.allowed(getattr(settings, self.field))


@dataclass(frozen=True)
class ProfileRules:
    """What a profile turns on, and what its standard then forbids."""

    preset: Mapping[str, Any]
    requirements: tuple[Requirement, ...]


def _is(expected: Any) -> Callable[[Any], bool]:
    return lambda value: value == expected


def _at_least(days: int) -> Callable[[Any], bool]:
    return lambda value: value >= days


def _owns_bucket(settings: AuditTrailSettings) -> bool:
    # Access logging and object lock are the bucket owner's settings; with a central bucket that is not us.
    return not settings.central_bucket_name


CIS_3_1 = (
    "CIS AWS Foundations 3.1",
    "Ensure CloudTrail is enabled in all regions",
)
CIS_3_2 = ("CIS AWS Foundations 3.2", "Ensure CloudTrail log file validation is enabled")
CIS_3_4 = (
    "CIS AWS Foundations 3.4",
    "Ensure S3 bucket access logging is enabled on the CloudTrail S3 bucket",
)
CIS_3_5 = ("CIS AWS Foundations 3.5", "Ensure CloudTrail logs are encrypted at rest using KMS CMKs")
CIS_3_8_9 = (
    "CIS AWS Foundations 3.8 and 3.9",
    "Ensure that Object-level logging for write events is enabled for S3 bucket; Ensure that Object-level "
    "logging for read events is enabled for S3 bucket",
)
CIS_4 = (
    "CIS AWS Foundations 4.1-4.15",
    "Ensure a log metric filter and alarm exist for unauthorized API calls ... for AWS Organizations changes",
)
PCI_10_2_1 = (
    "PCI DSS v4.0 Requirement 10.2.1",
    "Audit logs are enabled and active for all system components and cardholder data.",
)
PCI_10_3_4 = (
    "PCI DSS v4.0 Requirement 10.3.4",
    "File integrity monitoring or change-detection mechanisms is used on audit logs to ensure that existing "
    "log data cannot be changed without generating alerts.",
)
PCI_10_5_1 = (
    "PCI DSS v4.0 Requirement 10.5.1",
    "Retain audit log history for at least 12 months, with at least the most recent three months immediately "
    "available for analysis.",
)
HIPAA_AUDIT = (
    "HIPAA 45 CFR 164.312(b)",
    "Implement hardware, software, and/or procedural mechanisms that record and examine activity in "
    "information systems that contain or use electronic protected health information.",
)
HIPAA_INTEGRITY = (
    "HIPAA 45 CFR 164.312(c)(1)",
    "Implement policies and procedures to protect electronic protected health information from improper "
    "alteration or destruction.",
)
HIPAA_RETENTION = (
    "HIPAA 45 CFR 164.316(b)(2)(i)",
    "Retain the documentation required by paragraph (b)(1) of this section for 6 years from the date of its "
    "creation or the date when it last was in effect, whichever is later.",
)
SOC2_CC7_2 = (
    "SOC 2 (2017 Trust Services Criteria) CC7.2",
    "The entity monitors system components and the operation of those components for anomalies that are "
    "indicative of malicious acts, natural disasters, and errors affecting the entity's ability to meet its "
    "objectives; anomalies are analyzed to determine whether they represent security events.",
)

PCI_RETENTION_DAYS = 365
HIPAA_RETENTION_DAYS = 2190  # six years of 365 days


def _all_activity(source: tuple[str, str]) -> tuple[Requirement, ...]:
    """A multi-region trail recording every management event, read and write."""
    clause, text = source
    return (
        Requirement("multi_region", _is(True), "true", clause, text),
        Requirement("management_events", _is(True), "true", clause, text),
        Requirement("read_write_type", _is(ReadWriteType.ALL), "All", clause, text),
    )


def _validation(source: tuple[str, str]) -> Requirement:
    return Requirement("log_file_validation", _is(True), "true", *source)


# What every non-seed profile turns on: encryption with a customer key, CloudWatch Logs with the CIS alarms,
# access logging of the log bucket.
_MONITORED = {"kms_encryption": True, "cloud_watch_logs": True, "cis_alarms": True, "access_logging": True}

PROFILES: dict[Profile, ProfileRules] = {
    Profile.SEED: ProfileRules({}, ()),
    # CIS AWS Foundations Benchmark (sections 3 and 4)
    Profile.CIS: ProfileRules(
        {**_MONITORED, "s3_data_events": DataEvents.ALL},
        (
            *_all_activity(CIS_3_1),
            _validation(CIS_3_2),
            Requirement("access_logging", _is(True), "true", *CIS_3_4, applies=_owns_bucket),
            Requirement("kms_encryption", _is(True), "true", *CIS_3_5),
            Requirement("s3_data_events", _is(DataEvents.ALL), "All", *CIS_3_8_9),
            Requirement("cis_alarms", _is(True), "true", *CIS_4),
        ),
    ),
    # SOC 2 Trust Services Criteria
    Profile.SOC2: ProfileRules(
        {**_MONITORED, "retention_days": 365},
        (*_all_activity(SOC2_CC7_2), _validation(SOC2_CC7_2)),
    ),
    # PCI DSS v4.0
    Profile.PCI: ProfileRules(
        {**_MONITORED, "retention_days": PCI_RETENTION_DAYS},
        (
            *_all_activity(PCI_10_2_1),
            _validation(PCI_10_3_4),
            Requirement(
                "retention_days", _at_least(PCI_RETENTION_DAYS), f"at least {PCI_RETENTION_DAYS}", *PCI_10_5_1
            ),
        ),
    ),
    # HIPAA Security Rule
    Profile.HIPAA: ProfileRules(
        {**_MONITORED, "retention_days": HIPAA_RETENTION_DAYS},
        (
            *_all_activity(HIPAA_AUDIT),
            _validation(HIPAA_INTEGRITY),
            Requirement(
                "retention_days",
                _at_least(HIPAA_RETENTION_DAYS),
                f"at least {HIPAA_RETENTION_DAYS}",
                *HIPAA_RETENTION,
            ),
        ),
    ),
}

# Options that only apply to a bucket the stack owns: a preset does not turn them on for a central bucket.
_BUCKET_OWNER_OPTIONS = frozenset({"access_logging"})


def apply_profile(profile: Profile, explicit: Mapping[str, Any]) -> dict[str, Any]:
    """The profile's preset under the explicitly set values (explicit wins)."""
    preset = dict(PROFILES[profile].preset)
    if explicit.get("central_bucket_name"):
        preset = {k: v for k, v in preset.items() if k not in _BUCKET_OWNER_OPTIONS}
    return {**preset, **explicit}


def violations(settings: AuditTrailSettings) -> Iterator[Problem]:
    """A problem for every setting the profile's standard forbids, quoting the requirement."""
    profile = settings.profile
    for req in PROFILES[profile].requirements:
        if req.violated_by(settings):
            yield Problem(
                config_key(req.field),
                getattr(settings, req.field),
                f'profile `{profile.value}` requires {req.needs} here ({req.clause}: "{req.text}"). '
                f"Set it to {req.needs}, or use profile `seed` to choose every setting yourself.",
            )
