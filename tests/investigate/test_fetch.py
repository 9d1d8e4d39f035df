"""s3:// sources and `fetch`, against moto in server mode on 127.0.0.1: the generated trail in the session's
read-only bucket (`generated_bucket`, read through `aws_data`); a test that writes has its own (`aws`)."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

import boto3  # type: ignore[import-untyped]
import pytest
from audit_trail.errors import CannotRunError, UserError
from audit_trail.investigate.fetch import fetch, local_path
from audit_trail.investigate.local import answer
from audit_trail.investigate.sample_logs import KnownAnswers
from audit_trail.investigate.sources import list_log_files
from audit_trail.queries import questions as q
from audit_trail.window import Window
from support.logs import report_of, upload_folder, write_generated
from support.moto_data import GENERATED_SIGNATURE, GeneratedBucket

BUCKET = "trail-logs"
PREFIX = "org/trail"


@pytest.fixture
def bucket(aws_data: str, generated_bucket: GeneratedBucket) -> tuple[Path, KnownAnswers]:
    """The generated trail as a folder and, under PREFIX, in BUCKET: read, never written."""
    assert (generated_bucket.bucket, generated_bucket.prefix) == (BUCKET, PREFIX)
    return generated_bucket.src, generated_bucket.known


def upload_logs(bucket: str, root: Path) -> int:
    """A generated trail's log files (not its digests) into BUCKET, a test's own; how many."""
    logs = [p for p in root.rglob("*.json.gz") if "CloudTrail" in p.parts]
    upload_folder(boto3.client("s3"), bucket, root, files=logs)
    return len(logs)


def test_s3_source_answers_like_the_local_folder(bucket) -> None:
    src, known = bucket
    question = q.activity("mallory")
    remote = answer(f"s3://{BUCKET}/{PREFIX}/", question, Window())
    assert remote.rows == answer(str(src), question, Window()).rows
    assert sum(r["events"] for r in remote.rows) == len(known.intruder_events)
    assert report_of(remote).files_listed == known.log_files


def test_s3_source_from_the_stack_logs_location(bucket) -> None:
    """`logsLocation` (s3://bucket/prefix/AWSLogs/<account>/) works as a source as it is."""
    _, known = bucket
    result = answer(f"s3://{BUCKET}/{PREFIX}/AWSLogs/123456789012/", q.root_usage(), Window())
    assert {r["event_id"] for r in result.rows} == known.root_events


def test_s3_listing_reads_only_the_windows_prefixes(bucket) -> None:
    window = Window(since=datetime(2026, 3, 3, tzinfo=UTC), until=datetime(2026, 3, 3, 6, tzinfo=UTC))
    files = list_log_files(f"s3://{BUCKET}/{PREFIX}", window, client=boto3.client("s3"))
    assert files and {f.day.isoformat() for f in files if f.day} <= {"2026-03-03", "2026-03-04"}


def test_fetch_mirrors_the_layout_with_digest_signatures_and_resumes(bucket, tmp_path: Path) -> None:
    src, known = bucket
    dest = tmp_path / "fetched"
    first = fetch(BUCKET, PREFIX, dest, Window())
    digests = list(src.rglob("CloudTrail-Digest/**/*.json.gz"))
    assert (first.downloaded, first.skipped, first.failed) == (known.log_files + len(digests), 0, [])
    for path in src.rglob("*.json.gz"):
        copy = dest / path.relative_to(src)
        assert copy.read_bytes() == path.read_bytes()
    meta = json.loads(next(dest.rglob("*.meta.json")).read_text())
    assert meta == GENERATED_SIGNATURE
    assert not list(dest.rglob("*.part"))
    # The copy answers the same questions.
    assert (
        answer(str(dest), q.activity("mallory"), Window()).rows
        == answer(str(src), q.activity("mallory"), Window()).rows
    )
    # A second run downloads nothing; a damaged file (size differs) is fetched again.
    victim = next(dest.rglob("CloudTrail/**/*.json.gz"))
    victim.write_bytes(b"partial")
    again = fetch(BUCKET, PREFIX, dest, Window())
    assert (again.downloaded, again.skipped) == (1, first.downloaded - 1)


def test_fetch_reads_only_the_window(bucket, tmp_path: Path) -> None:
    window = Window(
        since=datetime(2026, 3, 2, tzinfo=UTC),
        until=datetime(2026, 3, 2, 12, tzinfo=UTC),
        regions=frozenset({"eu-west-1"}),
    )
    dest = tmp_path / "fetched"
    report = fetch(BUCKET, PREFIX, dest, window)
    regions = {p.parts[-5] for p in dest.rglob("*.json.gz")}
    days = {"/".join(p.parts[-4:-1]) for p in dest.rglob("*.json.gz")}
    assert report.downloaded > 0 and regions == {"eu-west-1"} and days <= {"2026/03/02", "2026/03/03"}


def test_fetch_refuses_keys_that_escape_the_folder(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="cannot be mirrored safely"):
        local_path(tmp_path, "AWSLogs/../../etc/passwd")


def test_planted_keys_are_skipped_and_named_the_rest_fetched(aws: str, tmp_path: Path) -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="planted")
    write_generated(tmp_path / "src", events=60, days=1, prefix=PREFIX)
    logs = upload_logs("planted", tmp_path / "src")
    trail = f"{PREFIX}/AWSLogs/123456789012/CloudTrail"
    day = f"{trail}/eu-west-1/2026/03/02"
    body = gzip.compress(b'{"Records": []}')
    # `..` as a region folder: listed like one, and it would escape the destination.
    for key in (f"{trail}/../2026/03/02/evil.json.gz", f"{trail}/./2026/03/02/dot.json.gz"):
        s3.put_object(Bucket="planted", Key=key, Body=body)
    s3.put_object(Bucket="planted", Key=f"{day}/Case.json.gz", Body=body)
    s3.put_object(Bucket="planted", Key=f"{day}/case.json.gz", Body=body)
    dest = tmp_path / "fetched"
    report = fetch("planted", PREFIX, dest, Window())
    refused = dict(report.refused)
    assert any(k.endswith("/../2026/03/02/evil.json.gz") for k in refused)
    assert any("would overwrite" in why for why in refused.values())  # one of Case/case, on any file system
    assert report.downloaded > 10 and not report.failed
    assert report.downloaded >= logs  # every log file CloudTrail wrote
    assert not (tmp_path / "evil.json.gz").exists() and not list(tmp_path.rglob("evil.json.gz"))


