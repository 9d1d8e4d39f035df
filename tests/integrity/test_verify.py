"""`verify` on a fetched folder: a clean chain passes; every kind of tampering is detected and named."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from audit_trail.errors import UserError
from audit_trail.integrity.digests import load_public_key, signature_valid, string_to_sign
from audit_trail.integrity.public_keys import keys_from_files
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
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps(signer.list_public_keys_json()))
    return root, digests, logs


def run(root: Path, signer: Signer, since: datetime = SINCE, until: datetime = UNTIL) -> VerifyReport:
    keys = keys_from_files([root.parent / "keys.json"])
    return verify_logs(FolderStore(root), lambda region, start, end: keys, since, until)


def problems(report: VerifyReport) -> set[tuple[str, str]]:
    return {(f.problem.value, f.key.rsplit("/", 1)[-1]) for f in report.findings}


def name(obj: Obj) -> str:
    return obj.key.rsplit("/", 1)[-1]


def test_clean_chain_passes_across_days_and_an_empty_hour(trail, signer):
    root, _, logs = trail
    report = run(root, signer)
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
    assert report.summary().splitlines()[1].startswith("PASS")


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


def test_modified_log_file(trail, signer):
    root, _, logs = trail
    _rewrite_log(root / logs[1].key)
    report = run(root, signer)
    assert problems(report) == {(Problem.LOG_MODIFIED.value, name(logs[1]))}
    assert not report.ok and report.regions[0].row()["modified"] == 1
    assert "digest records" in report.findings[0].detail


def test_truncated_log_gzip(trail, signer):
    root, _, logs = trail
    _truncate(root / logs[0].key)
    report = run(root, signer)
    assert problems(report) == {(Problem.LOG_MODIFIED.value, name(logs[0]))}
    assert "not a complete gzip file" in report.findings[0].detail


def test_deleted_log_file(trail, signer):
    root, _, logs = trail
    (root / logs[2].key).unlink()
    report = run(root, signer)
    assert problems(report) == {(Problem.LOG_DELETED.value, name(logs[2]))}
    assert report.regions[0].row()["deleted"] == 1


def test_extra_log_file_is_unexpected(trail, signer):
    root, _, logs = trail
    extra = root / logs[0].key.replace("h0n0", "injected")
    extra.write_bytes((root / logs[0].key).read_bytes())
    stray = root / logs[0].key.rsplit("/", 1)[0] / "notes.txt"
    stray.write_text("x")
    report = run(root, signer)
    assert problems(report) == {
        (Problem.UNEXPECTED.value, extra.name),
        (Problem.UNEXPECTED.value, "notes.txt"),
    }
    assert report.regions[0].row()["unexpected"] == 2


def test_deleted_digest_breaks_the_chain(trail, signer):
    root, digests, logs = trail
    (root / digests[2].key).unlink()
    report = run(root, signer)
    # The log files of that hour are now listed in no digest: reported as unexpected.
    hour_2 = {(Problem.UNEXPECTED.value, name(log)) for log in logs if "_h2n" in log.key}
    assert problems(report) == {(Problem.DIGEST_DELETED.value, name(digests[2]))} | hour_2
    assert digests[3].key in report.findings[0].detail
    assert report.regions[0].row()["digests_deleted"] == 1


def test_digest_resigned_with_another_key(trail, signer, attacker):
    """An attacker edits a digest to hide a log file and signs it with their own key."""
    root, digests, logs = trail

    def drop_log(fields: dict) -> None:
        fields["logFiles"] = fields["logFiles"][1:]

    _forge(root, digests[1], attacker, drop_log)
    report = run(root, signer)
    found = problems(report)
    assert (Problem.BAD_SIGNATURE.value, name(digests[1])) in found
    assert (Problem.CHAIN_BROKEN.value, name(digests[1])) in found  # digest 2 records the original's hash
    # The log file the forged digest dropped is listed in no valid digest.
    assert found == {
        (Problem.BAD_SIGNATURE.value, name(digests[1])),
        (Problem.CHAIN_BROKEN.value, name(digests[1])),
        (Problem.UNEXPECTED.value, name(logs[2])),
    }


def test_digest_naming_the_attackers_key_fingerprint(trail, signer, attacker):
    root, digests, _ = trail

    def claim_attacker_key(fields: dict) -> None:
        fields["digestPublicKeyFingerprint"] = attacker.fingerprint

    _forge(root, digests[-1], attacker, claim_attacker_key)
    report = run(root, signer)
    assert problems(report) == {(Problem.BAD_SIGNATURE.value, name(digests[-1]))}
    assert "no public key with fingerprint" in report.findings[0].detail


def test_broken_chain_with_validly_signed_digests(trail, signer):
    """A digest rewritten and signed with the right key still breaks the link from the next digest."""
    root, digests, _ = trail

    def drop_log(fields: dict) -> None:
        fields["logFiles"] = []

    _forge(root, digests[2], signer, drop_log)
    report = run(root, signer)
    # The dropped log files are no longer in any digest, so they show up too.
    assert {p for p, _ in problems(report)} == {Problem.CHAIN_BROKEN.value, Problem.UNEXPECTED.value}
    (broken,) = [f for f in report.findings if f.problem is Problem.CHAIN_BROKEN]
    assert broken.key == digests[2].key and digests[3].key in broken.detail
    assert "previousDigestHashValue" in broken.detail and "previousDigestSignature" in broken.detail


def test_truncated_digest_gzip(trail, signer):
    root, digests, _ = trail
    _truncate(root / digests[4].key)
    report = run(root, signer)
    found = problems(report)
    assert (Problem.DIGEST_INVALID.value, name(digests[4])) in found
    assert report.regions[0].row()["digests_invalid"] == 1
    # Its log files are now in no readable digest.
    assert {p for p, _ in found} == {Problem.DIGEST_INVALID.value, Problem.UNEXPECTED.value}


def test_missing_signature_sidecar(trail, signer):
    root, digests, _ = trail
    (root / (digests[0].key + ".meta.json")).unlink()
    report = run(root, signer)
    assert problems(report) == {(Problem.BAD_SIGNATURE.value, name(digests[0]))}
    assert "no signature" in report.findings[0].detail


def test_digest_moved_from_its_original_location(trail, signer):
    root, digests, _ = trail
    moved = root / digests[-1].key.replace("T030000Z", "T040000Z")
    (root / digests[-1].key).rename(moved)
    (root / (digests[-1].key + ".meta.json")).rename(moved.with_name(moved.name + ".meta.json"))
    report = run(root, signer, until=datetime(2026, 11, 21, 4, 0, tzinfo=UTC))
    assert (Problem.DIGEST_INVALID.value, moved.name) in problems(report)
    assert "moved" in report.findings[0].detail


def test_window_selects_digests_and_first_link_is_checked(trail, signer):
    root, digests, _ = trail
    report = run(root, signer, since=datetime(2026, 11, 21, 0, 30, tzinfo=UTC))
    assert report.ok
    assert report.regions[0].digests == 3  # ending 01:00, 02:00, 03:00
    # The digest just before the window is read to check the first link: tampering there is seen.
    _forge(root, digests[2], signer, lambda f: f.update(newestEventTime="2020-01-01T00:00:00Z"))
    report = run(root, signer, since=datetime(2026, 11, 21, 0, 30, tzinfo=UTC))
    assert {p for p, _ in problems(report)} == {Problem.CHAIN_BROKEN.value}


def test_chain_restart_is_a_warning(tmp_path, signer):
    first, first_logs = build_chain(signer, START, 2)
    second, second_logs = build_chain(signer, datetime(2026, 11, 20, 23, 30, tzinfo=UTC), 2)
    root = tmp_path / "fetched"
    write_folder(root, first + first_logs + second + second_logs)
    (tmp_path / "keys.json").write_text(json.dumps(signer.list_public_keys_json()))
    report = run(root, signer)
    assert report.ok
    assert problems(report) == {(Problem.CHAIN_RESTARTED.value, name(second[0]))}
    assert "WARN" in {f.result for f in report.findings}


def test_no_digests_in_window_fails(trail, signer):
    root, _, _ = trail
    report = run(
        root, signer, since=datetime(2026, 12, 1, tzinfo=UTC), until=datetime(2026, 12, 2, tzinfo=UTC)
    )
    assert not report.ok
    assert {f.problem for f in report.findings} == {Problem.NO_DIGESTS}


def test_bad_inputs_name_the_flag_or_file(tmp_path, trail):
    with pytest.raises(UserError, match=r"--folder .*no such folder"):
        open_source(folder=tmp_path / "missing", stack=None, bucket=None, prefix="")
    with pytest.raises(UserError, match=r"--public-keys .*cannot read"):
        keys_from_files([tmp_path / "nope.json"])
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(UserError, match=r"--public-keys .*not JSON.*list-public-keys"):
        keys_from_files([bad])
    bad.write_text(json.dumps({"PublicKeyList": [{"Value": "!!", "Fingerprint": "ab"}]}))
    with pytest.raises(UserError, match="not a CloudTrail public key"):
        keys_from_files([bad])
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(UserError, match="nothing under AWSLogs"):
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
