"""A log file whose name is not UTF-8 (Linux allows any bytes) is read and named, never a crash."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pytest
from audit_trail.cli.app import app
from typer.testing import CliRunner

RECORD = {
    "eventTime": "2026-03-02T00:00:00Z",
    "eventSource": "iam.amazonaws.com",
    "eventName": "CreateUser",
    "eventID": "e1",
    "userIdentity": {"type": "IAMUser", "userName": "alice"},
}


@pytest.mark.parametrize(
    "args",
    [
        ["query", "--actor", "alice", "-f", "json"],
        ["query", "--sql", "SELECT source_file, actor FROM events", "-f", "json"],
        ["activity", "alice", "-f", "json"],
    ],
)
def test_a_name_that_is_not_utf8_is_shown_escaped(tmp_path: Path, args: list[str]) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    with open(os.path.join(os.fsencode(logs), b"\xffbad.json.gz"), "wb") as fh:
        fh.write(gzip.compress(json.dumps({"Records": [RECORD]}).encode()))
    where = args.index("-f")
    result = CliRunner().invoke(app, [*args[:where], str(logs), *args[where:]])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert len(rows) == 1
    if "source_file" in rows[0]:
        assert rows[0]["source_file"].endswith("\\xffbad.json.gz")
