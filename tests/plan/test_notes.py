"""What `audit-trail plan` adds for the hardening options: policies others must apply, replacement warnings,
and the hardened prod stack."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from audit_trail.cli.app import app
from audit_trail.plan.notes import notes_for_config
from support.paths import PROJECT_DIR
from typer.testing import CliRunner

ACCOUNT = "123456789012"
EXISTING_KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
runner = CliRunner()


def plan_output(*options: str) -> str:
    args = ["plan", "--cwd", str(PROJECT_DIR)]
    for option in options:
        args += ["--set", option if ":" in option.split("=")[0] else f"audit-trail:{option}"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())  # the console wraps long lines


def test_existing_key_plan_prints_the_statements_the_key_needs() -> None:
    out = plan_output("kmsEncryption=true", f"kmsKeyArn={EXISTING_KEY}", "cloudWatchLogs=true")
    assert f"Existing KMS key: The stack does not change the policy of {EXISTING_KEY}" in out
    for sid in (
        "AllowCloudTrailEncryptLogs",
        "AllowCloudTrailDescribeKey",
        "AllowAccountPrincipalsDecryptLogs",
    ):
        assert f'"Sid": "{sid}"' in out
    assert '"Sid": "AllowCloudWatchLogsEncryptTrailLogGroup"' in out
    # The log group is created with the key before the trail: say that `pulumi up` stops there.
    assert "`pulumi up` fails at the log group" in out
    assert "InsufficientEncryptionPolicyException" in out


def test_existing_key_without_cloudwatch_logs_asks_for_no_log_group_statement() -> None:
    (note,) = notes_for_config({"audit-trail:kmsEncryption": "true", "audit-trail:kmsKeyArn": EXISTING_KEY})
    assert note.document is not None
    sids = [s["Sid"] for s in note.document["Statement"]]
    assert "AllowCloudWatchLogsEncryptTrailLogGroup" not in sids
    assert "log group" not in note.text


def test_an_existing_key_for_a_central_bucket_must_also_let_the_buckets_owner_decrypt() -> None:
    config = {
        "audit-trail:centralBucketName": "org-log-archive",
        "audit-trail:kmsEncryption": "true",
        "audit-trail:kmsKeyArn": EXISTING_KEY,
    }
    key = next(note for note in notes_for_config(config) if note.title == "Existing KMS key")
    assert "The account owning org-log-archive reads the logs too" in key.text
    assert '"Enable cross account log decryption"' in key.text


def test_central_bucket_plan_prints_the_bucket_policy_with_the_organization_path() -> None:
    config = {
        "aws:region": "eu-central-1",
        "audit-trail:centralBucketName": "org-log-archive",
        "audit-trail:isOrganizationTrail": "true",
        "audit-trail:organizationId": "o-a1b2c3d4e5",
        "audit-trail:s3KeyPrefix": "trails",
    }
    notes = {note.title: note for note in notes_for_config(config)}
    assert set(notes) == {"Central log bucket", "Organization trail"}
    policy = notes["Central log bucket"].document
    assert policy is not None
    writes = [s["Resource"] for s in policy["Statement"] if s["Action"] == "s3:PutObject"]
    assert writes == [
        f"arn:aws:s3:::org-log-archive/trails/AWSLogs/{ACCOUNT}/*",
        "arn:aws:s3:::org-log-archive/trails/AWSLogs/o-a1b2c3d4e5/*",
    ]
    trail_arn = f"arn:aws:cloudtrail:eu-central-1:{ACCOUNT}:trail/account-activity-trail"
    assert all(s["Condition"]["StringEquals"]["aws:SourceArn"] == trail_arn for s in policy["Statement"][:3])
    assert "management account" in notes["Organization trail"].text

    out = plan_output(*(f"{k}={v}" for k, v in config.items()))
    assert "Central log bucket: The stack does not manage bucket org-log-archive" in out
    assert '"Sid": "AWSCloudTrailWriteOrganization"' in out


def test_object_lock_note_says_the_bucket_is_kept_and_how_to_check_delivery() -> None:
    out = " ".join(plan_output("objectLockMode=GOVERNANCE").split())
    assert "Object lock: New log files are locked in GOVERNANCE mode for 90 days" in out
    assert "the bucket is not replaced" in out
    assert "Content-MD5" in out and "audit-trail doctor" in out


def test_no_notes_for_the_default_stack() -> None:
    assert notes_for_config({"aws:region": "us-east-1"}) == []


def test_prod_stack_is_a_realistic_hardened_stack(tmp_path: Path) -> None:
    out = tmp_path / "prod.json"
    result = runner.invoke(app, ["plan", "--cwd", str(PROJECT_DIR), "--stack", "prod", "--json", str(out)])
    assert result.exit_code == 0, result.output
    doc: dict[str, Any] = json.loads(out.read_text())
    types = Counter(r["type"].removeprefix("aws:") for r in doc["resources"])
    assert (
        types["cloudwatch/metricAlarm:MetricAlarm"]
        == types["cloudwatch/logMetricFilter:LogMetricFilter"]
        == 15
    )
    assert types["kms/key:Key"] == 2  # the key of the logs, and the alarm topic's own
    for expected in (
        "s3/bucketLogging:BucketLogging",
        "s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
    ):
        assert types[expected] == 1, expected
    trail = next(r for r in doc["resources"] if r["type"] == "aws:cloudtrail/trail:Trail")["inputs"]
    assert trail["kmsKeyId"].startswith(f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/")
    assert trail["insightSelectors"] == [
        {"insightType": "ApiCallRateInsight"},
        {"insightType": "ApiErrorRateInsight"},
    ]
    s3_selector = trail["advancedEventSelectors"][1]["fieldSelectors"]
    assert {"equals": ["false"], "field": "readOnly"} in s3_selector
    lifecycle = next(r for r in doc["resources"] if r["name"] == "audit-trail-lifecycle")
    assert lifecycle["inputs"]["rules"][0]["expiration"] == {"days": 365}
    assert "the bucket is not replaced" in " ".join(result.output.split())


def test_s3_data_events_note_says_which_writes_stay_unrecorded_and_what_shows_them() -> None:
    (note,) = notes_for_config({"audit-trail:s3DataEvents": "WriteOnly"})
    assert "reads, deletes and copies are recorded" in note.text
    assert "PutObject on it is not" in note.text and "RecursiveLogging" in note.text
    assert "versioning keeps the original" in note.text and "audit-trail verify" in note.text


def test_athena_note_tells_an_upgraded_stack_how_to_keep_its_names() -> None:
    (note,) = notes_for_config({"audit-trail:athena": "true"})
    assert "`athenaDatabase: audit_trail`" in note.text and "`athenaWorkgroup: audit-trail`" in note.text
    kept = {
        "audit-trail:athena": "true",
        "audit-trail:athenaDatabase": "a",
        "audit-trail:athenaWorkgroup": "b",
    }
    assert notes_for_config(kept) == []


def test_network_activity_note_names_the_sources() -> None:
    config = {
        "audit-trail:networkActivityEvents": '["kms.amazonaws.com"]',
        "audit-trail:networkActivityDeniedOnly": "true",
    }
    (note,) = notes_for_config(config)
    assert "denied calls (VpceAccessDenied)" in note.text and "kms.amazonaws.com" in note.text
