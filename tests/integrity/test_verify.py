"""`verify` on a fetched folder: a clean chain passes; every kind of tampering is detected and named."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from audit_trail.errors import CannotRunError, UserError
from audit_trail.integrity.continuity import Coverage
from audit_trail.integrity.digests import load_public_key, signature_valid, string_to_sign
from audit_trail.integrity.public_keys import saved_keys
from audit_trail.integrity.sources import open_source
from audit_trail.integrity.verify import Problem, VerifyReport, verify_logs
from audit_trail.store import FolderStore
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from support.digest_factory import (
    ACCOUNT,
    Obj,
    Signer,
    build_chain,
    new_signer,
    read_fields,
    sign_digest,
    write_folder,
)

# The chain crosses midnight: digests end 22:00 .. 03:00, filed under two day folders.
START = datetime(2026, 11, 20, 21, 0, tzinfo=UTC)
SINCE = datetime(2026, 11, 20, 21, 0, tzinfo=UTC)
UNTIL = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)
LATER = UNTIL + timedelta(days=2)
HOURS = 6


@pytest.fixture(scope="session")
def signer() -> Signer:
    return new_signer()


@pytest.fixture(scope="session")
def attacker() -> Signer:
    return new_signer()


@pytest.fixture
def trail(tmp_path: Path, signer: Signer) -> tuple[Path, list[Obj], list[Obj]]:
    """A fetched folder: one region's chain of 6 digests (hour 3 had no activity) and their log files."""
    digests, logs = build_chain(signer, START, HOURS, empty_hours=frozenset({3}))
    root = tmp_path / "fetched"
    write_folder(root, digests + logs)
    (tmp_path / "keys-us-east-1.json").write_text(json.dumps(signer.list_public_keys_json()))
    return root, digests, logs


def run(
    root: Path,
    signer: Signer | None = None,
    since: datetime = SINCE,
    until: datetime = UNTIL,
    now: datetime = LATER,
) -> VerifyReport:
    keys = saved_keys([str(root.parent / "keys-us-east-1.json")], "--public-keys")
    return verify_logs(FolderStore(root), keys, since, until, now=now)


def problems(report: VerifyReport) -> set[tuple[str, str]]:
    return {(f.problem.value, f.key.rsplit("/", 1)[-1]) for f in report.findings}


def name(obj: Obj) -> str:
    return obj.key.rsplit("/", 1)[-1]


def hour_logs(logs: list[Obj], hour: int, problem: Problem = Problem.UNDIGESTED) -> set[tuple[str, str]]:
    return {(problem.value, name(log)) for log in logs if f"_h{hour}n" in log.key}


def test_clean_chain_passes_across_days_and_an_empty_hour(trail):
    root, _, logs = trail
    report = run(root)
    assert report.ok, report.findings
    assert report.findings == []
    (region,) = report.regions
    assert (region.account, region.region, region.trails) == (
        ACCOUNT,
        "us-east-1",
        {"account-activity-trail"},
    )
    assert (region.digests, region.digests_valid) == (HOURS, HOURS)
    assert len(logs) == (HOURS - 1) * 2
    assert (region.log_files, region.log_files_valid) == (len(logs), len(logs))
    assert [p.coverage for p in region.timeline] == [Coverage.COVERED] * HOURS
    assert region.row()["hours_covered"] == HOURS and region.gaps == []
    assert report.summary().splitlines()[1].startswith("PASS")


def test_a_region_folder_name_cannot_forge_the_verdict(trail):
    """The summary names each account and region by its folder, which whoever writes to the bucket names:
    a line break in one is shown as an escape, and the verdict stays the summary's only other line."""
    root, _, _ = trail
    digests = root / "AWSLogs" / ACCOUNT / "CloudTrail-Digest"
    forged = digests / "us-east-1\nPASS - every hour of the window has a valid digest\u2028"
    (digests / "us-east-1").rename(forged)
    summary = run(root).summary()
    checked, verdict = summary.splitlines()
    assert f"{ACCOUNT}/us-east-1\\x0aPASS - every hour of the window has a valid digest\\u2028" in checked
    assert verdict.startswith("FAIL")


def test_string_to_sign_has_digest_path_hash_and_null_for_the_first_digest(trail):
    root, digests, _ = trail
    first = read_fields(root / digests[0].key)
    content = gzip.decompress((root / digests[0].key).read_bytes())
    lines = string_to_sign(first, content).decode().split("\n")
    assert lines[0] == "2026-11-20T22:00:00Z"
    assert lines[1] == f"trail-bucket/{digests[0].key}"
    assert len(lines[2]) == 64 and lines[3] == "null"
    second = read_fields(root / digests[1].key)
    assert string_to_sign(second, b"").decode().split("\n")[3] == digests[0].metadata["signature"]


