"""`verify` and `doctor` when AWS cannot answer: one line naming the resource, the region and what to do, exit
code 3 (could not run), never a traceback. Against moto on 127.0.0.1: a stopped endpoint, a wrong bucket, no
credentials; access denied through botocore's Stubber (moto grants everything)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3  # type: ignore[import-untyped]
import pytest
from audit_trail.cli.app import app
from audit_trail.errors import CannotRunError, ExitCode
from audit_trail.integrity.doctor import Expectations, run_doctor
from audit_trail.integrity.verify import verify_logs
from audit_trail.store import S3Store
from botocore.stub import Stubber  # type: ignore[import-untyped]
from typer.testing import CliRunner

REGION = "us-east-1"
VERIFY = ["verify", "--since", "2026-11-20T00:00Z", "--until", "2026-11-21T00:00Z"]


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "400"})
    return result.exit_code, result.stdout + result.stderr


def one_error_line(output: str) -> str:
    assert "Traceback" not in output
    (line,) = [line for line in output.splitlines() if line.strip()]
    assert line.startswith("Error: ")
    return line


@pytest.fixture
def stopped_endpoint(aws: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An endpoint that was there and is gone: a moto server started, then stopped."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    server.stop()
    url = f"http://{host}:{port}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("AWS_RETRY_MODE", "standard")
    yield url


@pytest.fixture
def no_credentials(aws: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # a session earlier tests made caches credentials


def test_verify_a_bucket_that_does_not_exist(aws):
    code, output = run(*VERIFY, "--bucket", "no-such-bucket")
    assert code == ExitCode.CANNOT_RUN
    assert "s3://no-such-bucket does not exist (asked in region us-east-1)" in one_error_line(output)


def test_verify_without_credentials(no_credentials):
    code, output = run(*VERIFY, "--bucket", "trail-bucket")
    assert code == ExitCode.CANNOT_RUN
    line = one_error_line(output)
    assert "listing s3://trail-bucket in us-east-1 failed - no AWS credentials found: set AWS_PROFILE" in line


def test_verify_with_the_endpoint_gone(stopped_endpoint):
    code, output = run(*VERIFY, "--bucket", "trail-bucket")
    assert code == ExitCode.CANNOT_RUN
    line = one_error_line(output)
    assert "listing s3://trail-bucket in us-east-1 failed - AWS cannot be reached" in line
    assert stopped_endpoint.removeprefix("http://") in line


def test_verify_denied_reading_the_bucket(aws):
    client = boto3.client("s3", region_name=REGION)
    stub = Stubber(client)
    stub.add_client_error("list_objects_v2", "AccessDenied", "Access Denied", 403)
    stub.activate()
    when = datetime(2026, 11, 20, tzinfo=UTC)
    with pytest.raises(
        CannotRunError, match=r"listing s3://trail-bucket/ in us-east-1 failed - access denied"
    ):
        verify_logs(S3Store("trail-bucket", client), lambda *a: {}, when, when.replace(day=21))


def test_doctor_without_credentials(no_credentials):
    code, output = run("doctor", "--trail", "account-activity-trail", "--region", REGION)
    assert code == ExitCode.CANNOT_RUN
    line = one_error_line(output)
    assert (
        "CloudTrail GetTrail of account-activity-trail in us-east-1 failed - no AWS credentials found" in line
    )


def test_doctor_with_the_endpoint_gone(stopped_endpoint):
    code, output = run("doctor", "--trail", "account-activity-trail", "--region", REGION)
    assert code == ExitCode.CANNOT_RUN
    line = one_error_line(output)
    assert "CloudTrail GetTrail of account-activity-trail in us-east-1 failed - AWS cannot be reached" in line
    assert stopped_endpoint in line


def test_doctor_denied_a_call_names_it_the_trail_and_the_bucket(aws):
    session = boto3.session.Session()
    session.client("s3", region_name=REGION).create_bucket(Bucket="logs")
    cloudtrail = session.client("cloudtrail", region_name=REGION)
    arn = cloudtrail.create_trail(Name="audit", S3BucketName="logs")["TrailARN"]
    s3 = session.client("s3", region_name=REGION)
    stub = Stubber(s3)
    stub.add_response("head_bucket", {})
    stub.add_client_error("get_bucket_policy", "AccessDenied", "Access Denied", 403)
    stub.activate()

    class Session:
        region_name = REGION

        def client(self, service: str, region_name: str | None = None) -> Any:
            return s3 if service == "s3" else session.client(service, region_name=region_name)

    with pytest.raises(CannotRunError) as caught:
        run_doctor("audit", REGION, Expectations(), session=Session())
    message = str(caught.value)
    assert (
        f"the bucket policy check: GetBucketPolicy of trail {arn}, bucket s3://logs in us-east-1 failed"
        in message
    )
    assert "access denied" in message and "s3:GetBucketPolicy" in message
