"""Hardening options AWS would reject, or a profile's standard forbids: refused by key, nothing registered."""

from __future__ import annotations

from typing import Any

import pytest
from audit_trail.component.validation import ConfigError, check
from support.graph import of_type

ACCOUNT = "123456789012"
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"


def refused(preview_stack: Any, *options: str) -> ConfigError:
    plan = preview_stack("dev", *(o if o.startswith("aws:") else f"audit-trail:{o}" for o in options))
    assert isinstance(plan.error, ConfigError), plan.error
    assert [r["type"] for r in plan.resources if r["type"] != "pulumi:pulumi:Stack"] == []
    return plan.error


@pytest.mark.parametrize(
    ("options", "key", "fragment"),
    [
        (["cisAlarms=true"], "cisAlarms", "need `cloudWatchLogs: true`"),
        (['alarmEmails=["secops@example.com"]'], "alarmEmails", "only with `cisAlarms: true`"),
        (
            ["cloudWatchLogs=true", "cisAlarms=true", 'alarmEmails=["not-an-address"]'],
            "alarmEmails",
            "is not an email address",
        ),
        (
            ["cloudWatchLogs=true", "cloudWatchLogsRetentionDays=100"],
            "cloudWatchLogsRetentionDays",
            "365, 400",
        ),
        (
            ["cloudWatchLogsRoleSourceArn=true"],
            "cloudWatchLogsRoleSourceArn",
            "only with `cloudWatchLogs: true`",
        ),
        (["managementEvents=false"], "managementEvents", "would record nothing"),
        (["managementEvents=false", "s3DataEvents=All", "insights=true"], "insights", "records none"),
        (
            ["objectLockMode=GOVERNANCE", "objectLockRetentionDays=400"],
            "objectLockRetentionDays",
            "longer than `retentionDays` (90)",
        ),
        (["objectLockRetentionDays=30"], "objectLockRetentionDays", "only applies with `objectLockMode`"),
        (
            ["objectLockMode=COMPLIANCE", "forceDestroy=true", "retainOnDelete=false"],
            "forceDestroy",
            "under object lock",
        ),
        ([f"kmsKeyArn=arn:aws:kms:us-east-1:{ACCOUNT}:key/{KEY_ID}"], "kmsKeyArn", "`kmsEncryption` is off"),
        (
            ["kmsEncryption=true", f"kmsKeyArn=arn:aws-cn:kms:cn-north-1:{ACCOUNT}:key/{KEY_ID}"],
            "kmsKeyArn",
            "is in partition `aws-cn`, but the stack's region us-east-1 is in `aws`",
        ),
        (
            ["kmsEncryption=true", f"kmsKeyArn=arn:aws:kms:eu-west-1:{ACCOUNT}:key/{KEY_ID}"],
            "kmsKeyArn",
            "is in region eu-west-1",
        ),
        (
            ["kmsEncryption=true", f"kmsKeyArn=arn:aws:kms:us-east-1:{ACCOUNT}:alias/trail"],
            "kmsKeyArn",
            "must be a KMS key ARN",
        ),
        (["isOrganizationTrail=true"], "isOrganizationTrail", "needs `organizationId`"),
        (["organizationId=o-a1b2c3d4e5"], "organizationId", "only used by an organization trail"),
        (
            ["isOrganizationTrail=true", "organizationId=org-1"],
            "organizationId",
            "must look like o-a1b2c3d4e5",
        ),
        (["centralBucketName=log-archive", "bucketName=mine"], "bucketName", "`centralBucketName` sends"),
        (["centralBucketName=log-archive", "accessLogging=true"], "accessLogging", "its owner configures it"),
        (
            ["centralBucketName=log-archive", "objectLockMode=GOVERNANCE"],
            "objectLockMode",
            "locks the log bucket",
        ),
        (["accessLogging=true", "accessLogRetentionDays=0"], "accessLogRetentionDays", "from 1 to 3650"),
        (["s3DataEvents=Writes"], "s3DataEvents", "expected one of None, ReadOnly, WriteOnly, All"),
        (["profile=nist"], "profile", "expected one of seed, cis, soc2, pci, hipaa"),
        (
            ['dataEventSelectors=[{"resourceTyp": "AWS::SNS::Topic"}]'],
            "dataEventSelectors",
            "unknown key `resourceTyp`; did you mean `resourceType`?",
        ),
        (['dataEventSelectors=[{"readWrite": "All"}]'], "dataEventSelectors", "has no `resourceType`"),
        (['dataEventSelectors=[{"resourceType": "sns-topic"}]'], "dataEventSelectors", "AWS::Service::Type"),
        (
            ['dataEventSelectors=[{"resourceType": "AWS::SNS::Topic", "readWrite": "Writes"}]'],
            "dataEventSelectors",
            "`readWrite`: expected one of All, ReadOnly, WriteOnly",
        ),
        (
            ["s3DataEvents=All", 'dataEventSelectors=[{"resourceType": "AWS::S3::Object"}]'],
            "dataEventSelectors",
            "which `s3DataEvents` already records",
        ),
        (
            ['dataEventSelectors=[{"resourceType": "AWS::SNS::Topic"}, {"resourceType": "AWS::SNS::Topic"}]'],
            "dataEventSelectors",
            "repeats resource type AWS::SNS::Topic",
        ),
        (
            ['dataEventSelectors=[{"resourceType": "AWS::SNS::Topic", "excludePrincipalArns": ["backup"]}]'],
            "dataEventSelectors",
            "takes principal ARNs or ARN prefixes",
        ),
        (
            ['networkActivityEvents=["kms.amazonaws"]'],
            "networkActivityEvents",
            "did you mean `kms.amazonaws.com`?",
        ),
        (
            ['networkActivityEvents=["kms.amazonaws.com", "kms.amazonaws.com"]'],
            "networkActivityEvents",
            "is listed twice",
        ),
        (["networkActivityDeniedOnly=true"], "networkActivityDeniedOnly", "names no event source"),
    ],
)
def test_each_rule_names_the_key_and_registers_nothing(
    preview_stack: Any, options: list[str], key: str, fragment: str
) -> None:
    problems = refused(preview_stack, *options).problems
    assert [p.key for p in problems] == [key], [str(p) for p in problems]
    assert fragment in problems[0].message


