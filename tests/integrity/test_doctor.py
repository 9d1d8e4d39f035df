"""`doctor` against moto server on 127.0.0.1: a healthy trail passes, each breakage is a FAIL/WARN with a fix.

moto's GetTrailStatus has no LatestDigestDeliveryTime/Error, no LatestDeliveryError and no CloudWatch Logs
delivery fields, and always reports the last delivery as "now"; those paths are answered by botocore's Stubber
(moto's own response plus the fields it lacks).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3  # type: ignore[import-untyped]
import pytest
from audit_trail.arns import bucket_arn, trail_arn
from audit_trail.cli.app import app
from audit_trail.component.policies.log_bucket import log_bucket_policy
from audit_trail.errors import ExitCode, UserError
from audit_trail.integrity.doctor import Check, Expectations, Status, run_doctor, worst
from audit_trail.integrity.stack import deployed_stack
from botocore.stub import Stubber  # type: ignore[import-untyped]
from support.pulumi_cli import fake_pulumi
from typer.testing import CliRunner

ACCOUNT = "123456789012"  # moto's account
REGION = "us-east-1"
TRAIL = "account-activity-trail"
BUCKET = "audit-trail-logs"
ARN = trail_arn("aws", REGION, ACCOUNT, TRAIL)
NOW = datetime.now(UTC)


@pytest.fixture(scope="module")
def boto_session() -> Any:
    """One session for the module: its clients share loaded service models (a new session per run is slow)."""
    return boto3.session.Session()


@pytest.fixture
def healthy(aws: str, boto_session: Any) -> dict[str, Any]:
    """A trail as the component deploys it: bucket locked down, KMS rotating, validation, multi-region."""
    s3 = boto_session.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_policy(
        Bucket=BUCKET,
        Policy=json.dumps(
            log_bucket_policy(bucket_arn=bucket_arn("aws", BUCKET), trail_arn=ARN, account=ACCOUNT)
        ),
    )
    s3.put_public_access_block(
        Bucket=BUCKET,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_lifecycle_configuration(
        Bucket=BUCKET,
        LifecycleConfiguration={
            "Rules": [
                {"ID": "expire", "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 90}}
            ]
        },
    )
    kms = boto_session.client("kms", region_name=REGION)
    metadata = kms.create_key(Description="trail")["KeyMetadata"]
    key = metadata["Arn"]
    kms.enable_key_rotation(KeyId=metadata["KeyId"])
    cloudtrail = boto_session.client("cloudtrail", region_name=REGION)
    cloudtrail.create_trail(
        Name=TRAIL,
        S3BucketName=BUCKET,
        IsMultiRegionTrail=True,
        EnableLogFileValidation=True,
        KmsKeyId=key,
    )
    cloudtrail.start_logging(Name=TRAIL)
    return {
        "s3": s3,
        "kms": kms,
        "key_id": metadata["KeyId"],
        "cloudtrail": cloudtrail,
        "session": boto_session,
    }


class _Session:
    """A boto3 session whose CloudTrail client is a stubbed one."""

    def __init__(self, real: Any, cloudtrail: Any) -> None:
        self.real = real
        self.cloudtrail = cloudtrail
        self.region_name = REGION

    def client(self, service: str, region_name: str | None = None) -> Any:
        return (
            self.cloudtrail if service == "cloudtrail" else self.real.client(service, region_name=region_name)
        )


def _strip(response: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in response.items() if k != "ResponseMetadata"}


def with_status(healthy: dict[str, Any], **status: Any) -> _Session:
    """Moto's answers to the doctor's CloudTrail calls, with STATUS merged into GetTrailStatus."""
    real = healthy["cloudtrail"]
    client = healthy["session"].client("cloudtrail", region_name=REGION)
    stub = Stubber(client)
    stub.add_response("get_trail", _strip(real.get_trail(Name=TRAIL)))
    base = _strip(real.get_trail_status(Name=ARN))
    stub.add_response("get_trail_status", {**base, **status})
    stub.add_response("get_event_selectors", _strip(real.get_event_selectors(TrailName=ARN)))
    stub.activate()
    return _Session(healthy["session"], client)


DELIVERED = {
    "LatestDeliveryTime": NOW - timedelta(minutes=4),
    "LatestDigestDeliveryTime": NOW - timedelta(minutes=30),
}


def statuses(checks: list[Check]) -> dict[str, str]:
    return {c.check: c.status.name for c in checks}


EXPECT = Expectations(retention_days=90)


def doctor(healthy: dict[str, Any], expect: Expectations = EXPECT) -> dict[str, Check]:
    return {c.check: c for c in run_doctor(TRAIL, REGION, expect, session=healthy["session"])}


def test_healthy_trail_passes_every_check(healthy):
    checks = run_doctor(TRAIL, REGION, EXPECT, session=with_status(healthy, **DELIVERED))
    assert statuses(checks) == {
        "trail exists": "PASS",
        "logging": "PASS",
        "log delivery error": "PASS",
        "last log delivery": "PASS",
        "digest delivery error": "PASS",
        "last digest delivery": "PASS",
        "multi-region": "PASS",
        "log file validation": "PASS",
        "event selectors": "PASS",
        "log bucket": "PASS",
        "bucket policy: source ARN": "PASS",
        "bucket policy: TLS only": "PASS",
        "bucket policy: outside access": "PASS",
        "public access block": "PASS",
        "versioning": "PASS",
        "lifecycle": "PASS",
        "lifecycle: early deletion": "PASS",
        "KMS key enabled": "PASS",
        "KMS key rotation": "PASS",
    }
    assert worst(checks) is Status.PASS


def test_logging_stopped(healthy):
    healthy["cloudtrail"].stop_logging(Name=TRAIL)
    check = doctor(healthy)["logging"]
    assert check.status is Status.FAIL and "STOPPED" in check.detail and "start-logging" in check.fix


def test_lifecycle_removed_shorter_and_longer(healthy):
    healthy["s3"].delete_bucket_lifecycle(Bucket=BUCKET)
    check = doctor(healthy)["lifecycle"]
    assert check.status is Status.FAIL and "configured 90 days" in check.detail
    assert doctor(healthy, Expectations(retention_days=None))["lifecycle"].status is Status.WARN
    assert doctor(healthy, Expectations(retention_days=None))["lifecycle"].detail.endswith("kept forever")
    healthy["s3"].put_bucket_lifecycle_configuration(
        Bucket=BUCKET,
        LifecycleConfiguration={
            "Rules": [{"ID": "e", "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 30}}]
        },
    )
    assert doctor(healthy)["lifecycle"].status is Status.FAIL  # logs deleted before the configured 90 days
    assert doctor(healthy, Expectations(retention_days=10))["lifecycle"].status is Status.WARN


def test_validation_off_and_single_region(healthy):
    healthy["cloudtrail"].update_trail(Name=TRAIL, EnableLogFileValidation=False, IsMultiRegionTrail=False)
    checks = doctor(healthy)
    assert (
        checks["log file validation"].status is Status.FAIL
        and "CIS 3.2" in checks["log file validation"].detail
    )
    assert checks["multi-region"].status is Status.FAIL
    assert "digest delivery error" not in checks  # no digests to deliver
    assert (
        doctor(healthy, Expectations(retention_days=90, multi_region=False))["multi-region"].status
        is Status.PASS
    )


def test_policy_without_source_arn_or_tls(healthy):
    policy = log_bucket_policy(bucket_arn=bucket_arn("aws", BUCKET), trail_arn=ARN, account=ACCOUNT)
    for statement in policy["Statement"]:
        if statement["Sid"] == "AWSCloudTrailWrite":
            del statement["Condition"]["StringEquals"]["aws:SourceArn"]
    policy["Statement"] = [s for s in policy["Statement"] if s["Sid"] != "DenyInsecureTransport"]
    healthy["s3"].put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(policy))
    checks = doctor(healthy)
    source = checks["bucket policy: source ARN"]
    assert source.status is Status.FAIL and "AWSCloudTrailWrite" in source.detail
    assert "AWSCloudTrailAclCheck" not in source.detail
    assert checks["bucket policy: TLS only"].status is Status.FAIL
    healthy["s3"].delete_bucket_policy(Bucket=BUCKET)
    assert "no statement" in doctor(healthy)["bucket policy: source ARN"].detail


def test_public_access_block_missing_and_versioning_suspended(healthy):
    healthy["s3"].delete_public_access_block(Bucket=BUCKET)
    healthy["s3"].put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Suspended"})
    checks = doctor(healthy)
    assert checks["public access block"].status is Status.FAIL
    assert "BlockPublicAcls" in checks["public access block"].detail
    assert checks["versioning"].status is Status.FAIL and checks["versioning"].detail.startswith("Suspended")


def test_kms_key_disabled_and_rotation_off(healthy):
    # moto's DisableKey takes the key id only (real KMS also takes the ARN).
    healthy["kms"].disable_key(KeyId=healthy["key_id"])
    healthy["kms"].disable_key_rotation(KeyId=healthy["key_id"])
    checks = doctor(healthy)
    assert checks["KMS key enabled"].status is Status.FAIL and "Disabled" in checks["KMS key enabled"].detail
    assert checks["KMS key rotation"].status is Status.FAIL


def test_event_selectors(healthy):
    healthy["cloudtrail"].put_event_selectors(
        TrailName=TRAIL, EventSelectors=[{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True}]
    )
    assert doctor(healthy)["event selectors"].status is Status.FAIL
    assert doctor(healthy, Expectations(read_write_type="WriteOnly"))["event selectors"].status is Status.PASS
    healthy["cloudtrail"].put_event_selectors(
        TrailName=TRAIL,
        AdvancedEventSelectors=[
            {
                "Name": "data only",
                "FieldSelectors": [
                    {"Field": "eventCategory", "Equals": ["Data"]},
                    {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
                ],
            }
        ],
    )
    check = doctor(healthy)["event selectors"]
    assert check.status is Status.FAIL and "not logged" in check.detail


def test_missing_trail_is_one_fail(aws, boto_session):
    checks = run_doctor("no-such-trail", REGION, Expectations(), session=boto_session)
    assert [(c.check, c.status) for c in checks] == [("trail exists", Status.FAIL)]
    assert "--trail/--region" in checks[0].fix


def test_delivery_errors_and_late_deliveries(healthy):
    """Stubber: moto reports neither delivery errors nor digest delivery."""
    session = with_status(
        healthy,
        LatestDeliveryError="AccessDenied",
        LatestDeliveryTime=NOW - timedelta(hours=3),
        LatestDigestDeliveryError="AccessDenied",
        LatestDigestDeliveryTime=NOW - timedelta(days=2),
    )
    checks = {c.check: c for c in run_doctor(TRAIL, REGION, EXPECT, session=session)}
    assert (
        checks["log delivery error"].status is Status.FAIL
        and checks["log delivery error"].detail == "AccessDenied"
    )
    assert (
        checks["last log delivery"].status is Status.WARN and checks["last log delivery"].detail == "3 h ago"
    )
    assert checks["digest delivery error"].status is Status.FAIL
    assert checks["last digest delivery"].status is Status.FAIL
    assert checks["log file validation"].status is Status.FAIL
    assert "cannot deliver digest files (AccessDenied)" in checks["log file validation"].detail


def test_cloudwatch_delivery(healthy):
    """Stubber: moto has no CloudWatch Logs delivery status."""
    healthy["cloudtrail"].update_trail(
        Name=TRAIL,
        CloudWatchLogsLogGroupArn=f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:trail:*",
        CloudWatchLogsRoleArn=f"arn:aws:iam::{ACCOUNT}:role/trail-to-logs",
    )
    fresh = with_status(healthy, **DELIVERED, LatestCloudWatchLogsDeliveryTime=NOW - timedelta(minutes=2))
    checks = statuses(run_doctor(TRAIL, REGION, EXPECT, session=fresh))
    assert checks["CloudWatch Logs delivery error"] == checks["last CloudWatch Logs delivery"] == "PASS"
    broken = with_status(healthy, **DELIVERED, LatestCloudWatchLogsDeliveryError="AccessDeniedException")
    checks = statuses(run_doctor(TRAIL, REGION, EXPECT, session=broken))
    assert checks["CloudWatch Logs delivery error"] == checks["last CloudWatch Logs delivery"] == "FAIL"


def test_worst_result_orders_statuses():
    assert worst([]) is Status.PASS
    assert worst([Check("a", Status.PASS, ""), Check("b", Status.WARN, "")]) is Status.WARN
    assert worst([Check("a", Status.FAIL, ""), Check("b", Status.WARN, "")]) is Status.FAIL


def test_cli_doctor_json_and_exit_code(healthy):
    healthy["s3"].put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Suspended"})
    args = ["doctor", "--trail", TRAIL, "--region", REGION, "--retention-days", "90", "-f", "json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == ExitCode.FINDINGS == 1
    rows = {r["check"]: r for r in json.loads(result.output)}
    assert rows["versioning"]["status"] == "FAIL" and "pulumi up" in rows["versioning"]["fix"]
    assert rows["logging"]["status"] == "PASS"


def test_cli_doctor_bad_input(aws):
    result = CliRunner().invoke(app, ["doctor"])
    assert result.exit_code == 2 and "--stack STACK, or --trail NAME --region REGION" in result.output
    result = CliRunner().invoke(app, ["doctor", "--trail", TRAIL, "--read-write-type", "Everything"])
    assert result.exit_code == 2 and "--read-write-type 'Everything'" in result.output
    with pytest.raises(UserError, match="--region"):
        run_doctor(TRAIL, None, Expectations(), session=type("S", (), {"region_name": None})())


def test_stack_expectations_come_from_outputs_and_config(tmp_path, monkeypatch):
    project = tmp_path / "project"
    project.mkdir()
    (project / "Pulumi.yaml").write_text("name: audit\nruntime: python\n")
    (project / "Pulumi.staging.yaml").write_text(
        "config:\n  audit-trail:retentionDays: 400\n  audit-trail:readWriteType: WriteOnly\n"
    )
    outputs = {"trailName": "staging-trail", "homeRegion": "eu-west-1", "bucketName": "b"}
    calls = fake_pulumi(tmp_path, monkeypatch, outputs)
    stack = deployed_stack("staging", project)
    assert calls.read_text().split() == ["stack", "output", "--json", "--stack", "staging"]
    assert (stack.trail_name, stack.home_region) == ("staging-trail", "eu-west-1")
    assert stack.expectations() == Expectations(
        retention_days=400,
        read_write_type="WriteOnly",
        multi_region=True,
        noncurrent_version_days=30,
        s3_key_prefix="",
    )
    # Without the project's config file, the retention is unknown, so not compared.
    assert deployed_stack("staging", tmp_path).expectations().retention_days is None
    # A profile's preset retention is what the program deploys, so it is what doctor expects.
    (project / "Pulumi.staging.yaml").write_text("config:\n  audit-trail:profile: pci\n")
    assert deployed_stack("staging", project).expectations().retention_days == 365
    # An organization trail writes under its organization's folder too, and the prefix is the stack's.
    (project / "Pulumi.staging.yaml").write_text(
        "config:\n  audit-trail:isOrganizationTrail: true\n  audit-trail:organizationId: o-abcdefghij\n"
        "  audit-trail:s3KeyPrefix: audit\n  audit-trail:noncurrentVersionDays: 60\n"
    )
    org = deployed_stack("staging", project).expectations()
    assert (org.organization_id, org.s3_key_prefix, org.noncurrent_version_days) == (
        "o-abcdefghij",
        "audit",
        60,
    )


def test_stack_outputs_are_read_with_the_pulumi_cli(tmp_path, monkeypatch):
    fake_pulumi(tmp_path, monkeypatch, exit_code=255, stderr="error: no stack named 'gone' found")
    with pytest.raises(UserError, match="no stack named 'gone' found"):
        deployed_stack("gone", tmp_path)
    fake_pulumi(tmp_path, monkeypatch, {"trailName": "t"})
    with pytest.raises(UserError, match="no `bucketName` output"):
        deployed_stack("other", tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(UserError, match="needs the Pulumi CLI on PATH"):
        deployed_stack("any", tmp_path)


# --- what would delete the logs early: hostile lifecycle rules (issue: a narrower prefix, a date, ...) -----

STACK_RULES = [
    {
        "ID": "expire-logs",
        "Status": "Enabled",
        "Filter": {"Prefix": ""},
        "Expiration": {"Days": 90},
        "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
    }
]
STACK = Expectations(retention_days=90, noncurrent_version_days=30)


def _with_rules(healthy: dict[str, Any], rules: dict[str, dict[str, Any]]) -> None:
    added = [{"ID": rule_id, **rule} for rule_id, rule in rules.items()]
    healthy["s3"].put_bucket_lifecycle_configuration(
        Bucket=BUCKET, LifecycleConfiguration={"Rules": [*STACK_RULES, *added]}
    )


HOSTILE_RULES = {
    "narrower-prefix": (
        {
            "Status": "Enabled",
            "Filter": {"Prefix": f"AWSLogs/{ACCOUNT}/CloudTrail/"},
            "Expiration": {"Days": 1},
        },
        f"prefix 'AWSLogs/{ACCOUNT}/CloudTrail/' after 1 days",
    ),
    "digest-folder": (
        {
            "Status": "Enabled",
            "Filter": {"Prefix": f"AWSLogs/{ACCOUNT}/CloudTrail-Digest/"},
            "Expiration": {"Days": 3},
        },
        "CloudTrail-Digest/' after 3 days",
    ),
    "a-date": (
        {
            "Status": "Enabled",
            "Filter": {"Prefix": ""},
            "Expiration": {"Date": datetime(2026, 12, 3, tzinfo=UTC)},
        },
        "on 2026-12-03",
    ),
    "short-noncurrent": (
        {
            "Status": "Enabled",
            "Filter": {"Prefix": "AWSLogs/"},
            "NoncurrentVersionExpiration": {"NoncurrentDays": 1},
        },
        "versions of prefix 'AWSLogs/' after 1 days, 30 configured",
    ),
    "by-tag": (
        {"Status": "Enabled", "Filter": {"Tag": {"Key": "purge", "Value": "yes"}}, "Expiration": {"Days": 1}},
        "every key, tag purge=yes after 1 days",
    ),
    # moto keeps no size filter: `test_lifecycle` checks how one is read.
    "by-size": (
        {"Status": "Enabled", "Filter": {"ObjectSizeGreaterThan": 200}, "Expiration": {"Days": 2}},
        "after 2",
    ),
    "prefix-and-size": (
        {
            "Status": "Enabled",
            "Filter": {"And": {"Prefix": "AWSLogs/", "ObjectSizeLessThan": 10_000_000}},
            "Expiration": {"Days": 7},
        },
        "after 7 days",
    ),
}
HARMLESS_RULES = {
    "disabled": {"Status": "Disabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 1}},
    "another-folder": {
        "Status": "Enabled",
        "Filter": {"Prefix": "athena-results/"},
        "Expiration": {"Days": 1},
    },
    "another-account": {
        "Status": "Enabled",
        "Filter": {"Prefix": "AWSLogs/999999999999/"},
        "Expiration": {"Days": 1},
    },
    "other-org": {
        "Status": "Enabled",
        "Filter": {"Prefix": "AWSLogs/o-abcdefghij/"},
        "Expiration": {"Days": 1},
    },
    "delete-markers": {
        "Status": "Enabled",
        "Filter": {"Prefix": ""},
        "Expiration": {"ExpiredObjectDeleteMarker": True},
    },
    "uploads": {
        "Status": "Enabled",
        "Filter": {"Prefix": ""},
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
    },
}


def test_each_lifecycle_rule_deleting_logs_early_fails(healthy):
    _with_rules(healthy, {rule_id: rule for rule_id, (rule, _) in HOSTILE_RULES.items()})
    early = doctor(healthy, STACK)["lifecycle: early deletion"]
    assert early.status is Status.FAIL
    for rule_id, (_, why) in HOSTILE_RULES.items():
        assert f"rule {rule_id!r} " in early.detail, rule_id
        assert why in early.detail.split(f"rule {rule_id!r} ")[1].split("; rule ")[0], rule_id
    assert "PutBucketLifecycleConfiguration" in early.fix


def test_rules_that_delete_no_log_file_early_pass(healthy):
    _with_rules(healthy, HARMLESS_RULES)
    checks = doctor(healthy, STACK)
    assert checks["lifecycle: early deletion"].status is Status.PASS
    assert checks["lifecycle"].detail == "logs expire after 90 days, as configured"
    # The organization's folder is the trail's own when it is an organization trail.
    org = doctor(healthy, Expectations(retention_days=90, organization_id="o-abcdefghij"))
    assert (
        org["lifecycle: early deletion"].status is Status.FAIL
        and "'other-org'" in org["lifecycle: early deletion"].detail
    )


# --- who outside the account the bucket policy lets at the logs --------------------------------------------

OTHER = "999999999999"
OUTSIDE_WRITERS: dict[str, dict[str, Any]] = {
    "DeleteByAnotherAccount": {
        "Principal": {"AWS": f"arn:aws:iam::{OTHER}:root"},
        "Action": "s3:DeleteObject",
    },
    "LifecycleByAnyone": {"Principal": "*", "Action": "s3:PutLifecycleConfiguration"},
    "PolicyByAnyAws": {"Principal": {"AWS": "*"}, "Action": "s3:PutBucketPolicy"},
    "WriteByAnotherAccount": {"Principal": {"AWS": f"arn:aws:iam::{OTHER}:role/x"}, "Action": "s3:PutObject"},
    "CloudTrailDeletes": {"Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:DeleteObject"},
}


def test_outside_principals_that_may_destroy_or_forge_logs_fail_with_each_statement(healthy):
    policy = log_bucket_policy(bucket_arn=bucket_arn("aws", BUCKET), trail_arn=ARN, account=ACCOUNT)
    policy["Statement"] += [
        {"Sid": sid, "Effect": "Allow", "Resource": f"arn:aws:s3:::{BUCKET}/*", **statement}
        for sid, statement in OUTSIDE_WRITERS.items()
    ]
    reader = f"arn:aws:iam::{OTHER}:role/auditor"
    healthy["s3"].put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(policy))
    check = doctor(healthy)["bucket policy: outside access"]
    assert check.status is Status.FAIL
    for sid in OUTSIDE_WRITERS:
        assert f'"Sid":"{sid}"' in check.detail  # the statement itself, quoted
    # Reading only is a warning naming who may read.
    policy["Statement"] = [s for s in policy["Statement"] if s.get("Sid") not in OUTSIDE_WRITERS]
    read = {"Action": ["s3:GetObject", "s3:ListBucket"], "Resource": [f"arn:aws:s3:::{BUCKET}/*"]}
    policy["Statement"].append({"Sid": "Audit", "Effect": "Allow", "Principal": {"AWS": reader}, **read})
    healthy["s3"].put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(policy))
    check = doctor(healthy)["bucket policy: outside access"]
    assert check.status is Status.WARN and reader in check.detail and "read" in check.detail


# --- diagnoses ------------------------------------------------------------------------------------------


def test_a_deleted_bucket_is_named_not_blamed_on_credentials(healthy):
    healthy["s3"].delete_bucket(Bucket=BUCKET)
    checks = doctor(healthy)
    bucket = checks["log bucket"]
    assert bucket.status is Status.FAIL
    assert f"the trail's bucket s3://{BUCKET} does not exist" in bucket.detail and "pulumi up" in bucket.fix
    assert not [c for c in checks if c.startswith(("bucket policy", "lifecycle", "versioning", "public"))]
    assert not any("credentials" in c.fix for c in checks.values())


def test_validation_on_without_digests_is_not_a_pass(healthy):
    checks = doctor(healthy)  # moto reports no digest delivery at all
    assert (
        checks["last digest delivery"].status is Status.FAIL
        and checks["last digest delivery"].detail == "never"
    )
    validation = checks["log file validation"]
    assert validation.status is Status.FAIL
    assert validation.detail == "on, but no digest file has ever been delivered: the logs are unproven"
    late = with_status(healthy, **{**DELIVERED, "LatestDigestDeliveryTime": NOW - timedelta(hours=5)})
    checks = {c.check: c for c in run_doctor(TRAIL, REGION, EXPECT, session=late)}
    assert checks["log file validation"].status is checks["last digest delivery"].status is Status.WARN


def test_a_trail_arn_is_looked_up_in_its_own_region(aws, boto_session):
    s3 = boto_session.client("s3", region_name="eu-west-1")
    s3.create_bucket(Bucket="eu-logs", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    cloudtrail = boto_session.client("cloudtrail", region_name="eu-west-1")
    arn = cloudtrail.create_trail(Name="eu-trail", S3BucketName="eu-logs")["TrailARN"]
    checks = run_doctor(arn, None, Expectations(), session=boto_session)  # the session's region: us-east-1
    assert checks[0].check == "trail exists" and checks[0].status is Status.PASS
    with pytest.raises(UserError, match=r"a trail of eu-west-1, not of --region us-east-1"):
        run_doctor(arn, "us-east-1", Expectations(), session=boto_session)
    result = CliRunner().invoke(app, ["doctor", "--trail", arn, "-f", "json"])
    assert json.loads(result.output)[0] == {
        "check": "trail exists",
        "status": "PASS",
        "detail": arn,
        "fix": "",
    }


def test_the_home_region_may_come_from_aws_region(aws, boto_session, monkeypatch):
    """The SDKs' own variable, AWS_REGION, names the region when --region is not given (boto3 alone reads
    only AWS_DEFAULT_REGION)."""
    s3 = boto_session.client("s3", region_name="eu-west-1")
    s3.create_bucket(Bucket="eu-logs", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    boto_session.client("cloudtrail", region_name="eu-west-1").create_trail(
        Name="eu-trail", S3BucketName="eu-logs"
    )
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    result = CliRunner().invoke(app, ["doctor", "--trail", "eu-trail", "-f", "json"])
    assert result.exit_code in (0, 1), result.output
    assert json.loads(result.stdout)[0]["status"] == "PASS"


@pytest.mark.parametrize(
    "args",
    [
        ["doctor", "--trail", "t", "--region", "eu-west1"],
        [
            "report",
            "--folder",
            ".",
            "--since",
            "1d",
            "--until",
            "now",
            "--trail",
            "t",
            "--region",
            "eu-west1",
            "-o",
            "out.html",
        ],
    ],
)
def test_a_mistyped_region_is_refused_before_aws_is_asked(args, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens: asking would fail, exit 3
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "--region 'eu-west1': not an AWS region; did you mean eu-west-1?" in result.output
    assert not (tmp_path / "out.html").exists()


@pytest.mark.parametrize(
    ("args", "instead"),
    [
        (
            ["query", "--engine", "athena", "--stack", "prod"],
            "give --database, --table and --workgroup instead",
        ),
        (["fetch", "out", "--stack", "prod"], "give --bucket and --prefix instead"),
        (["verify", "--stack", "prod", "--since", "1d"], "give --bucket and --prefix (or --folder) instead"),
        (["doctor", "--stack", "prod"], "give --trail and --region instead"),
    ],
)
def test_without_the_pulumi_cli_each_command_names_its_own_options(args, instead, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "needs the Pulumi CLI on PATH" in result.output and instead in result.output


def test_a_region_variable_no_host_can_have_is_bad_input_not_a_traceback(tmp_path, monkeypatch):
    """`AWS_REGION=$'us-east-1\\n'` made botocore raise ValueError: a traceback and exit 1, the code for
    findings, so a script read it as doctor FAIL."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "")  # so that the command's copy of AWS_REGION is undone after
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.setenv("AWS_REGION", "us-east-1\n")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    result = CliRunner().invoke(app, ["doctor", "--trail", "t"])
    assert result.exit_code == 2, result.output
    assert "the AWS region is not a region's name" in result.output and "us-east-1\\x0a" in result.output