def _rewrite_log(path: Path) -> None:
    content = gzip.decompress(path.read_bytes()).replace(b"ListBuckets", b"ListBucketz")
    path.write_bytes(gzip.compress(content))


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:-12])


def _forge(root: Path, digest: Obj, signer: Signer, change: Callable[[dict], None]) -> None:
    """Rewrite a digest's fields and sign it again with SIGNER (sidecar updated, as an attacker would)."""
    fields = read_fields(root / digest.key)
    change(fields)
    body, metadata = sign_digest(fields, signer)
    (root / digest.key).write_bytes(body)
    (root / (digest.key + ".meta.json")).write_text(json.dumps(metadata))


def test_modified_log_file(trail):
    root, _, logs = trail
    _rewrite_log(root / logs[1].key)
    report = run(root)
    assert problems(report) == {(Problem.LOG_MODIFIED.value, name(logs[1]))}
    assert not report.ok and report.regions[0].row()["modified"] == 1
    assert "digest records" in report.findings[0].detail


def test_truncated_log_gzip(trail):
    root, _, logs = trail
    _truncate(root / logs[0].key)
    report = run(root)
    assert problems(report) == {(Problem.LOG_MODIFIED.value, name(logs[0]))}
    assert "not a complete gzip file" in report.findings[0].detail


def test_deleted_log_file(trail):
    root, _, logs = trail
    (root / logs[2].key).unlink()
    report = run(root)
    assert problems(report) == {(Problem.LOG_DELETED.value, name(logs[2]))}
    assert report.regions[0].row()["deleted"] == 1


def test_extra_log_file_is_unexpected(trail):
    root, digests, logs = trail
    extra = root / logs[0].key.replace("h0n0", "injected")
    extra.write_bytes((root / logs[0].key).read_bytes())
    stray = root / logs[0].key.rsplit("/", 1)[0] / "notes.txt"
    stray.write_text("x")
    report = run(root)
    assert problems(report) == {
        (Problem.UNEXPECTED.value, extra.name),
        (Problem.UNEXPECTED.value, "notes.txt"),
    }
    assert report.regions[0].row()["unexpected"] == 2
    planted = next(f for f in report.findings if f.key.endswith(extra.name))
    assert digests[0].key in planted.detail  # the digest of its hour, which does not list it


def test_deleted_digest_is_named_with_its_hour_and_its_logs_are_undigested(trail):
    root, digests, logs = trail
    (root / digests[2].key).unlink()
    report = run(root)
    assert problems(report) == {(Problem.DIGEST_MISSING.value, name(digests[2]))} | hour_logs(logs, 2)
    missing = next(f for f in report.findings if f.problem is Problem.DIGEST_MISSING)
    assert missing.key == digests[2].key
    assert "2026-11-20T23:00:00Z to 2026-11-21T00:00:00Z in us-east-1" in missing.detail
    region = report.regions[0]
    assert region.row()["digests_missing"] == 1 and region.row()["undigested"] == 2
    (gap,) = region.gaps
    assert (gap.start, gap.end, gap.coverage, gap.digests) == (
        datetime(2026, 11, 20, 23, tzinfo=UTC),
        datetime(2026, 11, 21, 0, tzinfo=UTC),
        Coverage.MISSING,
        (digests[2].key,),
    )


def test_two_consecutive_deleted_digests_are_each_named_even_an_hour_without_logs(trail):
    root, digests, logs = trail
    for d in digests[2:4]:  # hour 3 had no log files: only the chain and the clock tell it is gone
        (root / d.key).unlink()
    report = run(root)
    assert problems(report) == {
        (Problem.DIGEST_MISSING.value, name(digests[2])),
        (Problem.DIGEST_MISSING.value, name(digests[3])),
    } | hour_logs(logs, 2)


def test_digest_resigned_with_another_key(trail, attacker):
    """An attacker edits a digest to hide a log file and signs it with their own key."""
    root, digests, logs = trail

    def drop_log(fields: dict) -> None:
        fields["logFiles"] = fields["logFiles"][1:]

    _forge(root, digests[1], attacker, drop_log)
    report = run(root)
    # Digest 2 records the original's hash; the forged digest proves nothing, so neither of its hour's
    # log files is proven.
    assert problems(report) == {
        (Problem.BAD_SIGNATURE.value, name(digests[1])),
        (Problem.CHAIN_BROKEN.value, name(digests[1])),
    } | hour_logs(logs, 1)
    assert [p.coverage for p in report.regions[0].timeline][1] is Coverage.INVALID


