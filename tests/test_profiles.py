"""Compliance profiles: presets under explicit config, and the values each standard forbids."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from audit_trail.profiles import PROFILES, apply_profile, violations
from audit_trail.settings import AuditTrailSettings


def resolved(profile: str, **explicit: Any) -> AuditTrailSettings:
    """Settings as the profile and EXPLICIT make them (enum options given as their values)."""
    return replace(AuditTrailSettings(), **apply_profile(profile, explicit))


def test_seed_profile_changes_nothing_and_forbids_nothing() -> None:
    assert apply_profile("seed", {}) == {}
    assert (
        violations("seed", replace(AuditTrailSettings(), log_file_validation=False, retention_days=1)) == []
    )


@pytest.mark.parametrize("profile", ["cis", "soc2", "pci", "hipaa"])
def test_every_profile_preset_satisfies_its_own_standard(profile: str) -> None:
    assert violations(profile, resolved(profile)) == []


def test_cis_preset_turns_on_everything_cis_3_and_4_ask_for() -> None:
    assert apply_profile("cis", {}) == {
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
    field, value, message = found
    assert (field, value) == ("retention_days", 90)
    assert "PCI DSS v4.0 Requirement 10.5.1" in message
    assert "Retain audit log history for at least 12 months" in message
    assert "at least 365" in message


def test_cis_refuses_disabling_log_file_validation_quoting_3_2() -> None:
    (found,) = violations("cis", resolved("cis", log_file_validation=False))
    assert found[0] == "log_file_validation"
    assert "Ensure CloudTrail log file validation is enabled" in found[2]


def test_hipaa_wants_six_years() -> None:
    assert resolved("hipaa").retention_days == 2190
    (found,) = violations("hipaa", resolved("hipaa", retention_days=365))
    assert "164.316(b)(2)(i)" in found[2]


def test_every_violation_is_reported_not_only_the_first() -> None:
    found = violations(
        "cis", resolved("cis", multi_region=False, kms_encryption=False, s3_data_events="WriteOnly")
    )
    assert [f[0] for f in found] == ["multi_region", "kms_encryption", "s3_data_events"]


def test_central_bucket_leaves_access_logging_to_the_bucket_owner() -> None:
    options = resolved("cis", central_bucket_name="org-log-archive")
    assert options.access_logging is False
    assert violations("cis", options) == []


@pytest.mark.parametrize("profile", list(PROFILES))
def test_every_requirement_quotes_its_clause(profile: str) -> None:
    for requirement in PROFILES[profile].requirements:
        assert requirement.clause and requirement.text and requirement.needs
