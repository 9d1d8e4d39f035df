"""`audit-trail report`: written whatever it found (exit 0; 1 with --fail-on-findings), bad input refused
before any work (exit 2), a source that cannot be read (exit 3), an earlier report never half-replaced;
offline from a folder, and against a bucket and its live trail (moto), the configuration being doctor's."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3  # type: ignore[import-untyped]
import pytest
from audit_trail.cli.app import app
from audit_trail.component.args import Profile
from audit_trail.integrity.doctor import Expectations, run_doctor
from audit_trail.investigate.sample_digests import SAMPLE_BUCKET
from audit_trail.report.gather import LiveTrail, check_configuration
from support.logs import upload_folder
from support.moto_data import data_client, listing
from support.planted_trail import SINCE, UNTIL, Planted
from typer.testing import CliRunner

WINDOW = ["--since", SINCE.isoformat(), "--until", UNTIL.isoformat()]
TRAIL = "audit"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["report", *args])
    return result.exit_code, result.stderr


def offline(planted: Planted) -> list[str]:
    return ["--folder", str(planted.root), "--public-keys", str(planted.keys), *WINDOW]


def test_the_report_is_written_whatever_it_found(planted: Planted, tmp_path: Path) -> None:
    out = tmp_path / "audit.json"
    code, err = run(*offline(planted), "-o", str(out), "--format", "json")
    assert code == 0, err
    report = json.loads(out.read_text())
    assert {s["section"]: s["status"] for s in report["summary"]}["integrity"] == "FAIL"
    assert report["produced"]["command_line"][:3] == ["audit-trail", "report", "--folder"]
    assert f"Report written to {out}" in err and "FAIL" in err
    code, _ = run(*offline(planted), "-o", str(tmp_path / "again.html"), "--fail-on-findings")
    assert code == 1
    assert (tmp_path / "again.html").read_text().startswith("<!DOCTYPE html>")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "2026-03-04", "--until", "2026-03-02"], "is not before --until"),
        (["--since", "2026-03-02", "--until", "soon"], "--until 'soon': not a time"),
        ([*WINDOW, "--profile", "iso27001"], "--profile 'iso27001': use one of cis, soc2, pci, hipaa"),
        ([*WINDOW, "--format", "pdf"], "--format 'pdf': use html, json or md"),
        ([*WINDOW, "--account", "12345"], "an AWS account id is 12 digits"),
    ],
)
def test_bad_input_is_refused_before_any_work(
    planted: Planted, tmp_path: Path, args: list[str], message: str
) -> None:
    out = tmp_path / "audit.html"
    out.write_text("the last report")
    code, err = run("--folder", str(planted.root), "--public-keys", str(planted.keys), *args, "-o", str(out))
    assert (code, message in err) == (2, True), err
    assert out.read_text() == "the last report"


def test_an_output_that_cannot_be_written_is_refused_first(tmp_path: Path) -> None:
    # no source at all: the output is checked before anything else is looked at
    code, err = run(*WINDOW, "-o", str(tmp_path))
    assert (code, "a folder; give the file to write" in err) == (2, True), err
    code, err = run(*WINDOW, "-o", str(tmp_path / "missing" / "audit.html"))
    assert (code, "does not exist" in err) == (2, True), err


def test_the_period_and_output_are_required(planted: Planted, tmp_path: Path) -> None:
    code, err = run("--folder", str(planted.root), "--since", "2026-03-02", "-o", str(tmp_path / "a.html"))
    assert code == 2 and "--until" in err
    code, err = run("--folder", str(planted.root), *WINDOW)
    assert code == 2 and "--output" in err


def test_a_folder_without_public_keys_is_refused(planted: Planted, tmp_path: Path) -> None:
    code, err = run("--folder", str(planted.root), *WINDOW, "-o", str(tmp_path / "a.html"))
    assert (code, "--folder needs --public-keys" in err) == (2, True)
    assert not (tmp_path / "a.html").exists()


def test_a_missing_bucket_cannot_be_read_and_leaves_the_last_report(aws: str, tmp_path: Path) -> None:
    out = tmp_path / "audit.html"
    out.write_text("the last report")
    code, err = run("--bucket", "no-such-bucket", *WINDOW, "-o", str(out))
    assert (code, "does not exist" in err) == (3, True), err
    assert out.read_text() == "the last report"
    assert [p.name for p in tmp_path.iterdir()] == ["audit.html"]


@pytest.fixture
def live_trail(aws: str) -> dict[str, Any]:
    """A trail writing to the sample's bucket (moto)."""
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=SAMPLE_BUCKET)
    cloudtrail = boto3.client("cloudtrail", region_name="us-east-1")
    return cloudtrail.create_trail(
        Name=TRAIL, S3BucketName=SAMPLE_BUCKET, IsMultiRegionTrail=True, EnableLogFileValidation=True
    )


