"""s3:// sources and `fetch`, against moto in server mode on 127.0.0.1 (the `aws` fixture)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import boto3  # type: ignore[import-untyped]
import pytest
from audit_trail.errors import UserError
from audit_trail.investigate.fetch import fetch, local_path
from audit_trail.investigate.local import answer
from audit_trail.investigate.sample_logs import KnownAnswers
from audit_trail.investigate.sources import list_log_files
from audit_trail.queries import questions as q
from audit_trail.window import Window
from support.logs import report_of, upload_folder, write_generated

BUCKET = "trail-logs"
PREFIX = "org/trail"
SIGNATURE = {"signature": "ab12", "signature-algorithm": "SHA256withRSA"}


@pytest.fixture
def bucket(aws: str, tmp_path: Path) -> tuple[Path, KnownAnswers]:
    """The generated trail uploaded under PREFIX; digests carry signature metadata as CloudTrail writes it."""
    src = tmp_path / "src"
    known = write_generated(src, events=300, days=2, files_per_day=3, prefix=PREFIX)
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    upload_folder(s3, BUCKET, src, SIGNATURE)
    return src, known


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
    assert meta == SIGNATURE
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
