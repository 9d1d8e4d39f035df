"""Which clause of a profile's standard each `doctor` check evidences, and the retention a profile requires.

The clauses and their quoted text are the profiles' own (`component.profiles`), so a report and `pulumi up`
quote the same words; the two below are the clauses the profiles do not quote because no setting of the
component answers them alone: key rotation (CIS 3.6) and protection of the log files (PCI DSS 10.3.2).
"""

from __future__ import annotations

from collections.abc import Mapping

from ..component.args import Profile
from ..component.profiles import (
    CIS_3_1,
    CIS_3_2,
    CIS_3_4,
    CIS_3_5,
    CIS_3_8_9,
    CIS_4,
    HIPAA_AUDIT,
    HIPAA_INTEGRITY,
    HIPAA_RETENTION,
    HIPAA_RETENTION_DAYS,
    PCI_10_2_1,
    PCI_10_3_4,
    PCI_10_5_1,
    PCI_RETENTION_DAYS,
    PROFILES,
    SOC2_CC7_2,
)
from ..component.settings import AuditTrailSettings

Clause = tuple[str, str]

CIS_3_6 = ("CIS AWS Foundations 3.6", "Ensure rotation for customer-created symmetric CMKs is enabled")
PCI_10_3_2 = (
    "PCI DSS v4.0 Requirement 10.3.2",
    "Audit log files are protected to prevent modifications by individuals.",
)

# The checks of `doctor`, by what they show.
_RECORDING = (
    "trail exists",
    "logging",
    "log delivery error",
    "last log delivery",
    "multi-region",
    "event selectors",
)
_VALIDATION = ("log file validation", "digest delivery error", "last digest delivery")
_PROTECTION = (
    "log bucket",
    "bucket policy: source ARN",
    "bucket policy: TLS only",
    "bucket policy: outside access",
    "public access block",
    "versioning",
    "lifecycle: early deletion",
)
_MONITORING = ("CloudWatch Logs delivery error", "last CloudWatch Logs delivery")

_BY_PROFILE: dict[Profile, dict[str, tuple[Clause, ...]]] = {
    Profile.CIS: {
        **dict.fromkeys(_RECORDING, (CIS_3_1,)),
        **dict.fromkeys(_VALIDATION, (CIS_3_2,)),
        **dict.fromkeys(_MONITORING, (CIS_4,)),
        "KMS key enabled": (CIS_3_5,),
        "KMS key rotation": (CIS_3_6,),
    },
    Profile.SOC2: {
        **dict.fromkeys((*_RECORDING, *_VALIDATION, *_MONITORING, "lifecycle"), (SOC2_CC7_2,)),
    },
    Profile.PCI: {
        **dict.fromkeys(_RECORDING, (PCI_10_2_1,)),
        **dict.fromkeys(_VALIDATION, (PCI_10_3_4,)),
        **dict.fromkeys((*_PROTECTION, "KMS key enabled"), (PCI_10_3_2,)),
        "lifecycle": (PCI_10_5_1,),
    },
    Profile.HIPAA: {
        **dict.fromkeys(_RECORDING, (HIPAA_AUDIT,)),
        **dict.fromkeys((*_VALIDATION, *_PROTECTION), (HIPAA_INTEGRITY,)),
        "lifecycle": (HIPAA_RETENTION,),
    },
}

# Profile requirements no live check answers: the stack's configuration is the evidence.
_CONFIGURED_ONLY: dict[Profile, tuple[Clause, ...]] = {
    Profile.CIS: (CIS_3_4, CIS_3_8_9, CIS_4),
}

REQUIRED_RETENTION: dict[Profile, tuple[int, Clause]] = {
    Profile.PCI: (PCI_RETENTION_DAYS, PCI_10_5_1),
    Profile.HIPAA: (HIPAA_RETENTION_DAYS, HIPAA_RETENTION),
}


def clauses_of_check(profile: Profile | None, check: str) -> tuple[Clause, ...]:
    """The clauses of PROFILE that the doctor check named CHECK evidences (none without a profile)."""
    if profile is None:
        return ()
    return _BY_PROFILE.get(profile, {}).get(check, ())


def profile_clauses(profile: Profile) -> list[Clause]:
    """Every clause the profile answers to, in the order its requirements and checks name them."""
    seen: dict[str, Clause] = {}
    listed = [(req.clause, req.text) for req in PROFILES[profile].requirements]
    listed += _CONFIGURED_ONLY.get(profile, ())
    listed += [c for clauses in _BY_PROFILE.get(profile, {}).values() for c in clauses]
    for clause in listed:
        seen.setdefault(clause[0], clause)
    return list(seen.values())


def configured(profile: Profile, settings: AuditTrailSettings | None) -> Mapping[str, list[str]]:
    """Clause -> `field = value (meets/violates what is needed)` for the stack's settings the profile
    fixes, when they are known."""
    found: dict[str, list[str]] = {}
    if settings is None:
        return found
    for req in PROFILES[profile].requirements:
        if not req.applies(settings):
            continue
        value = getattr(settings, req.field)
        shown = getattr(value, "value", value)
        verdict = "violates" if req.violated_by(settings) else "meets"
        found.setdefault(req.clause, []).append(f"{req.field} = {shown} ({verdict} {req.needs})")
    return found
