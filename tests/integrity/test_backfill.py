"""Backfill digests (`..._backfill.json.gz`): CloudTrail delivers one when processing delays kept log files
out of the hour's original digest (AWS, "CloudTrail digest file structure"). It is signed like any digest,
with the region's key at the time it was generated (S3 metadata `backfill-generation-timestamp`), and links
to the backfill digest before it; it lists log files, it does not stand in for the hour's own digest."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3  # type: ignore[import-untyped]
import pytest
from audit_trail.integrity.public_keys import saved_keys
from audit_trail.integrity.verify import Problem, VerifyReport, verify_logs
from audit_trail.store import FolderStore
from support.digest_factory import (
    BUCKET,
    Obj,
    Signer,
    backfill_digest,
    build_chain,
    log_file,
    new_signer,
    write_folder,
    write_s3,
)

START = datetime(2026, 11, 24, 0, 0, tzinfo=UTC)
UNTIL = START + timedelta(hours=4)
LATER = UNTIL + timedelta(days=1)
GENERATED = START + timedelta(hours=6)


@pytest.fixture(scope="module")
def signer() -> Signer:
    return new_signer()


@pytest.fixture(scope="module")
def attacker() -> Signer:
    return new_signer()


def late_log(minute: int) -> tuple[Obj, tuple[str, bytes, datetime]]:
    """A log file delivered in hour 1 that the hour's digest does not list."""
    t = START + timedelta(hours=1, minutes=minute)
    key, content = log_file("111122223333", "us-east-1", t, f"late{minute}")
    return Obj(key, gzip.compress(content)), (key, content, t)


@pytest.fixture
def trail(tmp_path: Path, signer: Signer) -> tuple[Path, list[Obj], Obj, tuple[str, bytes, datetime]]:
    digests, logs = build_chain(signer, START, 4)
    late, listed = late_log(50)
    root = tmp_path / "fetched"
    write_folder(root, [*digests, *logs, late])
    (tmp_path / "keys-us-east-1.json").write_text(json.dumps(signer.list_public_keys_json()))
    return root, digests, late, listed


def run(root: Path) -> VerifyReport:
    keys = saved_keys([str(root.parent / "keys-us-east-1.json")], "--public-keys")
    return verify_logs(FolderStore(root), keys, START, UNTIL, now=LATER)


def test_a_backfill_digest_proves_the_log_files_it_lists(trail, signer):
    root, _, late, listed = trail
    without = run(root)
    assert {(f.problem, f.key) for f in without.findings} == {(Problem.UNEXPECTED, late.key)}
    backfill = backfill_digest(signer, START + timedelta(hours=2), [listed], GENERATED)
    write_folder(root, [backfill])
    report = run(root)
    assert report.ok, report.findings
    (region,) = report.regions
    assert (region.backfill, region.digests, region.log_files, region.log_files_valid) == (1, 4, 9, 9)
    assert "(1 backfill)" in report.summary()


def test_a_forged_backfill_digest_proves_nothing(trail, attacker):
    root, _, late, listed = trail
    write_folder(root, [backfill_digest(attacker, START + timedelta(hours=2), [listed], GENERATED)])
    report = run(root)
    problems = {(f.problem, f.key.rsplit("/", 1)[-1]) for f in report.findings}
    assert {p for p, _ in problems} == {Problem.BAD_SIGNATURE, Problem.UNEXPECTED}
    assert (Problem.UNEXPECTED, late.key.rsplit("/", 1)[-1]) in problems
    bad = next(f for f in report.findings if f.problem is Problem.BAD_SIGNATURE)
    assert bad.key.endswith("_backfill.json.gz")


def test_a_backfill_digest_without_its_generation_time_is_invalid(trail, signer):
    root, _, _, listed = trail
    backfill = backfill_digest(signer, START + timedelta(hours=2), [listed], GENERATED)
    del backfill.metadata["backfill-generation-timestamp"]
    write_folder(root, [backfill])
    report = run(root)
    invalid = next(f for f in report.findings if f.problem is Problem.DIGEST_INVALID)
    assert "backfill-generation-timestamp" in invalid.detail


def test_a_backfill_digest_is_checked_against_the_key_valid_when_it_was_generated(trail, signer):
    root, _, _, listed = trail
    # The key was valid for the hour's digests but had expired when the backfill digest was generated.
    expired = signer.list_public_keys_json(START - timedelta(days=30), START + timedelta(hours=5))
    (root.parent / "keys-us-east-1.json").write_text(json.dumps(expired))
    write_folder(root, [backfill_digest(signer, START + timedelta(hours=2), [listed], GENERATED)])
    report = run(root)
    bad = next(f for f in report.findings if f.problem is Problem.BAD_SIGNATURE)
    assert "not at 2026-11-24T06:00:00Z when this digest was signed" in bad.detail


def test_backfill_digests_chain_to_each_other(trail, signer):
    root, _, _, listed = trail
    other, listed_other = late_log(55)
    first = backfill_digest(signer, START + timedelta(hours=2), [listed], GENERATED)
    second = backfill_digest(
        signer, START + timedelta(hours=3), [listed_other], GENERATED + timedelta(hours=1), previous=first
    )
    write_folder(root, [other, first, second])
    assert run(root).ok
    (root / first.key).unlink()
    report = run(root)
    assert (Problem.DIGEST_MISSING, first.key) in {(f.problem, f.key) for f in report.findings}


def test_a_backfill_digest_does_not_stand_in_for_the_hours_own(trail, signer):
    root, digests, _, listed = trail
    write_folder(root, [backfill_digest(signer, START + timedelta(hours=2), [listed], GENERATED)])
    (root / digests[1].key).unlink()
    report = run(root)
    assert (Problem.DIGEST_MISSING, digests[1].key) in {(f.problem, f.key) for f in report.findings}


def test_fetch_keeps_what_verifies_a_backfill_digest_offline(aws, trail, signer, tmp_path):
    from audit_trail.investigate.fetch import fetch
    from audit_trail.window import Window

    root, digests, _, listed = trail
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    logs = [Obj(str(p.relative_to(root)), p.read_bytes()) for p in root.rglob("CloudTrail/**/*.json.gz")]
    backfill = backfill_digest(signer, START + timedelta(hours=2), [listed], GENERATED)
    write_s3(s3, BUCKET, [*digests, *logs, backfill])
    evidence = tmp_path / "evidence"
    assert fetch(BUCKET, "", evidence, Window(START, UNTIL), client=s3).failed == []
    keys = saved_keys([str(root.parent / "keys-us-east-1.json")], "--public-keys")
    report = verify_logs(FolderStore(evidence), keys, START, UNTIL, now=LATER)
    assert report.ok, report.findings
    assert report.regions[0].backfill == 1
