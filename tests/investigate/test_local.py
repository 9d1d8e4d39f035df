"""The local engine's `--sql` is one read-only SELECT over the `events` view: every escape of a pasted query
is refused (exit 2) or finds nothing outside the scan's own scratch folder."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from audit_trail.cli.app import app
from audit_trail.errors import UserError
from audit_trail.investigate.local import answer
from audit_trail.window import Window
from support.logs import write_generated
from typer.testing import CliRunner


@pytest.fixture(scope="module")
def trail(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sandbox")
    write_generated(root, events=300, days=1)
    return root


def sql(trail: Path, text: str) -> list[dict]:
    return answer(str(trail), None, Window(), sql=text).rows


def test_the_documented_view_answers(trail: Path) -> None:
    (row,) = sql(trail, "SELECT count(*) AS n FROM events")
    assert row["n"] > 300
    assert sql(trail, "WITH w AS (SELECT action FROM events) SELECT count(*) AS n FROM w")[0]["n"] == row["n"]


@pytest.mark.parametrize(
    ("query", "why"),
    [
        ("COPY (SELECT 'x' AS l) TO '{target}' (FORMAT csv)", "this is COPY"),
        ("ATTACH '{target}' AS p", "this is ATTACH"),
        ("SELECT 1; SELECT 2", "this is SELECT, SELECT"),
        ("SELECT 1; COPY (SELECT 1) TO '{target}'", "this is SELECT, COPY"),
        ("SET memory_limit = '100GB'", "this is SET"),
        ("PRAGMA version", "this is PRAGMA"),
        ("INSTALL httpfs", "this is"),
        ("LOAD httpfs", "this is"),
        ("CREATE TABLE t AS SELECT 1", "this is CREATE"),
        ("CALL duckdb_settings()", "this is CALL"),
        ("", "no statement"),
    ],
)
def test_anything_but_one_select_is_refused(trail: Path, tmp_path: Path, query: str, why: str) -> None:
    target = tmp_path / "written.sh"
    with pytest.raises(UserError, match=f"--sql: runs one read-only SELECT.*{why}"):
        sql(trail, query.format(target=target))
    assert not target.exists()


def test_a_select_cannot_read_or_list_files_outside_the_scan(trail: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("password=hunter2\n")
    for query in (
        f"SELECT content FROM read_text('{secret}')",
        f"SELECT * FROM read_csv('{secret}')",
        f"SELECT file FROM glob('{Path.home()}/.*')",
        f"SELECT * FROM read_json('{trail}/AWSLogs/**/*.json.gz')",  # the evidence itself, bypassing the view
        "SELECT * FROM read_parquet('https://example.com/x.parquet')",
    ):
        with pytest.raises(UserError, match="DuckDB rejected the query"):
            sql(trail, query)


def test_settings_are_locked_and_extensions_stay_unloaded(trail: Path) -> None:
    (row,) = sql(
        trail,
        "SELECT current_setting('enable_external_access') AS external, "
        "current_setting('autoinstall_known_extensions') AS install, "
        "current_setting('autoload_known_extensions') AS autoload, "
        "current_setting('lock_configuration') AS locked, current_setting('memory_limit') AS memory",
    )
    assert row == {
        "external": False,
        "install": False,
        "autoload": False,
        "locked": True,
        "memory": row["memory"],
    }
    assert row["memory"] == "572.2 MiB"  # 600MB as DuckDB reports it: a pasted SET could not raise it


def test_the_cli_refuses_an_escape_with_exit_2_and_writes_nothing(trail: Path, tmp_path: Path) -> None:
    log = next(trail.rglob("*.json.gz"))
    before = log.read_bytes()
    script = tmp_path / "pwn.sh"
    for query in (
        f"COPY (SELECT '#!/bin/sh' AS l) TO '{script}' (FORMAT csv, HEADER false)",
        f"COPY (SELECT 'gone' AS x) TO '{log}' (FORMAT csv, HEADER false)",
    ):
        result = CliRunner().invoke(app, ["query", str(trail), "--sql", query])
        assert result.exit_code == 2, result.output
        assert "runs one read-only SELECT" in result.stderr
    assert not script.exists() and log.read_bytes() == before and os.access(log, os.R_OK)


def test_json_documents_come_back_as_json(trail: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "query",
            str(trail),
            "--sql",
            "SELECT request_parameters, raw FROM events WHERE event_name = 'AuthorizeSecurityGroupIngress'",
            "-f",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)
    assert row["request_parameters"]["ipPermissions"]["items"][0]["fromPort"] == 22
    assert row["raw"]["eventName"] == "AuthorizeSecurityGroupIngress"


def test_a_long_scan_reports_its_progress(trail: Path) -> None:
    seen: list[str] = []
    rows = answer(
        str(trail), None, Window(), sql="SELECT count(*) AS n FROM events", progress=seen.append
    ).rows
    assert rows[0]["n"] > 0
    assert seen and seen[-1].startswith(
        f"{len(list(trail.glob('AWSLogs/*/CloudTrail/*/*/*/*/*.json.gz')))} of "
    )
    assert all(" log files read, " in line for line in seen)


def test_scratch_space_running_out_is_exit_3(trail: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    from audit_trail.investigate import scanner

    def full(path: str, mode: str, lines: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", path)

    monkeypatch.setattr(scanner._Writer, "_write", staticmethod(full))
    result = CliRunner().invoke(app, ["query", str(trail), "-f", "json"])
    assert result.exit_code == 3, result.output
    assert "no space left on the disk" in result.stderr and "TMPDIR" in result.stderr


@pytest.mark.parametrize("command", [["query"], ["hunt"]])
def test_no_writable_temporary_folder_is_exit_3_naming_tmpdir(
    trail: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    """Every command keeps scratch files; with no folder `tempfile` can write to (TMPDIR, /tmp, … and the
    working folder all missing or read-only) it says so, not a traceback."""
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    monkeypatch.setattr(tempfile, "_candidate_tempdir_list", lambda: [str(tmp_path / "gone")])
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, [*command, str(trail)])
    assert result.exit_code == 3, result.output
    assert "no folder to keep scratch files in" in result.stderr and "Set TMPDIR" in result.stderr


# About ten seconds on two cores, whatever the rows: long enough that a stop waiting for its end is seen.
LONG_SQL = "SELECT sum(hash(a.range + b.range)) FROM range(10000) a, range(100000) b"


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "kill"])
def test_a_stop_signal_ends_a_running_query_at_once(
    trail: Path, monkeypatch: pytest.MonkeyPatch, signum: int
) -> None:
    """Python runs a signal's handler only between steps of Python code, and DuckDB does not return to it
    while a query runs: Ctrl-C and `kill` went unanswered until the query's end (minutes, for a large
    aggregate). The signal now interrupts the query, and the command ends with the signal's own code; the
    second case runs after the first, so the watch still works once a stop has cut its end short."""
    from audit_trail import stops
    from audit_trail.cli.app import stop_cleanly_when_told
    from audit_trail.investigate import local

    execute = local._execute

    def signalled_once_running(con: Any, text: str, flag: str) -> Any:
        threading.Timer(0.5, os.kill, (os.getpid(), signum)).start()
        return execute(con, text, flag)

    monkeypatch.setattr(local, "_execute", signalled_once_running)
    monkeypatch.setattr(stops, "_signal", None)
    stopping = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    handlers = {s: signal.getsignal(s) for s in stopping}
    stop_cleanly_when_told()
    armed = {s: signal.getsignal(s) for s in stopping}
    try:
        started = time.monotonic()
        with pytest.raises((KeyboardInterrupt, SystemExit)) as stopped:
            answer(str(trail), None, Window(), sql=LONG_SQL)
        took = time.monotonic() - started
        left = {s: signal.getsignal(s) for s in stopping}
    finally:
        for s, handler in handlers.items():
            signal.signal(s, handler)
    assert took < 4, f"the query ran on for {took:.1f} s after the signal"
    if signum == signal.SIGINT:
        assert stopped.type is KeyboardInterrupt
    else:
        assert isinstance(stopped.value, SystemExit) and stopped.value.code == 128 + signal.SIGTERM
    # The watch ended before the stop went on: the handlers and the wakeup descriptor are the caller's again
    # (an asyncio loop's, say), whichever line the signal's handler ran at.
    assert left == armed
    assert signal.set_wakeup_fd(-1) == -1


def test_a_signal_whose_handler_does_not_stop_leaves_the_query_running(
    trail: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only a signal that ends the command interrupts DuckDB: a caller's own handler (SIGHUP to reopen a
    log, say) is run and the query goes on to its answer."""
    from audit_trail.investigate import local

    execute = local._execute
    seen: list[int] = []

    def signalled_once_running(con: Any, text: str, flag: str) -> Any:
        threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGHUP)).start()
        return execute(con, text, flag)

    monkeypatch.setattr(local, "_execute", signalled_once_running)
    previous = signal.signal(signal.SIGHUP, lambda signum, frame: seen.append(signum))
    try:
        rows = sql(trail, "SELECT sum(hash(a.range + b.range)) AS s FROM range(2000) a, range(100000) b")
    finally:
        signal.signal(signal.SIGHUP, previous)
    assert seen == [signal.SIGHUP] and len(rows) == 1 and rows[0]["s"] is not None


