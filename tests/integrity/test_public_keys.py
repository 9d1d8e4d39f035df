"""CloudTrail's public keys as `verify` takes them: per region, only within their validity, files bounded."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from audit_trail.cli.app import app
from audit_trail.errors import UserError
from audit_trail.integrity.public_keys import MAX_KEYS_FILE_BYTES, keys_from_list, saved_keys
from audit_trail.integrity.verify import Problem, verify_logs
from audit_trail.store import FolderStore
from support.digest_factory import Signer, build_chain, new_signer, write_folder
from typer.testing import CliRunner

START = datetime(2026, 11, 20, 21, 0, tzinfo=UTC)
UNTIL = START + timedelta(hours=3)
LATER = UNTIL + timedelta(days=1)
WIDE = {"COLUMNS": "400"}


@pytest.fixture(scope="module")
def signers() -> dict[str, Signer]:
    """CloudTrail signs with a key per region."""
    return {"us-east-1": new_signer(), "eu-west-1": new_signer()}


@pytest.fixture
def two_regions(tmp_path: Path, signers: dict[str, Signer]) -> Path:
    root = tmp_path / "fetched"
    for region, signer in signers.items():
        digests, logs = build_chain(signer, START, 3, region=region)
        write_folder(root, digests + logs)
        (tmp_path / f"keys-{region}.json").write_text(json.dumps(signer.list_public_keys_json()))
    return root


def test_keys_are_taken_per_region_from_file_names_pairs_or_a_folder(tmp_path, two_regions, signers):
    east, west = tmp_path / "keys-us-east-1.json", tmp_path / "keys-eu-west-1.json"
    by_name = saved_keys([str(east), str(west)], "--public-keys")
    plain = tmp_path / "keys.json"
    plain.write_text(west.read_text())
    by_pair = saved_keys([str(east), f"eu-west-1={plain}"], "--public-keys")
    folder = tmp_path / "keys"
    folder.mkdir()
    for p in (east, west):
        (folder / p.name).write_text(p.read_text())
    by_folder = saved_keys([str(folder)], "--public-keys")
    for keys in (by_name, by_pair, by_folder):
        assert {r: set(k) for r, k in keys.by_region.items()} == {
            r: {s.fingerprint} for r, s in signers.items()
        }
        report = verify_logs(FolderStore(two_regions), keys, START, UNTIL, now=LATER)
        assert report.ok, report.findings
    with pytest.raises(UserError, match=r"keys.json: cannot tell which region's keys it holds"):
        saved_keys([str(plain)], "--public-keys")


def test_no_keys_for_a_region_is_bad_input_not_forgery(tmp_path, two_regions):
    keys = saved_keys([str(tmp_path / "keys-us-east-1.json")], "--public-keys")
    with pytest.raises(
        UserError, match=r"no public key for eu-west-1 given \(use --public-keys for each region"
    ):
        verify_logs(FolderStore(two_regions), keys, START, UNTIL, now=LATER)
    result = CliRunner().invoke(
        app,
        [
            *("verify", "--folder", str(two_regions), "--public-keys", str(tmp_path / "keys-us-east-1.json")),
            *("--since", "2026-11-20T21:00Z", "--until", "2026-11-21T00:00Z"),
        ],
        env=WIDE,
    )
    assert result.exit_code == 2
    assert "no public key for eu-west-1 given (use --public-keys for each region" in result.output
    # --region narrows the check to what the keys cover.
    report = verify_logs(FolderStore(two_regions), keys, START, UNTIL, regions={"us-east-1"}, now=LATER)
    assert report.ok


def test_another_regions_key_is_a_forgery(tmp_path, two_regions):
    """Keys for the region were given, and the digest's key is not among them: FAIL (exit 1)."""
    swapped = saved_keys(
        [f"us-east-1={tmp_path / 'keys-eu-west-1.json'}", f"eu-west-1={tmp_path / 'keys-eu-west-1.json'}"],
        "--public-keys",
    )
    report = verify_logs(FolderStore(two_regions), swapped, START, UNTIL, now=LATER)
    bad = {(f.problem, f.region) for f in report.findings if f.problem is Problem.BAD_SIGNATURE}
    assert bad == {(Problem.BAD_SIGNATURE, "us-east-1")}
    assert not report.ok


