"""What an attacker who can write the bucket (or the fetched folder) plants for `verify`: names, shapes, links
and files meant to crash it, hang it, exhaust its memory or make it read elsewhere: each is a finding."""

from __future__ import annotations

import gzip
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3  # type: ignore[import-untyped]
import pytest
from audit_trail.integrity import digests as digest_module
from audit_trail.integrity.public_keys import saved_keys
from audit_trail.integrity.verify import Problem, VerifyReport, verify_logs
from audit_trail.store import FolderStore, S3Store
from support.digest_factory import (
    ACCOUNT,
    BUCKET,
    Obj,
    Signer,
    build_chain,
    new_signer,
    read_fields,
    sign_digest,
    write_folder,
    write_s3,
)

START = datetime(2026, 11, 24, 0, 0, tzinfo=UTC)
UNTIL = START + timedelta(hours=4)
LATER = UNTIL + timedelta(days=1)


@pytest.fixture(scope="module")
def signer() -> Signer:
    return new_signer()


@pytest.fixture
def trail(tmp_path: Path, signer: Signer) -> tuple[Path, list[Obj], list[Obj]]:
    digests, logs = build_chain(signer, START, 4)
    root = tmp_path / "fetched"
    write_folder(root, digests + logs)
    (tmp_path / "keys-us-east-1.json").write_text(json.dumps(signer.list_public_keys_json()))
    return root, digests, logs


class SpyStore(FolderStore):
    """A folder store that records every key it was asked to read."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.read: list[str] = []

    def get(self, key: str, bucket: str | None = None, *, limit: int = 1 << 20) -> Any:
        self.read.append(key)
        return super().get(key, bucket, limit=limit)


def run(root: Path, store: Any = None) -> VerifyReport:
    keys = saved_keys([str(root.parent / "keys-us-east-1.json")], "--public-keys")
    return verify_logs(store or FolderStore(root), keys, START, UNTIL, now=LATER)


def found(report: VerifyReport) -> set[tuple[Problem, str]]:
    return {(f.problem, f.key.rsplit("/", 1)[-1]) for f in report.findings}


def name(obj: Obj) -> str:
    return obj.key.rsplit("/", 1)[-1]


def _rewrite(root: Path, digest: Obj, change: Any, signer: Signer | None) -> None:
    """Change a digest's fields; sign it again with SIGNER, or leave its old signature (now wrong)."""
    fields = read_fields(root / digest.key)
    change(fields)
    if signer is None:
        (root / digest.key).write_bytes(gzip.compress(json.dumps(fields).encode()))
    else:
        body, metadata = sign_digest(fields, signer)
        (root / digest.key).write_bytes(body)
        (root / (digest.key + ".meta.json")).write_text(json.dumps(metadata))


def test_impossible_dates_in_names_are_unexpected_files(trail):
    root, digests, logs = trail
    digest_day = (root / digests[0].key).parent
    log_day = (root / logs[0].key).parent
    bad_digest = f"{ACCOUNT}_CloudTrail-Digest_us-east-1_t_us-east-1_20261199T000000Z.json.gz"
    bad_log = f"{ACCOUNT}_CloudTrail_us-east-1_20261124T2599Z_x.json.gz"
    other_region = f"{ACCOUNT}_CloudTrail-Digest_eu-west-1_t_us-east-1_20261124T020000Z.json.gz"
    for folder, file in ((digest_day, bad_digest), (log_day, bad_log), (digest_day, other_region)):
        (folder / file).write_bytes(b"\x1f\x8b planted")
    report = run(root)
    assert found(report) == {
        (Problem.UNEXPECTED, bad_digest),
        (Problem.UNEXPECTED, bad_log),
        (Problem.UNEXPECTED, other_region),
    }


@pytest.mark.parametrize(
    ("log_files", "why"),
    [
        ("oops", "logFiles is str, not a list"),
        ([1], "logFiles[0] is not a log file entry"),
        ([{"s3Object": ["x"], "s3Bucket": BUCKET, "hashValue": "0"}], "logFiles[0] is not a log file entry"),
    ],
)
def test_digests_of_the_wrong_shape_are_invalid_not_a_crash(trail, log_files, why):
    root, digests, _ = trail
    _rewrite(root, digests[1], lambda f: f.update(logFiles=log_files), signer=None)
    report = run(root)
    (invalid,) = [f for f in report.findings if f.problem is Problem.DIGEST_INVALID]
    assert invalid.key == digests[1].key and why in invalid.detail
    assert {p for p, _ in found(report)} == {Problem.DIGEST_INVALID, Problem.UNDIGESTED}


@pytest.mark.parametrize(
    "content",
    [b"[]", b'{"digestEndTime": 5, "digestS3Object": "k"}', b'{"digestStartTime": "2026-11-24T02:00:00Z"}'],
    ids=["a list", "numbers", "fields missing"],
)
def test_json_that_is_no_digest_is_invalid(trail, content):
    root, digests, _ = trail
    (root / digests[2].key).write_bytes(gzip.compress(content))
    report = run(root)
    assert (Problem.DIGEST_INVALID, name(digests[2])) in found(report)


@pytest.mark.parametrize(
    "target",
    ["/dev/zero", "/etc/hostname", "../../../../../../etc/hostname", "fifo", "huge"],
)
def test_an_unsigned_digest_steers_no_read(trail, target, tmp_path):
    """`previousDigestS3Object` of a digest whose signature does not verify is never followed."""
    root, digests, _ = trail
    if target == "fifo":
        os.mkfifo(root / "fifo")
    if target == "huge":
        with (root / "huge").open("wb") as f:
            f.truncate(1 << 34)  # sparse: 16 GiB that takes no disk
    _rewrite(root, digests[2], lambda f: f.update(previousDigestS3Object=target), signer=None)
    store = SpyStore(root)
    report = run(root, store)
    assert (Problem.BAD_SIGNATURE, name(digests[2])) in found(report)
    assert target not in store.read
    assert all(key.startswith("AWSLogs/") for key in store.read)


