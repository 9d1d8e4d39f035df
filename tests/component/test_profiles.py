"""Compliance profiles: presets under explicit config, and the values each standard forbids."""

from __future__ import annotations

from dataclasses import fields, replace
from enum import Enum
from typing import Any

import pytest
from audit_trail.component.args import Profile
from audit_trail.component.problems import Problem, config_key
from audit_trail.component.profiles import PROFILES, Requirement, apply_profile
from audit_trail.component.profiles import violations as profile_violations
from audit_trail.component.settings import AuditTrailSettings


def resolved(profile: str, **explicit: Any) -> AuditTrailSettings:
    """Settings as the profile and EXPLICIT make them (enum options given as their values)."""
    chosen = Profile(profile)
    return replace(AuditTrailSettings(), profile=chosen, **apply_profile(chosen, explicit))


def violations(profile: str, settings: AuditTrailSettings) -> list[Problem]:
    return list(profile_violations(replace(settings, profile=Profile(profile))))


def test_seed_profile_changes_nothing_and_forbids_nothing() -> None:
    assert apply_profile(Profile.SEED, {}) == {}
    assert (
        violations("seed", replace(AuditTrailSettings(), log_file_validation=False, retention_days=1)) == []
    )


@pytest.mark.parametrize("profile", ["cis", "soc2", "pci", "hipaa"])
def test_every_profile_preset_satisfies_its_own_standard(profile: str) -> None:
    assert violations(profile, resolved(profile)) == []


def test_cis_preset_turns_on_everything_cis_3_and_4_ask_for() -> None:
    assert apply_profile(Profile.CIS, {}) == {
        "kms_encryption": True,
        "cloud_watch_logs": True,
        "cis_alarms": True,
        "access_logging": True,
        "s3_data_events": "All",
    }


def test_explicit_config_overrides_a_preset_value_the_standard_allows() -> None:
    assert resolved("pci", retention_days=400).retention_days == 400
    assert resolved("hipaa", cloud_watch_logs=False).cloud_watch_logs is False


def test_pci_refuses_90_days_quoting_requirement_10_5_1() -> None:
    (found,) = violations("pci", resolved("pci", retention_days=90))
    field, value, message = found.key, found.value, found.message
    assert (field, value) == ("retentionDays", 90)
    assert "PCI DSS v4.0 Requirement 10.5.1" in message
    assert "Retain audit log history for at least 12 months" in message
    assert "at least 365" in message


def test_cis_refuses_disabling_log_file_validation_quoting_3_2() -> None:
    (found,) = violations("cis", resolved("cis", log_file_validation=False))
    assert found.key == "logFileValidation"
    assert "Ensure CloudTrail log file validation is enabled" in found.message


def test_hipaa_wants_six_years() -> None:
    assert resolved("hipaa").retention_days == 2190
    (found,) = violations("hipaa", resolved("hipaa", retention_days=365))
    assert "164.316(b)(2)(i)" in found.message


def test_every_violation_is_reported_not_only_the_first() -> None:
    found = violations(
        "cis", resolved("cis", multi_region=False, kms_encryption=False, s3_data_events="WriteOnly")
    )
    assert [f.key for f in found] == ["multiRegion", "kmsEncryption", "s3DataEvents"]


def test_central_bucket_leaves_access_logging_to_the_bucket_owner() -> None:
    options = resolved("cis", central_bucket_name="org-log-archive")
    assert options.access_logging is False
    assert violations("cis", options) == []


def _violating(settings: AuditTrailSettings, requirement: Requirement) -> Any:
    """A value of the requirement's field that it refuses: the other booleans, enum members or fewer days."""
    current = getattr(settings, requirement.field)
    kind = {f.name: f for f in fields(AuditTrailSettings)}[requirement.field].type
    candidates: list[Any]
    if isinstance(current, bool):
        candidates = [not current]
    elif isinstance(current, Enum):
        candidates = [m for m in type(current) if m is not current]
    else:
        assert kind in ("int", int), requirement.field
        candidates = [current - 1, 1]
    return next(v for v in candidates if not requirement.allowed(v))


@pytest.mark.parametrize("profile", [p for p in PROFILES if PROFILES[p].requirements])
def test_each_requirement_refuses_its_value_quoting_the_clause(profile: Profile) -> None:
    base = resolved(profile)
    for requirement in PROFILES[profile].requirements:
        bad = replace(base, **{requirement.field: _violating(base, requirement)})
        (found,) = violations(profile, bad)
        assert found.key == config_key(requirement.field)
        assert f'{requirement.clause}: "{requirement.text}"' in found.message
        assert f"requires {requirement.needs}" in found.message