def test_a_key_is_trusted_only_while_it_was_valid(tmp_path, two_regions, signers):
    east = tmp_path / "old-keys-us-east-1.json"
    east.write_text(
        json.dumps(
            signers["us-east-1"].list_public_keys_json(
                datetime(2001, 1, 1, tzinfo=UTC), datetime(2001, 2, 1, tzinfo=UTC)
            )
        )
    )
    keys = saved_keys([str(east), str(tmp_path / "keys-eu-west-1.json")], "--public-keys")
    report = verify_logs(FolderStore(two_regions), keys, START, UNTIL, now=LATER)
    bad = [f for f in report.findings if f.problem is Problem.BAD_SIGNATURE]
    assert len(bad) == 3 and {f.region for f in bad} == {"us-east-1"}
    assert "is valid from 2001-01-01T00:00:00Z to 2001-02-01T00:00:00Z, not at 2026-11-20T22:00:00Z" in (
        bad[0].detail
    )


def test_list_public_keys_forms_of_validity(signers):
    """The CLI prints ISO times; AWS's older guide shows epoch seconds as text; boto3 gives datetimes."""
    entry = signers["us-east-1"].list_public_keys_json()["PublicKeyList"][0]
    epoch = {**entry, "ValidityStartTime": "1436317441.0", "ValidityEndTime": "1438909441.0"}
    (key,) = keys_from_list([epoch]).values()
    assert key.valid_from == datetime(2015, 7, 8, 1, 4, 1, tzinfo=UTC)
    boto = {
        **entry,
        "ValidityStartTime": datetime(2026, 1, 1, tzinfo=UTC),
        "Value": signers["us-east-1"].public_der,
    }
    assert next(iter(keys_from_list([boto]).values())).valid_at(datetime(2026, 6, 1, tzinfo=UTC))
    with pytest.raises(ValueError, match="lacks Fingerprint, ValidityStartTime or ValidityEndTime"):
        keys_from_list([{k: v for k, v in entry.items() if k != "ValidityEndTime"}])


def test_key_files_are_bounded_and_must_be_regular_files(tmp_path):
    big = tmp_path / "keys-us-east-1.json"
    big.write_bytes(b" " * (MAX_KEYS_FILE_BYTES + 1))
    with pytest.raises(UserError, match="larger than 1 MiB, not a saved key list"):
        saved_keys([str(big)], "--public-keys")
    with pytest.raises(UserError, match="not a regular file"):
        saved_keys(["us-east-1=/dev/zero"], "--public-keys")
    fifo = tmp_path / "keys-eu-west-1.json"
    os.mkfifo(fifo)
    with pytest.raises(UserError, match="not a regular file"):  # opened without blocking, then refused
        saved_keys([str(fifo)], "--public-keys")
    with pytest.raises(UserError, match=r"--public-keys .*cannot read"):
        saved_keys([str(tmp_path / "keys-ap-south-1.json")], "--public-keys")
    bad = tmp_path / "keys-us-west-2.json"
    bad.write_text("{not json")
    with pytest.raises(UserError, match=r"--public-keys .*not JSON.*list-public-keys"):
        saved_keys([str(bad)], "--public-keys")
    bad.write_text(json.dumps({"PublicKeyList": [{"Value": "!!", "Fingerprint": "ab"}]}))
    with pytest.raises(UserError, match="not CloudTrail public keys"):
        saved_keys([str(bad)], "--public-keys")
    bad.write_text(json.dumps({"Keys": []}))
    with pytest.raises(UserError, match="no `PublicKeyList`"):
        saved_keys([str(bad)], "--public-keys")