_ENDLESS = "SELECT * FROM range(1000000000000) t(x)"
"""Rows at once, and without end: the query starts at once, the cost is in reading its rows."""


def _cli(
    args: list[str], *, first: str = "", env: dict[str, str] | None = None
) -> tuple[subprocess.CompletedProcess[str], float]:
    """`audit-trail ARGS` in its own process, after the Python code FIRST, and how long it took; a command
    that does not end within a minute fails the test."""
    code = f"import sys\n{first}\nfrom audit_trail.cli import main; sys.argv[0] = 'audit-trail'; main()"
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, **(env or {})},
    )
    return done, time.monotonic() - started


def test_the_time_limit_covers_reading_the_rows(trail: Path) -> None:
    """The limit was on running the query only: rows that never end were read until killed (12 minutes,
    CPU busy). It is the whole answer's now, each batch of rows included: exit 3, and a message."""
    one_second = "from audit_trail.investigate import local; local.QUERY_SECONDS = 1"
    done, took = _cli(["query", str(trail), "--sql", _ENDLESS, "-f", "csv", "--no-cache"], first=one_second)
    assert done.returncode == 3, done.stderr
    assert "--sql: stopped after 1 s, the time one answer may take" in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout.startswith("x\n0\n1\n")  # rows came out until then
    assert took < 20


