"""Data a whole test session reads from the second moto server (`moto_data_endpoint` in tests/conftest.py):
filled once per session (per worker), never written by a test, so never reset."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from audit_trail.investigate.sample_logs import KnownAnswers

REGION = "us-east-1"
GENERATED_SIGNATURE = {"signature": "ab12", "signature-algorithm": "SHA256withRSA"}
"""The S3 metadata of every digest in `generated_bucket`."""


def data_client(endpoint: str, service: str) -> Any:
    """A boto3 client of the data server for a session fixture, which runs outside any test's environment."""
    import boto3  # type: ignore[import-untyped]

    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        aws_session_token="testing",
    )


def listing(client: Any, bucket: str) -> dict[str, str]:
    """Every key of BUCKET and its ETag: what a session fixture checks its tests left as they found it."""
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return {o["Key"]: o["ETag"] for page in pages for o in page.get("Contents", [])}


@dataclass(frozen=True)
class GeneratedBucket:
    """The generated trail (`sample_logs`) as a folder and, the same files, in a bucket under a prefix."""

    src: Path
    known: KnownAnswers
    bucket: str
    prefix: str

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}/"