@pytest.fixture(scope="module")
def planted_bucket(moto_data_endpoint: str, planted: Planted) -> Iterator[str]:
    """The planted trail in the sample's bucket, and a trail writing to it, on the read-only data server."""
    s3 = data_client(moto_data_endpoint, "s3")
    s3.create_bucket(Bucket=SAMPLE_BUCKET)
    data_client(moto_data_endpoint, "cloudtrail").create_trail(
        Name=TRAIL, S3BucketName=SAMPLE_BUCKET, IsMultiRegionTrail=True, EnableLogFileValidation=True
    )
    upload_folder(s3, SAMPLE_BUCKET, planted.root)
    before = listing(s3, SAMPLE_BUCKET)
    yield SAMPLE_BUCKET
    assert listing(s3, SAMPLE_BUCKET) == before, "a test wrote to a read-only bucket: give it its own (`aws`)"


def test_against_a_bucket_and_its_live_trail_configuration_is_doctor_s(
    aws_data: str, planted_bucket: str, planted: Planted, tmp_path: Path
) -> None:
    out = tmp_path / "audit.json"
    day = ["--since", (SINCE + timedelta(days=1)).isoformat(), "--until", UNTIL.isoformat()]  # half: quicker
    code, err = run(
        "--bucket", SAMPLE_BUCKET, "--public-keys", str(planted.keys), *day,
        "--trail", TRAIL, "--region", "us-east-1", "--profile", "pci", "-f", "json", "-o", str(out),
    )  # fmt: skip
    assert code == 0, err
    report = json.loads(out.read_text())
    config = report["configuration"]
    doctor = run_doctor(TRAIL, "us-east-1", Expectations())
    assert [{k: c[k] for k in ("check", "status", "detail")} for c in config["checks"]] == [
        {"check": c.check, "status": c.status.name, "detail": c.detail} for c in doctor
    ]
    clauses = {c["check"]: c["clauses"] for c in config["checks"]}
    assert clauses["log file validation"] == ["PCI DSS v4.0 Requirement 10.3.4"]
    assert clauses["logging"] == ["PCI DSS v4.0 Requirement 10.2.1"]
    assert "PCI DSS v4.0 Requirement 10.5.1" in {c["clause"] for c in config["controls"]}
    # no lifecycle rule on the bucket: kept until deleted, which meets PCI's year
    assert config["retention"] == {
        "in_force_days": None,
        "in_force": "no expiry rule: kept until deleted",
        "required_days": 365,
        "clause": "PCI DSS v4.0 Requirement 10.5.1",
        "text": config["retention"]["text"],
        "status": "PASS",
    }
    # the logs read from the bucket tell the same story as from the folder
    failures = {(f["problem"], f["key"]) for f in report["integrity"]["findings"] if f["result"] == "FAIL"}
    assert ("log modified", planted.modified_log) in failures
    tables = {t["id"]: t["total"] for t in report["activity"]["tables"]}
    assert tables["root-usage"] == len(planted.known.root_events)


def test_a_short_retention_fails_the_profile(live_trail: dict[str, Any]) -> None:
    boto3.client("s3", region_name="us-east-1").put_bucket_lifecycle_configuration(
        Bucket=SAMPLE_BUCKET,
        LifecycleConfiguration={
            "Rules": [
                {"ID": "short", "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 90}}
            ]
        },
    )
    config = check_configuration(LiveTrail(TRAIL, "us-east-1"), Profile.HIPAA)
    assert config.retention is not None
    retention = config.retention.to_dict()
    assert (retention["in_force_days"], retention["required_days"], retention["status"]) == (90, 2190, "FAIL")
    assert retention["clause"] == "HIPAA 45 CFR 164.316(b)(2)(i)"
    assert config.status == "FAIL"


@pytest.mark.parametrize("fmt", ["json", "md", "html"])
def test_a_file_name_that_is_not_utf8_is_shown_escaped_not_a_crash(
    planted: Planted, tmp_path: Path, fmt: str
) -> None:
    copy = tmp_path / "logs"
    shutil.copytree(planted.root, copy)
    day = next(p.parent for p in sorted(copy.rglob("*.json.gz")) if "CloudTrail-Digest" not in p.parts)
    (day / b"bad\xff.json.gz".decode("utf-8", "surrogateescape")).write_bytes(b"not gzip")
    args = ["--folder", str(copy), "--public-keys", str(planted.keys), *WINDOW]
    out = tmp_path / f"audit.{fmt}"
    code, err = run(*args, "-o", str(out), "--format", fmt)
    assert code == 0, err
    # the byte as `\xff` (its backslash escaped again in JSON and Markdown)
    assert re.search(r"bad\\+xff\.json\.gz", out.read_text(encoding="utf-8"))
    verified = CliRunner().invoke(app, ["verify", *args, "-f", "json"])
    assert verified.exit_code == 1, verified.output  # findings: the file is unexpected, among others
    assert "bad\\\\xff.json.gz" in verified.stdout


def test_no_writable_temporary_folder_is_exit_3_and_writes_nothing(
    planted: Planted, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # TMPDIR, /tmp, … and the working folder: none writable
    monkeypatch.setattr(tempfile, "_candidate_tempdir_list", lambda: [str(tmp_path / "gone")])
    monkeypatch.chdir(tmp_path)
    code, err = run(*offline(planted), "-o", str(tmp_path / "audit.json"))
    assert code == 3 and "no folder to keep scratch files in" in err and "Set TMPDIR" in err, err
    assert not (tmp_path / "audit.json").exists()