def test_a_wrong_prefix_says_where_the_logs_are(bucket, tmp_path: Path) -> None:
    with pytest.raises(
        CannotRunError, match=r"s3://trail-logs/wrong: no CloudTrail logs.*--prefix org/trail"
    ):
        fetch(BUCKET, "wrong", tmp_path / "f", Window())


def test_prefixes_that_look_like_the_layout(aws: str, tmp_path: Path) -> None:
    """`s3KeyPrefix` values `plan` accepts that contain `AWSLogs` or an account id still fetch their logs."""
    boto3.client("s3").create_bucket(Bucket="tricky")
    for prefix in ("AWSLogs", "x/AWSLogs/123456789012"):
        src = tmp_path / prefix.replace("/", "_")
        write_generated(src, events=60, days=1, prefix=prefix)
        upload_logs("tricky", src)
        report = fetch("tricky", prefix, tmp_path / f"out-{prefix.replace('/', '_')}", Window())
        assert report.downloaded > 0 and not report.failed, prefix
        result = answer(f"s3://tricky/{prefix}", q.events(), Window())
        assert len(result.rows) > 60, prefix


def test_an_unwritable_destination_is_one_error(bucket, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(CannotRunError, match="cannot write there"):
        fetch(BUCKET, PREFIX, blocker / "logs", Window())