def test_central_bucket_key_in_another_region_cannot_also_encrypt_the_log_group(preview_stack: Any) -> None:
    """CloudTrail needs the key in the central bucket's region, the log group needs one in the stack's."""
    other_region_key = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/{KEY_ID}"
    central = ["centralBucketName=log-archive", "kmsEncryption=true", f"kmsKeyArn={other_region_key}"]
    (problem,) = refused(preview_stack, *central, "cloudWatchLogs=true").problems
    assert problem.key == "kmsKeyArn"
    assert "eu-west-1" in problem.message and "us-east-1" in problem.message
    assert "`cloudWatchLogs: true`" in problem.message and "`centralBucketName`" in problem.message
    # Without CloudWatch Logs the key only has to be in the bucket's region, which the stack cannot check.
    assert preview_stack("dev", *(f"audit-trail:{o}" for o in central)).error is None


@pytest.mark.parametrize(
    ("options", "turned_on_by", "alternative"),
    [
        (["kmsEncryption=true"], None, "Or set `kmsEncryption: false`"),
        (["profile=pci"], "pci", "Or set `kmsEncryption: false`"),
        (["profile=cis"], "cis", "Profile `cis` requires such a key (CIS AWS Foundations 3.5)."),
    ],
)
def test_a_central_bucket_refuses_a_key_the_stack_would_create(
    preview_stack: Any, options: list[str], turned_on_by: str | None, alternative: str
) -> None:
    """The created key would be in the stack's region and readable only by the stack's account; a central
    bucket's owner needs a key in the bucket's region it may decrypt with (CloudTrail user guide, "Default KMS
    key policy created in CloudTrail console": "Enable cross account log decryption")."""
    (problem,) = refused(preview_stack, "centralBucketName=log-archive", *options).problems
    assert problem.key == "kmsEncryption"
    assert "CloudTrail needs the key in the bucket's region" in problem.message
    assert "the account owning the bucket could never read the logs" in problem.message
    assert "Set `kmsKeyArn` to a key in the central bucket's region" in problem.message
    assert alternative in problem.message
    assert (f"(profile `{turned_on_by}` turns it on)" in problem.message) is (turned_on_by is not None)


