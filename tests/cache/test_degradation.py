"""A damaged or unusable cache costs speed, never the answer: a corrupt index or segment is detected, said in
one `Cache:` line on stderr, and built again; a cache folder that cannot be written means a plain scan with
one warning; a bad `AUDIT_TRAIL_CACHE_MAX_MB` is refused before anything is read."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from support.cache import cache_lines, cli, same_answer
from support.logs import day_folder, log_name, user_record, write_log, write_user_logs

USERS = ("alice", "bobby", "carol")


@pytest.fixture
def source(tmp_path: Path, cache_home: Path, settled: None, background: list[list[str]]) -> str:
    """Three log files, indexed."""
    write_user_logs(tmp_path / "logs", USERS)
    code, _, err = cli("cache", "build", str(tmp_path / "logs"))
    assert code == 0 and "3 log files indexed" in err, err
    return str(tmp_path / "logs")


def _garbage(path: Path) -> None:
    path.write_bytes(b"not a database, written over it\n" * 200)


def _truncated_to(size: Callable[[int], int]) -> Callable[[Path], None]:
    def cut(path: Path) -> None:
        with open(path, "r+b") as fh:
            fh.truncate(size(path.stat().st_size))

    return cut


def _in_db(statement: str) -> Callable[[Path], None]:
    def change(path: Path) -> None:
        with sqlite3.connect(path) as db:
            db.execute(statement)
        db.close()

    return change


def _flip_a_byte(path: Path) -> None:
    with sqlite3.connect(path) as db:
        folder, first, body = db.execute("SELECT folder, first, body FROM segment").fetchone()
        changed = bytearray(body)
        changed[len(body) // 2] ^= 0x01
        db.execute(
            "UPDATE segment SET body = ? WHERE folder = ? AND first = ?", (bytes(changed), folder, first)
        )
    db.close()


def _another_layout(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.executescript(
            "DROP TABLE segment; CREATE TABLE segment (folder TEXT, first TEXT, body BLOB, extra TEXT);"
            "UPDATE meta SET value = 'terms-0' WHERE key = 'format';"
        )
    db.close()


def _folders_without_case(path: Path) -> None:
    """The segment table made again to compare folders without case, its folders written in capitals: every
    row it gives back names a folder the look-up did not ask for."""
    with sqlite3.connect(path) as db:
        (made,) = db.execute("SELECT sql FROM sqlite_master WHERE name = 'segment'").fetchone()
        db.executescript(
            "ALTER TABLE segment RENAME TO old;"
            + made.replace("folder TEXT NOT NULL", "folder TEXT NOT NULL COLLATE NOCASE")
            + "; INSERT INTO segment SELECT upper(folder), first, names, body, checksum, files, counts, "
            "row_files, rows_checksum, rows FROM old;"
            "DROP TABLE old;"
        )
    db.close()


DAMAGE = {
    "garbage over the database": (_garbage, "unreadable"),
    "database cut in its header": (_truncated_to(lambda _: 60), "unreadable"),
    "database cut in half": (_truncated_to(lambda n: n // 2), "unreadable"),
    "a byte of a segment changed": (_flip_a_byte, "1 damaged index segments dropped"),
    "a segment cut short": (
        _in_db("UPDATE segment SET body = substr(body, 1, length(body) - 1)"),
        "1 damaged index segments dropped",
    ),
    "a segment's body made text": (_in_db("UPDATE segment SET body = 'text' || body"), "unreadable"),
    "a segment's body a plain text": (_in_db("UPDATE segment SET body = 'not a blob'"), "1 damaged"),
    "a segment's checksum a number": (_in_db("UPDATE segment SET checksum = 7"), "1 damaged"),
    "folders compared without case": (_folders_without_case, "1 damaged"),
    "another format": (_in_db("UPDATE meta SET value = 'terms-0' WHERE key = 'format'"), "another format"),
    "another format, other columns": (_another_layout, "another format"),
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_a_damaged_index_is_said_once_answered_around_and_built_again(
    source: str, cache_home: Path, damage: str
) -> None:
    do, said = DAMAGE[damage]
    database = cache_home / "index.sqlite"
    assert not Path(f"{database}-wal").exists()  # everything is in the database file itself
    do(database)
    rows, err = same_answer(source, "query", "--actor", "alice")
    assert [r["event_id"] for r in rows] == ["event-alice"]
    (line,) = cache_lines(err)
    assert said in line, err
    assert "known from the cache" not in err  # nothing was taken from the damaged index
    code, _, err = cli("cache", "build", source)
    assert code == 0 and "3 log files indexed" in err and not cache_lines(err), err
    code, _, err = cli("query", "--actor", "alice", source, "-f", "json")
    assert code == 0 and "2 of them known from the cache" in err and not cache_lines(err), err


def _under_a_file(tmp_path: Path) -> str:
    (tmp_path / "plain-file").write_text("a file, not a folder")
    return str(tmp_path / "plain-file" / "cache")


def _read_only(tmp_path: Path) -> str:
    if os.geteuid() == 0:
        pytest.skip("root writes into a read-only folder anyway")
    parent = tmp_path / "read-only"
    parent.mkdir()
    parent.chmod(0o500)
    return str(parent)


@pytest.mark.parametrize("place", [_under_a_file, _read_only], ids=["under a file", "read-only folder"])
def test_a_cache_that_cannot_be_written_means_a_plain_scan_and_one_warning(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    cache_home: Path,
    background: list[list[str]],
    place: Callable[[Path], str],
) -> None:
    write_user_logs(tmp_path / "logs", USERS)
    monkeypatch.setenv("XDG_CACHE_HOME", place(tmp_path))
    rows, err = same_answer(str(tmp_path / "logs"), "query", "--actor", "alice")
    assert [r["event_id"] for r in rows] == ["event-alice"]
    (line,) = cache_lines(err)
    assert "cannot be used" in line and "every file is read" in line and "XDG_CACHE_HOME" in line
    assert "3 of 3 log files read" in err or "1 of 3 log files read" in err  # the prefilter still works


@pytest.mark.parametrize("mode", [0o770, 0o707, 0o777])
def test_a_cache_folder_others_can_write_is_not_used(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    cache_home: Path,
    background: list[list[str]],
    settled: None,
    mode: int,
) -> None:
    """Whoever can write the index can make it rule out the file holding the answer (a checksum shows damage,
    not forgery): a folder of the cache that others may write is refused, with one warning."""
    write_user_logs(tmp_path / "logs", USERS)
    shared = tmp_path / "shared" / "audit-trail"
    shared.mkdir(parents=True)
    shared.chmod(mode)
    monkeypatch.setenv("XDG_CACHE_HOME", str(shared.parent))
    rows, err = same_answer(str(tmp_path / "logs"), "query", "--actor", "alice")
    assert [r["event_id"] for r in rows] == ["event-alice"]
    (line,) = cache_lines(err)
    assert "cannot be used" in line and "other users can write it" in line and f"chmod 700 {shared}" in line
    assert list(shared.iterdir()) == []  # nothing read from it, nothing written to it
    code, _, err = cli("cache", "info")
    assert code == 3 and "other users can write it" in err, err  # said before the index holds anything
    shared.chmod(0o700)
    code, _, err = cli("cache", "build", str(tmp_path / "logs"))
    assert code == 0 and "3 log files indexed" in err and not cache_lines(err), err


def _second_link(database: Path) -> None:
    os.link(database, database.parent.parent / "kept-by-someone-else")


def _writable_by_others(database: Path) -> None:
    database.chmod(0o666)


def _a_symlink(database: Path) -> None:
    moved = database.parent.parent / "elsewhere.sqlite"
    database.rename(moved)
    database.symlink_to(moved)


def _another_owner(database: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("only root can give a file to another user")
    os.chown(database, 2000, 2000)


@pytest.mark.parametrize("change", [_second_link, _writable_by_others, _a_symlink, _another_owner])
def test_a_database_file_others_can_write_is_not_used(
    source: str, cache_home: Path, change: Callable[[Path], None]
) -> None:
    """Made by another user while the folder was open to them, or still reached through a link of theirs, the
    database stays theirs to write after the folder is made private: it is refused, and said how to mend."""
    database = cache_home / "index.sqlite"
    change(database)
    rows, err = same_answer(source, "query", "--actor", "alice")
    assert [r["event_id"] for r in rows] == ["event-alice"]
    (line,) = cache_lines(err)
    assert "cannot be used" in line and "index.sqlite is not a file of yours alone" in line, line
    assert f"rm {database}" in line and "known from the cache" not in err
    database.unlink()
    code, _, err = cli("cache", "build", source)
    assert code == 0 and "3 log files indexed" in err and not cache_lines(err), err


@pytest.mark.parametrize("value", ["0", "-5", "ten", "1.5", "1e3", "\u00b2", "\uff11\uff12"])
def test_a_bad_bound_is_refused_before_anything_is_read(
    source: str, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("AUDIT_TRAIL_CACHE_MAX_MB", value)
    code, out, err = cli("query", "--actor", "alice", source, "-f", "json")
    assert code == 2 and out == ""
    assert "AUDIT_TRAIL_CACHE_MAX_MB" in err and "whole number of megabytes" in err and "--no-cache" in err
    assert "log files read" not in err  # refused before the scan


def test_a_bad_bound_does_not_matter_with_the_cache_off_and_stops_the_cache_command(
    source: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUDIT_TRAIL_CACHE_MAX_MB", "ten")
    code, out, _ = cli("query", "--actor", "alice", source, "-f", "json", "--no-cache")
    assert code == 0 and "event-alice" in out
    for command in (("info",), ("build", source), ("clear",)):
        code, _, err = cli("cache", *command)
        assert code == 2 and "AUDIT_TRAIL_CACHE_MAX_MB='ten'" in err, command


def test_a_full_disk_stops_the_build_not_the_command(
    tmp_path: Path,
    cache_home: Path,
    settled: None,
    background: list[list[str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """SQLite reports a full disk as SQLITE_FULL; simulated by capping the database at the pages it has."""
    from audit_trail.cache.index import TermIndex

    day = day_folder(tmp_path / "logs")
    for user in USERS:
        record = user_record(user, f"event-{user}")
        record["userAgent"] = " ".join(f"agent{i}{user}" for i in range(1000))  # more than a page of terms
        write_log(day / log_name(user), [record])
    opened = TermIndex._open

    def full(self: TermIndex) -> sqlite3.Connection:
        db = opened(self)
        db.execute(f"PRAGMA max_page_count = {db.execute('PRAGMA page_count').fetchone()[0]}")
        return db

    monkeypatch.setattr(TermIndex, "_open", full)
    code, _, err = cli("cache", "build", str(tmp_path / "logs"))
    assert code == 3 and err.startswith("Error: Cache: the cache at ") and err.count("\n") == 1, err
    assert "(database or disk is full): every file is read" in err
    rows, err = same_answer(str(tmp_path / "logs"), "query", "--actor", "alice")
    assert [r["event_id"] for r in rows] == ["event-alice"] and "known from the cache" not in err
