"""`audit-trail cache info|build|clear` and the cache as the questions show it: where it is, what a build
indexed, what a warm question took from it, and `--no-cache` / `AUDIT_TRAIL_NO_CACHE` reading every file."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from support.cache import cli
from support.logs import day_folder, log_name, user_record, write_log, write_user_logs

USERS = ("alice", "bobby", "carol")


@pytest.fixture
def source(tmp_path: Path, cache_home: Path, settled: None, background: list[list[str]]) -> str:
    """Three files on 2 March, one on 3 March."""
    write_user_logs(tmp_path / "logs", USERS)
    later = day_folder(tmp_path / "logs", day="2026/03/03")
    write_log(
        later / log_name("dave0", stamp="20260303T1000Z"),
        [user_record("dave0", "e-d", when="2026-03-03T10:00:00Z")],
    )
    return str(tmp_path / "logs")


def _info() -> dict[str, object]:
    code, out, err = cli("cache", "info", "-f", "json")
    assert code == 0, err
    return {row["setting"]: row["value"] for row in orjson.loads(out)}


def test_info_shows_where_the_index_is_and_what_it_holds(source: str, cache_home: Path) -> None:
    shown = _info()
    assert shown == {
        "location": str(cache_home),
        "size": "0.0 MiB of at most 1024 MiB",
        "log files indexed": 0,
        "log files with their events kept": 0,
        "folders": 0,
        "segments": 0,
    }
    code, out, _ = cli("cache", "info", env={"COLUMNS": "250"})
    assert code == 0 and "Term index" in out and str(cache_home) in out and "1024 MiB" in out
    cli("cache", "build", source)
    shown = _info()
    assert (shown["log files indexed"], shown["folders"], shown["segments"]) == (4, 2, 2)
    assert shown["log files with their events kept"] == 4


def test_the_location_follows_xdg_cache_home_and_ignores_a_relative_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "elsewhere"))
    assert _info()["location"] == str(tmp_path / "elsewhere" / "audit-trail")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")  # the XDG base directory spec: ignored
    assert _info()["location"] == str(tmp_path / "home" / ".cache" / "audit-trail")
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert _info()["location"] == str(tmp_path / "home" / ".cache" / "audit-trail")


def test_build_indexes_the_window_given_then_the_rest(source: str) -> None:
    code, _, err = cli("cache", "build", source, "--since", "2026-03-03")
    assert code == 0 and err.startswith("1 log files indexed in 1 folders"), err
    assert _info()["log files indexed"] == 1
    code, _, err = cli("cache", "build", source)
    assert code == 0 and "3 log files indexed in 1 folders" in err and "1 already known" in err, err
    code, _, err = cli("cache", "build", source)
    assert code == 0 and err.startswith("0 log files indexed") and "4 already known" in err, err


def test_build_needs_a_source(cache_home: Path) -> None:
    code, _, err = cli("cache", "build")
    assert code == 2 and "SOURCE is missing" in err


def test_clear_empties_the_index(source: str) -> None:
    cli("cache", "build", source)
    code, _, err = cli("cache", "clear")
    assert code == 0 and err.startswith("Term index cleared ("), err
    assert _info()["log files indexed"] == 0
    code, _, err = cli("query", "--actor", "alice", source, "-f", "json")
    assert code == 0 and "known from the cache" not in err


def test_a_warm_question_says_how_many_files_the_cache_ruled_out(source: str) -> None:
    """One small file left to read: it is read, not answered from its rows (not worth starting DuckDB)."""
    cli("cache", "build", source)
    code, out, err = cli("query", "--actor", "alice", source, "-f", "json")
    assert code == 0 and [r["event_id"] for r in orjson.loads(out)] == ["event-alice"]
    summary = (
        "1 of 4 log files read (3 skipped by the prefilter: they cannot match, 3 of them known from the "
    )
    assert err.startswith(summary + "cache)"), err


@pytest.mark.parametrize("off", [("--no-cache",), ()], ids=["--no-cache", "AUDIT_TRAIL_NO_CACHE=1"])
def test_with_the_cache_off_every_file_is_read_and_none_indexed(
    source: str, cache_home: Path, background: list[list[str]], off: tuple[str, ...]
) -> None:
    cli("cache", "build", source)
    env = {} if off else {"AUDIT_TRAIL_NO_CACHE": "1"}
    code, _, err = cli("query", source, "-f", "json", *off, env=env)
    assert code == 0 and err.startswith("4 of 4 log files read (0 skipped"), err
    code, _, err = cli("query", "--actor", "alice", source, "-f", "json", *off, env=env)
    assert code == 0 and err.startswith(
        "1 of 4 log files read (3 skipped by the prefilter: they cannot match)"
    )
    assert "Cache:" not in err and background == []  # nothing was handed on to a build either


def test_a_question_hands_what_it_read_to_a_build(source: str, background: list[list[str]]) -> None:
    code, _, _ = cli("query", "--actor", "alice", source, "-f", "json")
    assert code == 0 and len(background) == 1 and len(background[0]) == 4
    cli("cache", "build", source)
    cli("query", "--actor", "alice", source, "-f", "json")
    assert len(background) == 1  # all known: nothing handed to a build, and no builder loaded


@pytest.mark.parametrize("command", ["info", "build", "clear"])
def test_every_cache_command_shows_an_example(command: str) -> None:
    code, out, _ = cli("cache", command, "--help", env={"COLUMNS": "200"})
    assert code == 0 and f"Example: audit-trail cache {command}" in out
