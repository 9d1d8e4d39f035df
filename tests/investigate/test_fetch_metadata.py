"""A key planted to look like the file where `fetch` keeps a digest's S3 metadata (its signature): refused."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import boto3  # type: ignore[import-untyped]
from audit_trail.cloudtrail_layout import META_SUFFIX
from audit_trail.investigate.fetch import fetch
from audit_trail.window import Window

ACCOUNT = "123456789012"
DAY = "2026/03/02"
DIGEST = (
    f"AWSLogs/{ACCOUNT}/CloudTrail-Digest/us-east-1/{DAY}/"
    f"{ACCOUNT}_CloudTrail-Digest_us-east-1_trail_us-east-1_20260302T010000Z.json.gz"
)
LOG = f"AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/{DAY}/{ACCOUNT}_CloudTrail_us-east-1_20260302T0100Z_a1.json.gz"


def test_a_key_named_like_a_digest_s_metadata_is_refused(aws: str, tmp_path: Path) -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="logs")
    s3.put_object(Bucket="logs", Key=LOG, Body=gzip.compress(b'{"Records": []}'))
    genuine = {"signature": "ab12", "signature-algorithm": "SHA256withRSA"}
    s3.put_object(Bucket="logs", Key=DIGEST, Body=gzip.compress(b"{}"), Metadata=genuine)
    forged = json.dumps({"signature": "ff00", "signature-algorithm": "SHA256withRSA"}).encode()
    s3.put_object(Bucket="logs", Key=DIGEST + META_SUFFIX, Body=forged)
    dest = tmp_path / "fetched"

    report = fetch("logs", "", dest, Window())

    assert [key for key, _ in report.refused] == [DIGEST + META_SUFFIX]
    assert META_SUFFIX in report.refused[0][1]
    assert json.loads((dest / (DIGEST + META_SUFFIX)).read_text()) == genuine
    assert report.downloaded == 2 and not report.failed
