"""The sample generator as a command: help, `--start` / `--days`, a deterministic default, and a signed digest
chain `verify` passes offline."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from audit_trail.integrity.public_keys import saved_keys
from audit_trail.integrity.verify import verify_logs
from audit_trail.investigate.sample_logs import ACCOUNT, main
from audit_trail.store import FolderStore


def log_files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.glob("AWSLogs/*/CloudTrail/**/*.json.gz")}


def test_help_prints_help_and_writes_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    assert "--start" in capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--days", "0"], "--days 0: give 1 to 366 days"),
        (["--start", "someday"], "--start 'someday': not a time"),
    ],
)
def test_bad_options_are_refused(tmp_path, capsys, args, message):
    with pytest.raises(SystemExit) as done:
        main([str(tmp_path / "logs"), *args])
    assert done.value.code == 2 and message in capsys.readouterr().err
    assert not (tmp_path / "logs").exists()


def test_the_default_sample_is_the_same_every_time(tmp_path, capsys):
    """The README's examples rely on it: same log files, byte for byte; only the digests' signatures (a fresh
    sample key) may differ between runs in different processes."""
    assert main([str(tmp_path / "a")]) == 0
    first = capsys.readouterr().out.splitlines()
    assert first == [
        f"2003 events in 37 log files under {tmp_path / 'a'}",
        f"292 signed digest files; their public keys are in {tmp_path / 'a' / 'public-keys'}",
    ]
    main([str(tmp_path / "b")])
    assert log_files(tmp_path / "a") == log_files(tmp_path / "b") and len(log_files(tmp_path / "a")) == 37
    days = {p.parts[-4:-1] for p in (tmp_path / "a").glob("AWSLogs/*/CloudTrail/*/*/*/*/*.json.gz")}
    assert min(days) == ("2026", "03", "02")


def test_start_and_days_and_every_hour_of_every_region_signed(tmp_path):
    root = tmp_path / "logs"
    main([str(root), "--start", "2026-11-01T15:30Z", "--days", "1"])  # a sample starts at midnight UTC
    digests = sorted(root.glob(f"AWSLogs/{ACCOUNT}/CloudTrail-Digest/us-west-2/*/*/*/*.json.gz"))
    assert len(digests) == 25  # every hour of the day, and the hour its last log file was delivered in
    first, empty = (json.loads(gzip.decompress(p.read_bytes())) for p in digests[:2])
    assert first["digestStartTime"] == "2026-11-01T00:00:00Z" and first["previousDigestS3Object"] is None
    assert empty["logFiles"] == [] and empty["previousDigestS3Object"] == str(digests[0].relative_to(root))
    assert (root / "public-keys" / "keys-ap-northeast-1.json").is_file()
    keys = saved_keys([str(root / "public-keys")], "--public-keys")
    start = datetime(2026, 11, 1, tzinfo=UTC)
    report = verify_logs(FolderStore(root), keys, start, start.replace(day=2), now=start.replace(month=12))
    assert report.ok, report.findings
    assert {r.region for r in report.regions} == {"ap-northeast-1", "eu-west-1", "us-east-1", "us-west-2"}