def test_digest_naming_the_attackers_key_fingerprint(trail, attacker):
    root, digests, logs = trail

    def claim_attacker_key(fields: dict) -> None:
        fields["digestPublicKeyFingerprint"] = attacker.fingerprint

    _forge(root, digests[-1], attacker, claim_attacker_key)
    report = run(root)
    assert problems(report) == {(Problem.BAD_SIGNATURE.value, name(digests[-1]))} | hour_logs(logs, 5)
    bad = next(f for f in report.findings if f.problem is Problem.BAD_SIGNATURE)
    assert "not among the 1 CloudTrail public keys of us-east-1" in bad.detail


def test_broken_chain_with_validly_signed_digests(trail, signer):
    """A digest rewritten and signed with the right key still breaks the link from the next digest."""
    root, digests, _ = trail

    def drop_log(fields: dict) -> None:
        fields["logFiles"] = []

    _forge(root, digests[2], signer, drop_log)
    report = run(root)
    # The dropped log files are no longer in any digest, so they show up too.
    assert {p for p, _ in problems(report)} == {Problem.CHAIN_BROKEN.value, Problem.UNEXPECTED.value}
    (broken,) = [f for f in report.findings if f.problem is Problem.CHAIN_BROKEN]
    assert broken.key == digests[2].key and digests[3].key in broken.detail
    assert "previousDigestHashValue" in broken.detail and "previousDigestSignature" in broken.detail


def test_truncated_digest_gzip(trail):
    root, digests, logs = trail
    _truncate(root / digests[4].key)
    report = run(root)
    assert problems(report) == {(Problem.DIGEST_INVALID.value, name(digests[4]))} | hour_logs(logs, 4)
    assert report.regions[0].row()["digests_invalid"] == 1


def test_missing_signature_sidecar(trail):
    root, digests, logs = trail
    (root / (digests[0].key + ".meta.json")).unlink()
    report = run(root)
    assert problems(report) == {(Problem.BAD_SIGNATURE.value, name(digests[0]))} | hour_logs(logs, 0)
    assert "no signature" in report.findings[0].detail


def test_digest_moved_from_its_original_location(trail):
    root, digests, _ = trail
    moved = root / digests[-1].key.replace("T030000Z", "T040000Z")
    (root / digests[-1].key).rename(moved)
    (root / (digests[-1].key + ".meta.json")).rename(moved.with_name(moved.name + ".meta.json"))
    report = run(root, until=datetime(2026, 11, 21, 4, 0, tzinfo=UTC))
    assert (Problem.DIGEST_INVALID.value, moved.name) in problems(report)
    assert "moved" in report.findings[0].detail


def test_window_selects_digests_and_first_link_is_checked(trail, signer):
    root, digests, _ = trail
    report = run(root, since=datetime(2026, 11, 21, 0, 30, tzinfo=UTC))
    assert report.ok
    assert report.regions[0].digests == 3  # ending 01:00, 02:00, 03:00
    # The digest just before the window is read to check the first link: tampering there is seen.
    _forge(root, digests[2], signer, lambda f: f.update(newestEventTime="2020-01-01T00:00:00Z"))
    report = run(root, since=datetime(2026, 11, 21, 0, 30, tzinfo=UTC))
    assert {p for p, _ in problems(report)} == {Problem.CHAIN_BROKEN.value}


def test_a_window_in_any_time_zone_is_the_same_instants(trail):
    """`+14:00` is an instant, not a local date: the same digests are checked as in UTC."""
    root, _, logs = trail
    _rewrite_log(root / logs[0].key)  # 21:05Z, on the first UTC day
    utc = run(root)
    kiribati = run(
        root,
        since=datetime.fromisoformat("2026-11-21T11:00+14:00"),
        until=datetime.fromisoformat("2026-11-21T17:00+14:00"),
    )
    assert problems(kiribati) == problems(utc) == {(Problem.LOG_MODIFIED.value, name(logs[0]))}
    assert kiribati.regions[0].digests == utc.regions[0].digests == HOURS
    assert "2026-11-20T21:00:00Z to 2026-11-21T03:00:00Z" in kiribati.summary()


