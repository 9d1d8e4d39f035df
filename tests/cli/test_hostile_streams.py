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


def _forged(text: str) -> list[str]:
    """The lines of TEXT that a value made (each test's values start theirs with PASS or FORGED)."""
    return [line for line in text.splitlines() if line.startswith(("PASS", "FORGED"))]


@pytest.mark.parametrize("fail_on", [[], ["--fail-on", "high"]])  # a warning; an error
def test_a_folder_name_cannot_forge_a_line(tmp_path: Path, fail_on: list[str]) -> None:
    region = "us-east-1\nPASS: all clear\u2028\x1c"
    day = tmp_path / "AWSLogs/123456789012/CloudTrail" / region / "2026/03/02"
    day.mkdir(parents=True)
    (day / "f.json.gz").write_bytes(gzip.compress(orjson.dumps({"Records": []})))
    result = CliRunner().invoke(app, ["hunt", str(tmp_path), *fail_on])
    assert result.exit_code == (3 if fail_on else 0)
    assert "  123456789012 us-east-1\\x0aPASS: all clear\\u2028\\x1c: 2026-03-02" in result.stderr
    assert _forged(result.stderr) == []


def test_a_value_duckdb_quotes_cannot_forge_a_line(tmp_path: Path) -> None:
    """A conversion error quotes the value it could not convert: its line breaks are shown as escapes, and
    DuckDB's pointer into the query keeps its own lines."""
    records = real_records()[:3]
    forged = "x\nPASS - every hour of the window has a valid digest\n"
    records[0] = {**records[0], "userAgent": forged, "eventID": "forger"}
    write_real_folder(tmp_path, records)
    sql = "SELECT CAST(user_agent AS INTEGER) FROM events WHERE event_id = 'forger'"
    result = CliRunner().invoke(app, ["query", str(tmp_path), "--no-cache", "--sql", sql])
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines[0].startswith("Error: --sql: DuckDB rejected the query: Conversion Error:")
    assert "'x\\x0aPASS - every hour of the window has a valid digest\\x0a'" in lines[0]
    assert _forged(result.stderr) == []
    assert lines[-2].startswith("LINE 1: SELECT CAST(user_agent") and set(lines[-1].strip()) == {"^"}


def test_a_line_a_value_quotes_as_duckdbs_pointer_is_not_kept_unless_the_query_has_it() -> None:
    """DuckDB's pointer is kept as lines only when the line it quotes is the query's: one that a value
    spelled, with a line of its own, stays part of the one-line message."""
    from audit_trail.investigate.local import rejected

    query = "SELECT CAST(user_agent AS INTEGER) FROM events"
    spelled = Exception("Invalid Input Error: malformed 'x\n\nLINE 1: FORGED - all clear\n   ^'")
    assert rejected(spelled, query, "--sql").lines == (f"--sql: DuckDB rejected the query: {spelled}",)
    genuine = Exception("Parser Error: syntax error\n\nLINE 1: SELECT CAST(user_agent AS\n       ^^^")
    pointer = ("", "LINE 1: SELECT CAST(user_agent AS", "       ^^^")
    assert rejected(genuine, query, "--sql").lines[1:] == pointer


def test_a_rule_file_name_cannot_forge_a_line(tmp_path: Path) -> None:
    """The warnings about your rules name their files: a line break in a name is shown as an escape."""
    write_real_folder(tmp_path / "logs")
    rules = tmp_path / "rules"
    rules.mkdir()
    rule = (
        "title: Trail deleted\nid: 6c1f5a6e-8c8e-4a3e-9a35-4f1b2f3c4d5e\nstatus: test\n"
        "logsource: {product: aws, service: cloudtrail}\n"
        "detection: {sel: {eventName: DeleteTrail}, condition: sel}\nlevel: high\n"
    )
    (rules / "a.yml").write_text(rule)
    (rules / "b\nFORGED LINE.yml").write_text(rule)  # the same id: a clash, naming both files
    broken = rule.replace("6c1f5a6e", "7c1f5a6e").replace("eventName:", "eventName|nosuchmodifier:")
    (rules / "c\nPASS - forged.yml").write_text(broken)  # cannot run, and says why
    result = CliRunner().invoke(app, ["hunt", str(tmp_path / "logs"), "--rules", str(rules), "--only"])
    assert result.exit_code == 0, result.stderr
    assert "b\\x0aFORGED LINE.yml); they are kept apart" in result.stderr
    assert "c\\x0aPASS - forged.yml) cannot run" in result.stderr
    assert _forged(result.stderr) == []


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
