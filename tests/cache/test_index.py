"""The index's bookkeeping against hostile file names: a name with a newline (S3 keys and local names may hold
one), a local name that is not UTF-8; and a change to the index is whole or not at all."""

from __future__ import annotations

import errno
import os
import sqlite3
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import orjson
import pytest
from audit_trail.cache import build as building
from audit_trail.cache.index import TermIndex
from audit_trail.investigate.local import answer
from audit_trail.investigate.sources import list_log_files
from audit_trail.queries import filters as f
from audit_trail.queries import questions as q
from audit_trail.window import Window
from support.cache import cli
from support.logs import day_folder, log_bytes, log_name, user_record, write_log


def _segments(index: TermIndex) -> list[tuple[str, list[str]]]:
    with sqlite3.connect(index.path) as db:
        rows = db.execute("SELECT first, names FROM segment ORDER BY first").fetchall()
    db.close()
    return [(first, orjson.loads(names)) for first, names in rows]


def _trudy(source: str, index: TermIndex) -> list[str]:
    question = q.events().with_filters(f.Actor("trudy"))
    return [r["event_id"] for r in answer(source, question, Window(), index=index).rows]


def test_a_name_with_a_newline_is_indexed_again_after_it_changes(
    tmp_path: Path, cache_home: Path, settled: None
) -> None:
    """Names were once stored one per line: the segment of a changed `a\\nb` file then looked unrelated to
    the new one (`a` and `b` are not `a\\nb`), and storing the new one failed on the old one's key."""
    day = day_folder(tmp_path / "logs")
    path = write_log(day / f"planted\n{log_name('x')}", [user_record("alice", "event-1")])
    index = TermIndex()
    assert building.build(index, list_log_files(str(tmp_path / "logs")), workers=1).files == 1
    write_log(path, [user_record("trudy", "event-2")])
    files = list_log_files(str(tmp_path / "logs"))
    assert building.build(index, files, workers=1).files == 1
    assert _segments(index) == [(path.name, [path.name])]
    assert index.look_up(files).unindexed() == []
    assert _trudy(str(tmp_path / "logs"), index) == ["event-2"]


def test_a_name_with_a_newline_cannot_make_a_stale_entry_win(
    tmp_path: Path, cache_home: Path, settled: None
) -> None:
    """`a\\nb.json.gz` indexed, then rewritten while a file sorting before it arrives: the new segment holds
    both, and the old one, which knew only the earlier version, must go. (Were it kept, its entry could
    only lose, its identity not being the file's: the file would be read at every question and indexed
    again after it, never answered from the index, never answered wrong.)

    S3 keys may hold a newline too: a key is any UTF-8 text, control characters included ("Naming Amazon S3
    objects", https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html). moto refuses such a
    key, so the same bookkeeping is shown on a local folder, where Linux allows the name."""
    day = day_folder(tmp_path / "logs")
    hostile = write_log(day / "a\nb.json.gz", [user_record("alice", "event-1")])
    source = str(tmp_path / "logs")
    index = TermIndex()
    assert building.build(index, list_log_files(source), workers=1).files == 1
    write_log(hostile, [user_record("trudy", "event-2")])
    write_log(day / "0.json.gz", [user_record("carol", "event-3")])
    files = list_log_files(source)
    assert building.build(index, files, workers=1).files == 2
    assert _segments(index) == [("0.json.gz", ["0.json.gz", "a\nb.json.gz"])]
    assert index.look_up(files).unindexed() == []
    assert _trudy(source, index) == ["event-2"]


@pytest.fixture
def undecodable(tmp_path: Path, cache_home: Path, settled: None) -> tuple[str, list[Any]]:
    """A folder with a log file whose name is not UTF-8, beside a good one, and a region folder whose name
    is not UTF-8 either (a local folder may hold any bytes as names)."""
    day = day_folder(tmp_path / "logs")
    write_log(day / log_name("good"), [user_record("alice", "event-1")])
    good_dir = os.fsencode(day)
    with open(good_dir + b"/\xff" + os.fsencode(log_name("bad")), "wb") as fh:
        fh.write(log_bytes([user_record("bobby", "event-2")]))
    region = os.fsencode(tmp_path / "logs/AWSLogs/111111111111/CloudTrail") + b"/\xfe-region/2026/03/02"
    os.makedirs(region)
    with open(region + b"/" + os.fsencode(log_name("elsewhere")), "wb") as fh:
        fh.write(log_bytes([user_record("carol", "event-3")]))
    files = list_log_files(str(tmp_path / "logs"))
    assert len(files) == 3
    return str(tmp_path / "logs"), files


def test_names_that_are_not_utf8_are_read_never_indexed(undecodable: tuple[str, list[Any]]) -> None:
    _, files = undecodable
    index = TermIndex()
    assert building.build(index, files, workers=1).files == 1
    lookup = index.look_up(files)
    assert [f.location for f in lookup.unindexed()] == [
        f.location for f in files if "bad" in f.location or "region" in f.location
    ]
    assert lookup.cannot_match([f.Actor("trudy").needles()]) == {
        next(f.location for f in files if "good" in f.location)
    }


