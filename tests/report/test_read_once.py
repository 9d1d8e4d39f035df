"""A report over a bucket downloads each log object once: verify, the counts, the questions and the hunt all
read one private copy, so what is verified is what is answered, even if an object is replaced meanwhile."""

from __future__ import annotations

import shutil
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import boto3  # type: ignore[import-untyped]
import pytest
from audit_trail.integrity.public_keys import saved_keys
from audit_trail.investigate import spool
from audit_trail.investigate.sample_digests import SAMPLE_BUCKET
from audit_trail.report.evidence import Evidence
from audit_trail.report.gather import Request, gather
from audit_trail.store import S3Store
from moto.s3.responses import S3Response
from support.logs import upload_folder
from support.planted_trail import SINCE, UNTIL, Planted

BUCKET = SAMPLE_BUCKET  # the planted digests name it: signed, they are valid only there


@pytest.fixture
def bucket(aws: str, planted: Planted) -> Any:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    upload_folder(s3, BUCKET, planted.root)
    return s3


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """GetObject requests the (in-process) moto server answers, by key (its backend's `get_object` runs
    more than once per request, so the requests are counted)."""
    counted: Counter[str] = Counter()
    get_object = S3Response.get_object

    def counting(self: S3Response) -> Any:
        counted[unquote(urlsplit(self.path).path).split("/", 2)[2]] += 1  # path style: /bucket/key
        return get_object(self)

    monkeypatch.setattr(S3Response, "get_object", counting)
    return counted


def from_bucket(planted: Planted, progress: Callable[[str], None] | None = None) -> Evidence:
    request = Request(
        store=S3Store(BUCKET),
        keys=saved_keys([str(planted.keys)], "--public-keys"),
        logs=f"s3://{BUCKET}/",
        since=SINCE,
        until=UNTIL,
        sources=[f"s3://{BUCKET}"],
        command_line=["audit-trail", "report", "--bucket", BUCKET],
        tool_version="0.1.0",
    )
    return gather(request, progress)


def log_keys(planted: Planted) -> list[str]:
    return sorted(
        str(p.relative_to(planted.root))
        for p in planted.root.rglob("*.json.gz")
        if "CloudTrail-Digest" not in p.parts
    )


def findings(evidence: Evidence) -> set[tuple[str, str]]:
    return {(f.problem.value, f.key) for f in evidence.verify.findings}


def totals(evidence: Evidence) -> dict[str, int]:
    return {t.anchor: t.total for t in evidence.activity}


def test_each_log_object_is_downloaded_once(
    bucket: Any,
    planted: Planted,
    evidence: Evidence,
    reads: Counter[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    from_s3 = from_bucket(planted)
    keys = log_keys(planted)
    assert keys and {key: reads[key] for key in keys} == dict.fromkeys(keys, 1)
    # and the report is the folder's: the same integrity findings, the same activity
    assert findings(from_s3) == findings(evidence) and ("log modified", planted.modified_log) in findings(
        from_s3
    )
    assert totals(from_s3) == totals(evidence)
    assert from_s3.charts == evidence.charts
    assert not list(tmp_path.iterdir()), "copies left behind"


def test_an_object_replaced_during_the_report_is_not_seen(
    bucket: Any, planted: Planted, evidence: Evidence
) -> None:
    """Every step answers from the bytes downloaded first: an intruder replacing the logs after they were
    verified cannot make the questions read other records (nor the questions see what verify did not)."""

    def replace_all(step: str) -> None:
        if step.startswith("verifying"):
            for key in log_keys(planted):
                bucket.put_object(Bucket=BUCKET, Key=key, Body=b"not gzip")

    from_s3 = from_bucket(planted, replace_all)
    assert findings(from_s3) == findings(evidence)
    assert totals(from_s3) == totals(evidence)
    assert not any("not gzip" in note for note in from_s3.scan_notes), from_s3.scan_notes


def test_copies_that_cannot_be_written_are_read_from_s3_with_a_note(
    bucket: Any, planted: Planted, evidence: Evidence, reads: Counter[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def full_disk(path: Any, mode: str = "r", *args: Any, **kw: Any) -> Any:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(spool, "open", full_disk, raising=False)
    from_s3 = from_bucket(planted)
    keys = log_keys(planted)
    assert from_s3.scan_notes[0].startswith(f"the {len(keys)} log files from S3 were read at every step")
    assert "No space left on device" in from_s3.scan_notes[0]
    assert all(reads[key] > 1 for key in keys)  # read by each step, as without copies
    assert findings(from_s3) == findings(evidence)
    assert totals(from_s3) == totals(evidence)


def test_a_disk_filled_partway_keeps_no_copy_for_the_steps(
    bucket: Any, planted: Planted, evidence: Evidence, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The copies written before the disk filled would leave the steps no room for their scratch files:
    they are all removed before the first step, and every file is read from S3."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    written = 0
    real_open = open

    def fills_up(path: Any, mode: str = "r", *args: Any, **kw: Any) -> Any:
        nonlocal written
        written += 1
        if written > 5:
            raise OSError(28, "No space left on device")
        return real_open(path, mode, *args, **kw)

    monkeypatch.setattr(spool, "open", fills_up, raising=False)
    left: list[list[Path]] = []
    from_s3 = from_bucket(planted, lambda step: left.append(list(tmp_path.glob("audit-trail-copies-*/*"))))
    assert left and not any(left), left
    assert from_s3.scan_notes[0].startswith(f"the {len(log_keys(planted))} log files from S3 were read")
    assert findings(from_s3) == findings(evidence) and totals(from_s3) == totals(evidence)


def test_no_copy_is_made_without_twice_its_size_free(
    bucket: Any, planted: Planted, evidence: Evidence, reads: Counter[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Copies that fill the disk would fail the steps' scratch files, which share it: with less than twice
    the copies' size free, none is made."""
    need = sum((planted.root / key).stat().st_size for key in log_keys(planted))
    real_usage = shutil.disk_usage
    monkeypatch.setattr(spool.shutil, "disk_usage", lambda path: real_usage(path)._replace(free=2 * need - 1))
    from_s3 = from_bucket(planted)
    keys = log_keys(planted)
    assert from_s3.scan_notes[0].startswith(f"the {len(keys)} log files from S3 were read at every step")
    assert "the copies would take" in from_s3.scan_notes[0]
    assert all(reads[key] > 1 for key in keys)
    assert findings(from_s3) == findings(evidence) and totals(from_s3) == totals(evidence)