def test_a_signed_digest_is_followed_only_inside_the_trails_digest_folder(trail, signer):
    """Even a validly signed digest (the worst case) cannot make verify read outside the digest folder."""
    root, digests, _ = trail
    elsewhere = f"AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/2026/11/24/{name(digests[1])}"
    _rewrite(root, digests[2], lambda f: f.update(previousDigestS3Object=elsewhere), signer)
    store = SpyStore(root)
    report = run(root, store)
    (outside,) = [f for f in report.findings if "outside the trail's digest folder" in f.detail]
    assert (outside.problem, outside.key) == (Problem.CHAIN_BROKEN, digests[2].key)
    assert elsewhere not in store.read


def test_log_files_that_are_links_out_fifos_or_huge_are_not_read(trail, monkeypatch):
    root, _, logs = trail
    (root / logs[0].key).unlink()
    (root / logs[0].key).symlink_to("/etc/hostname")
    (root / logs[1].key).unlink()
    os.mkfifo(root / logs[1].key)
    with (root / logs[2].key).open("wb") as f:
        f.truncate(digest_module.MAX_LOG_READ_BYTES + 1)
    # A gzip bomb: small compressed, large inflated (the bound is lowered so the test stays fast).
    monkeypatch.setattr(digest_module, "MAX_LOG_INFLATED_BYTES", 1 << 20)
    (root / logs[3].key).write_bytes(gzip.compress(b"\0" * (2 << 20)))
    report = run(root)
    assert found(report) == {
        (Problem.LOG_DELETED, name(logs[0])),
        (Problem.LOG_DELETED, name(logs[1])),
        (Problem.LOG_MODIFIED, name(logs[2])),
        (Problem.LOG_MODIFIED, name(logs[3])),
    }
    details = {f.key: f.detail for f in report.findings}
    assert "larger than the 64 MiB verify reads" in details[logs[2].key]
    assert "inflates to more than 1 MiB" in details[logs[3].key]


def test_an_oversized_digest_is_invalid_not_read_whole(trail):
    root, digests, _ = trail
    with (root / digests[1].key).open("wb") as f:
        f.truncate(digest_module.MAX_DIGEST_BYTES + 1)
    report = run(root)
    (invalid,) = [f for f in report.findings if f.problem is Problem.DIGEST_INVALID]
    assert "larger than 32 MiB" in invalid.detail


def test_in_s3_a_digest_never_makes_verify_read_another_bucket(aws, signer):
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.create_bucket(Bucket="attacker-bucket")
    s3.put_object(Bucket="attacker-bucket", Key="big-object", Body=b"x" * 1000)
    digests, logs = build_chain(signer, START, 4)
    write_s3(s3, BUCKET, digests + logs)
    # One digest unsigned (its signature replaced), one signed with the real key: both point away.
    for digest, sign in ((digests[1], False), (digests[3], True)):
        fields = json.loads(gzip.decompress(digest.body))
        fields.update(previousDigestS3Bucket="attacker-bucket", previousDigestS3Object="big-object")
        body, metadata = sign_digest(fields, signer)
        s3.put_object(
            Bucket=BUCKET, Key=digest.key, Body=body, Metadata=metadata if sign else digest.metadata
        )
    asked: list[tuple[str, str]] = []
    s3.meta.events.register(
        "before-parameter-build.s3.GetObject",
        lambda params, **_: asked.append((params["Bucket"], params["Key"])),
    )
    keys = {signer.fingerprint: next(iter(saved_keys_for(signer).values()))}
    report = verify_logs(S3Store(BUCKET, s3), lambda *a: keys, START, UNTIL, now=LATER)
    assert {bucket for bucket, _ in asked} == {BUCKET}
    problems = {(f.problem, f.key) for f in report.findings}
    assert (Problem.BAD_SIGNATURE, digests[1].key) in problems
    assert (Problem.CHAIN_BROKEN, digests[3].key) in problems


def saved_keys_for(signer: Signer) -> dict[str, Any]:
    from audit_trail.integrity.public_keys import keys_from_list

    return keys_from_list(signer.list_public_keys_json()["PublicKeyList"])


def test_files_filed_under_another_day_are_unexpected(trail):
    """A planted file named for a time outside the window, in a folder of the window, is still seen."""
    root, digests, logs = trail
    day = (root / logs[0].key).parent
    old_log = f"{ACCOUNT}_CloudTrail_us-east-1_20200101T0000Z_old.json.gz"
    old_digest = f"{ACCOUNT}_CloudTrail-Digest_us-east-1_t_us-east-1_20200101T000000Z.json.gz"
    (day / old_log).write_bytes((root / logs[0].key).read_bytes())
    ((root / digests[0].key).parent / old_digest).write_bytes((root / digests[0].key).read_bytes())
    report = run(root)
    assert found(report) == {(Problem.UNEXPECTED, old_log), (Problem.UNEXPECTED, old_digest)}
    assert {f.detail for f in report.findings} == {
        "named for 2020-01-01T00:00:00Z, filed under 2026/11/24",
        "a digest ending 2020-01-01T00:00:00Z, filed under 2026/11/24",
    }