def test_a_table_of_a_query_without_end_shows_its_first_rows(trail: Path) -> None:
    """A table read every row to count them: with rows that never end it printed nothing, ever."""
    done, took = _cli(["query", str(trail), "--sql", _ENDLESS, "--no-cache"])
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[:3] == ["Query — more than 100000 rows", "x", "0"]
    assert "showing 200 of more than 100000 rows" in done.stderr
    assert took < 30


def test_timestamps_with_a_zone_come_out_in_utc_whatever_the_machine_zone(trail: Path) -> None:
    """Any TIMESTAMPTZ (now(), a cast) was exit 3 with a Python traceback in the message (DuckDB converts it
    with pytz, which was not installed). And `event_time` is UTC without a zone: cast to TIMESTAMPTZ, or
    compared with now(), it was taken as the machine's local time, hours off."""
    sql = (
        "SELECT TIMESTAMP '2026-03-02 10:00:00'::TIMESTAMPTZ AS cast, [TIMESTAMPTZ '2026-03-02 10:00:00+02'] "
        "AS nested, now() AS now, count(*) FILTER (event_time < now()) = count(*) AS past FROM events"
    )
    done, _ = _cli(
        ["query", str(trail), "--sql", sql, "-f", "json", "--no-cache"], env={"TZ": "America/New_York"}
    )
    assert done.returncode == 0, done.stderr
    (row,) = json.loads(done.stdout)
    assert row["cast"] == "2026-03-02T10:00:00Z"
    assert row["nested"] == ["2026-03-02T08:00:00+00:00"]
    assert abs(datetime.fromisoformat(row["now"]) - datetime.now(UTC)) < timedelta(minutes=5)
    assert row["past"] is True


def test_a_python_error_inside_duckdb_is_one_line_without_its_traceback(trail: Path, tmp_path: Path) -> None:
    """DuckDB quotes the whole Python traceback of a module it fails to import: the message keeps what
    DuckDB says and the exception's own line."""
    broken = tmp_path / "pytz" / "__init__.py"
    broken.parent.mkdir()
    broken.write_text("raise ImportError('this pytz is broken')\n")
    first = f"sys.path.insert(0, {str(tmp_path)!r})"
    done, _ = _cli(["query", str(trail), "--sql", "SELECT now() AS t", "--no-cache"], first=first)
    assert done.returncode == 3, done.stderr
    assert "Traceback" not in done.stderr and 'File "' not in done.stderr
    assert done.stderr.splitlines()[0] == (
        "Error: the answer could not be read to its end: Invalid Input Error: Required module 'pytz' failed "
        "to import, due to the following Python exception: ImportError: this pytz is broken"
    )


_PEAK = (
    "import atexit, resource\n"
    "peak = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
    "atexit.register(lambda: print('peak', peak(), file=sys.stderr))"
)
"""Code that writes the process's peak RSS (KiB) last on stderr, as it exits."""


def test_wide_rows_are_read_in_bounded_memory(trail: Path) -> None:
    """Rows came from DuckDB 2,048 at a time whatever their size: 2,200 records each with a 400 KB request
    made a batch of 2 GB. A batch now holds about 4 MiB of rows, by the widest row seen so far. Here 323 rows
    of 1.4 MB: the process peaks near 400 MiB (DuckDB holds its own copy), and near 780 in one batch."""
    code = f"import sys\n{_PEAK}\nfrom audit_trail.cli import main; sys.argv[0] = 'audit-trail'; main()"
    sql = "SELECT repeat(event_id, 40000) AS wide FROM events"
    done = subprocess.run(
        [sys.executable, "-c", code, "query", str(trail), "--sql", sql, "-f", "json", "--no-cache"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    peak_kib = int(done.stderr.rsplit("peak ", 1)[1])
    assert peak_kib < 600 * 1024, f"{peak_kib // 1024} MiB"


def test_running_out_of_memory_is_exit_3_with_a_message(trail: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A MemoryError (here in converting a row; under `ulimit -v`, in fetching a batch) was a traceback and
    exit 1, the code of findings."""
    from audit_trail.investigate import local

    def no_memory(*args: object) -> None:
        raise MemoryError

    monkeypatch.setattr(local, "_convert", no_memory)
    result = CliRunner().invoke(app, ["query", str(trail), "--sql", "SELECT 1 AS x", "-f", "csv"])
    assert result.exit_code == 3, result.output
    assert result.stderr.startswith("Error: out of memory: free some, or raise this process's limit")
    assert "Traceback" not in result.stderr