def test_a_central_bucket_with_an_existing_key_creates_no_key_for_the_logs(preview_stack: Any) -> None:
    key = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/{KEY_ID}"
    plan = preview_stack(
        "dev",
        "audit-trail:centralBucketName=log-archive",
        "audit-trail:profile=cis",
        f"audit-trail:kmsKeyArn={key}",
    )
    assert plan.error is None, plan.error
    trail = of_type(plan, "aws:cloudtrail/trail:Trail")[0]
    assert trail["inputs"]["kmsKeyId"] == key
    assert [k["name"] for k in of_type(plan, "aws:kms/key:Key")] == ["audit-trail-alarms-key"]


def test_pci_with_90_days_is_refused_quoting_10_5_1(preview_stack: Any) -> None:
    (problem,) = refused(preview_stack, "profile=pci", "retentionDays=90").problems
    assert str(problem) == (
        "audit-trail:retentionDays = 90: profile `pci` requires at least 365 here (PCI DSS v4.0 "
        'Requirement 10.5.1: "Retain audit log history for at least 12 months, with at least the most recent '
        'three months immediately available for analysis."). Set it to at least 365, or use profile `seed` '
        "to choose every setting yourself."
    )


def test_cis_without_log_file_validation_is_refused_quoting_3_2(preview_stack: Any) -> None:
    (problem,) = refused(preview_stack, "profile=cis", "logFileValidation=false").problems
    assert problem.key == "logFileValidation"
    assert 'CIS AWS Foundations 3.2: "Ensure CloudTrail log file validation is enabled"' in problem.message


def test_hipaa_refuses_less_than_six_years(preview_stack: Any) -> None:
    (problem,) = refused(preview_stack, "profile=hipaa", "retentionDays=365").problems
    assert "HIPAA 45 CFR 164.316(b)(2)(i)" in problem.message and "at least 2190" in problem.message


def test_profile_preset_is_overridable_within_the_standard(preview_stack: Any) -> None:
    plan = preview_stack(
        "dev", "audit-trail:profile=pci", "audit-trail:retentionDays=400", "audit-trail:cisAlarms=false"
    )
    assert plan.error is None, plan.error
    lifecycle = next(r for r in plan.resources if r["name"] == "audit-trail-lifecycle")
    assert lifecycle["inputs"]["rules"][0]["expiration"] == {"days": 400}
    assert of_type(plan, "aws:cloudwatch/metricAlarm:MetricAlarm") == []
    assert of_type(plan, "aws:cloudwatch/logGroup:LogGroup") != []


def test_every_conflict_is_reported_together(preview_stack: Any) -> None:
    error = refused(
        preview_stack,
        "profile=cis",
        "multiRegion=false",
        "includeGlobalServiceEvents=false",
        "cloudWatchLogs=false",
    )
    keys = [p.key for p in error.problems]
    assert keys == ["cisAlarms", "multiRegion"]


def test_component_args_get_the_same_hardening_errors(preview_program: Any) -> None:
    from audit_trail import AuditTrail

    plan = preview_program(
        lambda: AuditTrail(
            "trail",
            {
                "kms_encryption": True,
                "kms_key_arn": f"arn:aws-us-gov:kms:us-gov-west-1:{ACCOUNT}:key/{KEY_ID}",
            },
        ),
        {"aws:region": "eu-west-1"},
    )
    assert isinstance(plan.error, ConfigError)
    assert [p.key for p in plan.error.problems] == ["kmsKeyArn"]
    assert "partition `aws-us-gov`" in plan.error.problems[0].message
    assert [r for r in plan.resources if r["type"] != "pulumi:pulumi:Stack"] == []


def test_the_hardening_defaults_are_valid_and_off() -> None:
    settings, problems = check({})
    assert problems == []
    assert settings.profile.value == "seed"
    assert not any(
        [
            settings.kms_encryption,
            settings.cloud_watch_logs,
            settings.cis_alarms,
            settings.access_logging,
            settings.insights,
            settings.is_organization_trail,
            settings.central_bucket_name,
        ]
    )
    assert settings.s3_data_events.value == "None" and settings.object_lock_mode.value == "None"
