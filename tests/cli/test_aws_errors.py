"""Every AWS failure is one line naming the resource and what to do, with exit code 3: never a traceback,
never the exit code of a finding."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from audit_trail.cli.app import app
from typer.testing import CliRunner

COMMANDS = [
    ["query", "s3://no-such-bucket/AWSLogs/", "--actor", "mallory"],
    ["who-changed", "sg-0123", "s3://no-such-bucket/"],
    ["activity", "mallory", "s3://no-such-bucket/", "-f", "json"],
    ["deletions", "s3://no-such-bucket/"],
    ["hunt", "s3://no-such-bucket/", "--fail-on", "high"],
]


def _one_error_line(result: Any) -> str:
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: a[0])
def test_a_missing_bucket(aws: str, args: list[str]) -> None:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 3, result.output
    line = _one_error_line(result)
    assert "s3://no-such-bucket/" in line and "no such bucket" in line


@pytest.mark.parametrize("args", COMMANDS[:2], ids=lambda a: a[0])
def test_no_credentials(aws: str, args: list[str], tmp_path: Path) -> None:
    # A fresh process: boto3 keeps the credentials it found in the process that found them.
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") or k == "AWS_ENDPOINT_URL"}
    env.update(
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
        AWS_CONFIG_FILE=str(tmp_path / "none"),
        AWS_EC2_METADATA_DISABLED="true",
        AWS_DEFAULT_REGION="us-east-1",
    )
    code = "from audit_trail.cli import main; main()"
    done = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True)
    assert done.returncode == 3, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.count("Error: ") == 1 and "no AWS credentials found" in done.stderr


def test_an_unreachable_endpoint(aws: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # discard port: nothing listens there
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    result = CliRunner().invoke(app, COMMANDS[0])
    assert result.exit_code == 3, result.output
    assert "AWS cannot be reached" in _one_error_line(result)


def test_fetch_from_a_missing_bucket(aws: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["fetch", str(tmp_path / "logs"), "--bucket", "no-such-bucket"])
    assert result.exit_code == 3, result.output
    assert "no such bucket" in _one_error_line(result)


def test_athena_without_its_workgroup(aws: str) -> None:
    result = CliRunner().invoke(
        app, ["denied", "--engine", "athena", "--workgroup", "missing", "--since", "1d"]
    )
    assert result.exit_code == 3, result.output
    line = _one_error_line(result)
    assert "workgroup 'missing'" in line and "audit-trail:athena true" in line and "--workgroup" in line
