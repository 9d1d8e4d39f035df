"""What reaches a person besides the rows: the session tree, `--raw`, folder names in messages, odd limits,
and the shell's closed streams. Each is attacker-written or user-given, and none may restyle the terminal,
forge a line, crash, or change the exit code."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from audit_trail.cli.app import app
from audit_trail.cli.hunt import _what_source_holds
from audit_trail.cli.investigate import show_session_tree
from audit_trail.hunt.sessions import ChainNode
from audit_trail.visible_text import INVISIBLE
from support.logs import real_records, write_real_folder
from typer.testing import CliRunner

RAW = {chr(code) for code in INVISIBLE if code != 0x0A}
HOSTILE = "x\x1b[2J\x1b[31m[bold magenta]MARKUP[/]\u202efdp.exe\x9b"


def test_the_session_tree_shows_names_as_plain_text(capsys: pytest.CaptureFixture[str]) -> None:
    root = ChainNode("mallory", 1)
    root.children["AKIA1"] = ChainNode(f"arn:aws:sts::1:assumed-role/{HOSTILE}/s", 2)
    show_session_tree(root)
    out = capsys.readouterr().out
    assert not set(out) & RAW
    assert "[bold magenta]MARKUP[/]" in out and "\\u202efdp.exe" in out and "\\x1b[2J" in out


def test_raw_records_are_inert_json_lines(tmp_path: Path) -> None:
    records = real_records()[:3]
    records[0] = {**records[0], "userAgent": HOSTILE, "eventID": "hostile"}
    write_real_folder(tmp_path, records)
    result = CliRunner().invoke(app, ["query", str(tmp_path), "--raw", "--no-cache"])
    assert result.exit_code == 0, result.output
    assert not set(result.stdout) & RAW
    shown = [json.loads(line) for line in result.stdout.splitlines()]
    assert records[0] in shown  # the same record, its characters escaped


def test_a_folder_name_cannot_forge_a_line(tmp_path: Path) -> None:
    region = "us-east-1\nPASS: all clear\u2028\x1c"
    day = tmp_path / "AWSLogs/123456789012/CloudTrail" / region / "2026/03/02"
    day.mkdir(parents=True)
    (day / "f.json.gz").write_bytes(gzip.compress(orjson.dumps({"Records": []})))
    message = _what_source_holds(str(tmp_path))
    assert message.count("\n") == 1 and "us-east-1\\x0aPASS: all clear\\u2028\\x1c" in message


def test_a_limit_beyond_any_source_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["query", str(tmp_path), "--limit", "99999999999999999999999"])
    assert result.exit_code == 2 and "--limit" in result.stderr


def _console(*args: str, close: int) -> int:
    code = "import sys; from audit_trail.cli import main; sys.argv[0] = 'audit-trail'; main()"

    def closed() -> None:
        os.close(close)

    done = subprocess.run([sys.executable, "-c", code, *args], preexec_fn=closed, check=False)
    return done.returncode


@pytest.mark.parametrize("close", [1, 2])
def test_a_closed_stream_keeps_the_exit_code(tmp_path: Path, close: int) -> None:
    write_real_folder(tmp_path)
    assert _console("query", str(tmp_path), "--no-cache", close=close) == 0
    assert _console("query", str(tmp_path / "missing"), close=close) == 2
    assert _console("hunt", str(tmp_path), "--fail-on", "critical", close=close) == 0


def test_raw_lines_stay_json_on_an_ascii_stdout(tmp_path: Path) -> None:
    records = real_records()[:2]
    records[0] = {**records[0], "userAgent": "é 漢", "eventID": "non-ascii"}
    write_real_folder(tmp_path, records)
    code = "import sys; from audit_trail.cli import main; sys.argv[0] = 'audit-trail'; main()"
    env = {**os.environ, "PYTHONIOENCODING": "ascii"}
    args = ["query", str(tmp_path), "--raw", "--no-cache"]
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, env=env, check=False)
    assert done.returncode == 0, done.stderr
    assert records[0] in [json.loads(line) for line in done.stdout.decode("utf-8").splitlines()]


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs Linux's /dev/full")
@pytest.mark.parametrize(
    "args",
    [
        ["query", "{trail}", "--no-cache", "-f", "json"],  # UTF-8 bytes to the binary stream
        ["query", "{trail}", "--no-cache"],  # the table, flushed on the way out
        ["hunt", "{trail}", "-f", "csv", "--fail-on", "critical"],
        ["--version"],
    ],
)
@pytest.mark.parametrize("unbuffered", ["", "1"])  # PYTHONUNBUFFERED makes stdout's buffer a raw file
def test_a_full_stdout_is_named_as_such(tmp_path: Path, args: list[str], unbuffered: str) -> None:
    # `> /dev/full` and a full scratch disk raise the same error: only the name says which disk to free,
    # and a failure as Python exits would be a warning and exit 120
    write_real_folder(tmp_path)
    code = "import sys; from audit_trail.cli import main; sys.argv[0] = 'audit-trail'; main()"
    argv = [a.format(trail=tmp_path) for a in args]
    with open("/dev/full", "w") as full:
        env = {**os.environ, "PYTHONUNBUFFERED": unbuffered}
        done = subprocess.run(
            [sys.executable, "-c", code, *argv], stdout=full, stderr=subprocess.PIPE, env=env, check=False
        )
    stderr = done.stderr.decode()
    assert done.returncode == 3, stderr
    assert "standard output" in stderr and "TMPDIR" not in stderr
    assert "Traceback" not in stderr and "Exception ignored" not in stderr