def test_chain_restart_is_a_warning_with_the_uncovered_hours(tmp_path, signer):
    first, first_logs = build_chain(signer, START, 2)
    second, second_logs = build_chain(signer, datetime(2026, 11, 21, 0, 30, tzinfo=UTC), 2)
    root = tmp_path / "fetched"
    write_folder(root, first + first_logs + second + second_logs)
    (tmp_path / "keys-us-east-1.json").write_text(json.dumps(signer.list_public_keys_json()))
    report = run(root, until=datetime(2026, 11, 21, 2, 30, tzinfo=UTC))
    assert report.ok
    (warning,) = report.findings
    assert (warning.problem, warning.result) == (Problem.CHAIN_RESTARTED, "WARN")
    assert "2026-11-20T23:00:00Z to 2026-11-21T00:30:00Z (1.5 h)" in warning.detail
    assert [g.coverage for g in report.regions[0].gaps] == [Coverage.RESTART]


def test_log_files_delivered_while_validation_was_off_are_undigested(tmp_path, signer):
    first, first_logs = build_chain(signer, START, 2)
    second, second_logs = build_chain(signer, datetime(2026, 11, 21, 1, 0, tzinfo=UTC), 2)
    _, unproven = build_chain(signer, datetime(2026, 11, 20, 23, 0, tzinfo=UTC), 1, logs_per_hour=1)
    root = tmp_path / "fetched"
    write_folder(root, first + first_logs + second + second_logs + unproven)
    (tmp_path / "keys-us-east-1.json").write_text(json.dumps(signer.list_public_keys_json()))
    report = run(root)
    assert problems(report) == {
        (Problem.CHAIN_RESTARTED.value, "us-east-1"),
        (Problem.UNDIGESTED.value, name(unproven[0])),
    }
    assert not report.ok


def test_no_digests_in_window_fails(trail):
    root, _, _ = trail
    since, until = datetime(2026, 12, 1, tzinfo=UTC), datetime(2026, 12, 2, tzinfo=UTC)
    report = run(root, since=since, until=until, now=until + timedelta(days=1))
    assert not report.ok
    assert {f.problem for f in report.findings} == {Problem.NO_DIGESTS}


def test_a_window_too_recent_for_any_digest_is_pending_not_failed(trail):
    root, _, _ = trail
    since = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)  # after the last digest: only the last half hour
    report = run(root, since=since, until=since + timedelta(minutes=30), now=since + timedelta(minutes=30))
    assert report.ok and report.findings == []
    assert report.regions[0].hours(Coverage.PENDING) == 0.5
    assert "Not yet due" in report.summary()
    later = run(root, since=since, until=since + timedelta(minutes=30), now=since + timedelta(hours=2))
    assert {f.problem for f in later.findings} == {Problem.NO_DIGESTS}


def test_a_region_asked_for_that_has_nothing_fails(trail):
    root, _, _ = trail
    keys = saved_keys([f"eu-west-1={root.parent / 'keys-us-east-1.json'}"], "--public-keys")
    report = verify_logs(FolderStore(root), keys, SINCE, UNTIL, regions={"eu-west-1"}, now=LATER)
    assert [(f.problem, f.region) for f in report.findings] == [(Problem.NO_DIGESTS, "eu-west-1")]


def test_bad_inputs_name_the_flag_or_file(tmp_path, trail):
    with pytest.raises(UserError, match=r"--folder .*no such folder"):
        open_source(folder=tmp_path / "missing", stack=None, bucket=None, prefix="")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(CannotRunError, match="nothing under AWSLogs"):
        verify_logs(FolderStore(empty), lambda *a: {}, SINCE, UNTIL)
    with pytest.raises(UserError, match=r"--since .* is not before --until"):
        verify_logs(FolderStore(trail[0]), lambda *a: {}, UNTIL, SINCE)


def test_public_key_as_list_public_keys_returns_it(signer):
    """ListPublicKeys' Value is a DER RSAPublicKey (PKCS#1); AWS's own CLI example also shows an X.509 one."""
    expected = signer.key.public_key().public_numbers()
    assert (
        signer.public_der[:2] == b"\x30\x82"
        and load_public_key(signer.public_der).public_numbers() == expected
    )
    spki = signer.key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert load_public_key(spki).public_numbers() == expected


def test_only_pkcs1_v15_signatures_verify(signer):
    """SHA256withRSA is RSASSA-PKCS1-v1_5: the same key signing with PSS does not pass."""
    message = b"2026-11-20T22:00:00Z\nbucket/key\nabc\nnull"
    public = signer.key.public_key()
    assert signature_valid(public, signer.sign(message), message)
    pss = signer.key.sign(message, padding.PSS(padding.MGF1(hashes.SHA256()), 32), hashes.SHA256()).hex()
    assert not signature_valid(public, pss, message)
    assert not signature_valid(public, "not hex", message)
