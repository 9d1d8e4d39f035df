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
        "bucket policy: source ARN": "PASS",
        "bucket policy: TLS only": "PASS",
        "public access block": "PASS",
        "versioning": "PASS",
        "lifecycle": "PASS",
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
        retention_days=400, read_write_type="WriteOnly", multi_region=True
    )
    # Without the project's config file, the retention is unknown, so not compared.
    assert deployed_stack("staging", tmp_path).expectations().retention_days is None
    # A profile's preset retention is what the program deploys, so it is what doctor expects.
    (project / "Pulumi.staging.yaml").write_text("config:\n  audit-trail:profile: pci\n")
    assert deployed_stack("staging", project).expectations().retention_days == 365


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