def test_names_that_are_not_utf8_are_left_out_of_a_background_build(
    undecodable: tuple[str, list[Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The list of files handed to the background build is JSON: such a name cannot be in it, and must not
    stop the command that answered."""
    _, files = undecodable
    started: list[list[str]] = []
    monkeypatch.setattr(subprocess, "Popen", lambda argv, **_: started.append(argv))
    index = TermIndex()
    assert building.in_background(index, files)
    (argv,) = started
    manifest = Path(argv[4])
    assert [loc for loc, _, _ in orjson.loads(manifest.read_bytes())] == [
        f.location for f in files if "good" in f.location
    ]
    building.main(argv[3:])  # what the background process runs, here and now
    assert not manifest.exists() and index.look_up(files).unindexed() == [
        f for f in files if "good" not in f.location
    ]


def test_a_store_that_fails_leaves_the_index_as_it_was(
    tmp_path: Path, cache_home: Path, settled: None
) -> None:
    """Replacing a segment is one transaction: the old one goes only if the new one is in. A store the
    database refuses turns the index off for the command."""
    day = day_folder(tmp_path / "logs")
    write_log(day / log_name("alice"), [user_record("alice", "event-1")])
    files = list_log_files(str(tmp_path / "logs"))
    index = TermIndex()
    building.build(index, files, workers=1)
    index.store(str(day), (b"body", None), [log_name("alice")])  # type: ignore[arg-type]  # no checksum
    assert index.problem is not None and "NOT NULL" in index.problem  # off for the rest of the command
    assert TermIndex().look_up(files).unindexed() == []


def _queued(index: TermIndex, files: list[Any], monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """A background build asked for FILES, not started: the arguments its process would get."""
    started: list[list[str]] = []
    monkeypatch.setattr(subprocess, "Popen", lambda argv, **_: started.append(argv))
    assert building.in_background(index, files)
    return started[-1][3:]


def test_the_lists_of_builds_that_died_before_their_turn_are_swept(
    tmp_path: Path, cache_home: Path, settled: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build killed while it waited (the machine shut down) leaves its list of files behind: the next build
    removes a list a day old, and leaves alone one whose build may still be waiting its turn."""
    write_log(day_folder(tmp_path / "logs") / log_name("alice"), [user_record("alice", "event-1")])
    files = list_log_files(str(tmp_path / "logs"))
    index = TermIndex()
    dead, waiting, mine = (Path(_queued(index, files, monkeypatch)[1]) for _ in range(3))
    day_ago = os.stat(dead).st_mtime - building.ORPHANED_SECONDS - 1
    os.utime(dead, (day_ago, day_ago))
    building.main([str(index.folder), str(mine), str(index.limit)])
    assert not dead.exists() and not mine.exists() and waiting.exists()
    assert index.look_up(files).unindexed() == []


def test_cache_clear_takes_the_waiting_lists_too_and_their_builds_do_nothing(
    tmp_path: Path, cache_home: Path, settled: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lists name the user's log files: `cache clear` empties the folder of them as well, and a build
    that was waiting finds nothing to do, without an error."""
    write_log(day_folder(tmp_path / "logs") / log_name("alice"), [user_record("alice", "event-1")])
    files = list_log_files(str(tmp_path / "logs"))
    index = TermIndex()
    argv = _queued(index, files, monkeypatch)
    code, _, err = cli("cache", "clear")
    assert code == 0, err
    assert not list(index.folder.glob("pending-*"))
    building.main(argv)  # its turn comes
    assert TermIndex().look_up(files).unindexed() == files


def test_a_build_that_cannot_start_leaves_no_list_behind(
    tmp_path: Path, cache_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_log(day_folder(tmp_path / "logs") / log_name("alice"), [user_record("alice", "event-1")])
    files = list_log_files(str(tmp_path / "logs"))

    def refuse(argv: list[str], **_: Any) -> None:
        raise OSError("Resource temporarily unavailable")

    monkeypatch.setattr(subprocess, "Popen", refuse)
    index = TermIndex()
    assert not building.in_background(index, files)
    assert not list(index.folder.glob("pending-*"))


def test_a_list_cut_short_by_a_full_disk_is_not_left_behind(
    tmp_path: Path, cache_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_log(day_folder(tmp_path / "logs") / log_name("alice"), [user_record("alice", "event-1")])
    files = list_log_files(str(tmp_path / "logs"))
    real = tempfile.NamedTemporaryFile

    class Full:
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            self.file = real(*args, **kwargs)
            self.name = self.file.name

        def __enter__(self) -> Full:
            return self

        def __exit__(self, *exc: object) -> None:
            self.file.close()

        def write(self, data: bytes) -> int:
            self.file.write(data[:10])
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(tempfile, "NamedTemporaryFile", Full)
    monkeypatch.setattr(subprocess, "Popen", lambda argv, **_: pytest.fail("no build for a list cut short"))
    index = TermIndex()
    assert not building.in_background(index, files)
    assert not list(index.folder.glob("pending-*"))
