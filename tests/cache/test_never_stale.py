"""Never stale: between two questions a log file is added, deleted, rewritten (to the same size, with its
mtime set back), truncated or replaced, and the second answer is the one `--no-cache` gives, in a local
folder and on S3 (moto). The index is built in the foreground (`audit-trail cache build`) so nothing depends
on the timing of a background build.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3  # type: ignore[import-untyped]
import orjson
import pytest
from audit_trail.cache import build as building
from audit_trail.cache.index import TermIndex
from audit_trail.investigate.local import answer
from audit_trail.investigate.sources import list_log_files
from audit_trail.queries import filters as f
from audit_trail.queries import questions as q
from audit_trail.window import Window
from support.cache import cli, same_answer
from support.logs import day_folder, log_bytes, log_name, user_record, write_log

USERS = ("alice", "bobby", "carol")
"""One file each, one record each; names of one length, so a file rewritten for another keeps its size."""
INTRUDER = "trudy"


def _records(user: str) -> list[dict[str, Any]]:
    return [user_record(user, f"event-{user}")]


def _body(user: str) -> bytes:
    return log_bytes(_records(user))


def _warm(source: str) -> None:
    """Index SOURCE, then check a question is answered from the index: every file ruled out without a read."""
    code, _, err = cli("cache", "build", source)
    assert code == 0 and f"{len(USERS)} log files indexed" in err, err
    code, out, err = cli("query", "--actor", INTRUDER, source, "-f", "json")
    assert code == 0 and orjson.loads(out) == [] and f"{len(USERS)} of them known from the cache" in err, err


# --- a local folder ---


def _source(day: Path) -> str:
    """The folder holding AWSLogs, above the day folder DAY."""
    return str(day.parents[6])


@pytest.fixture
def folder(tmp_path: Path, cache_home: Path, settled: None, background: list[list[str]]) -> Path:
    day = day_folder(tmp_path / "logs")
    for user in USERS:
        write_log(day / log_name(user), _records(user))
    _warm(str(tmp_path / "logs"))
    return day


def _rewrite(path: Path, user: str) -> None:
    """PATH now holds USER's record: same size, and its mtime set back to what it was (only ctime tells)."""
    before = path.stat()
    write_log(path, _records(user))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)


def _replace(path: Path, user: str) -> None:
    """Another file, same size and mtime, renamed over PATH."""
    before = path.stat()
    other = path.with_name("staged.tmp")
    write_log(other, _records(user))
    os.utime(other, ns=(before.st_atime_ns, before.st_mtime_ns))
    os.replace(other, path)


LOCAL_CHANGES: dict[str, Callable[[Path], object]] = {
    "added": lambda day: write_log(day / log_name("added", stamp="20260302T1100Z"), _records(INTRUDER)),
    "rewritten, same size": lambda day: write_log(day / log_name("bobby"), _records(INTRUDER)),
    "rewritten, mtime set back": lambda day: _rewrite(day / log_name("bobby"), INTRUDER),
    "replaced by a rename": lambda day: _replace(day / log_name("bobby"), INTRUDER),
}


@pytest.mark.parametrize("change", LOCAL_CHANGES)
def test_a_changed_folder_is_answered_as_it_is_now(folder: Path, change: str) -> None:
    source = _source(folder)
    LOCAL_CHANGES[change](folder)
    rows, _ = same_answer(source, "query", "--actor", INTRUDER)
    assert [r["event_id"] for r in rows] == [f"event-{INTRUDER}"]
    rows, _ = same_answer(source, "activity", INTRUDER)
    assert sum(r["events"] for r in rows) == 1


def test_a_deleted_file_is_answered_as_gone(folder: Path) -> None:
    source = _source(folder)
    rows, _ = same_answer(source, "query", "--actor", "alice")
    assert len(rows) == 1
    (folder / log_name("alice")).unlink()
    rows, err = same_answer(source, "query", "--actor", "alice")
    assert rows == [] and f"of {len(USERS) - 1} log files read" in err


def test_a_truncated_file_is_reported_not_ruled_out(folder: Path) -> None:
    """The index knew the file held no intruder; cut short it is damaged, and the answer says so."""
    source = _source(folder)
    victim = folder / log_name("bobby")
    victim.write_bytes(victim.read_bytes()[:200])
    rows, err = same_answer(source, "query", "--actor", INTRUDER)
    assert rows == [] and f"skipped file {victim}" in err


# --- the kept rows: a question that reads every file ---

KEPT = "of them from the cache's copy of their events"


def _event_ids(rows: list[Any]) -> list[str]:
    return sorted(r["event_id"] for r in rows)


def test_a_broad_question_over_unchanged_files_is_answered_from_their_kept_rows(
    folder: Path, rows_always: None
) -> None:
    rows, err = same_answer(_source(folder), "query")
    assert _event_ids(rows) == [f"event-{u}" for u in USERS] and f"{len(USERS)} {KEPT}" in err


BROAD_CHANGES: dict[str, tuple[Callable[[Path], object], list[str]]] = {
    **{
        change: (make, sorted([f"event-{INTRUDER}", *(f"event-{u}" for u in USERS if u != "bobby")]))
        for change, make in LOCAL_CHANGES.items()
        if change != "added"
    },
    "added": (LOCAL_CHANGES["added"], sorted([f"event-{INTRUDER}", *(f"event-{u}" for u in USERS)])),
    "deleted": (lambda day: (day / log_name("bobby")).unlink(), ["event-alice", "event-carol"]),
    "truncated": (
        lambda day: (day / log_name("bobby")).write_bytes((day / log_name("bobby")).read_bytes()[:200]),
        ["event-alice", "event-carol"],
    ),
}


@pytest.mark.parametrize("change", BROAD_CHANGES)
def test_a_changed_file_is_never_answered_from_its_kept_rows(
    folder: Path, change: str, rows_always: None
) -> None:
    """The rows of a block are kept together: a changed, added or truncated file is read, and the rows of a
    deleted one, still in its block's copy, are not answered."""
    make, expected = BROAD_CHANGES[change]
    make(folder)
    rows, err = same_answer(_source(folder), "query")
    assert _event_ids(rows) == expected
    if change == "deleted":  # the two others, still as they were, are answered from their rows
        assert f"2 {KEPT}" in err, err
    else:
        assert KEPT not in err, err


# --- S3 ---

BUCKET = "trail-logs"


@pytest.fixture
def objects(aws: str, cache_home: Path, background: list[list[str]], settled: None) -> str:
    """The three files as objects of a bucket."""
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    for user in USERS:
        s3.put_object(Bucket=BUCKET, Key=_key(user), Body=_body(user))
    return f"s3://{BUCKET}/"


@pytest.fixture
def bucket(objects: str) -> str:
    """The objects, indexed."""
    _warm(objects)
    return objects


def _key(tag: str, stamp: str = "20260302T1000Z") -> str:
    return f"AWSLogs/111111111111/CloudTrail/us-east-1/2026/03/02/{log_name(tag, stamp=stamp)}"


def _s3_replace(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="staging/other.json.gz", Body=_body(INTRUDER))
    s3.copy_object(
        Bucket=BUCKET, Key=_key("bobby"), CopySource={"Bucket": BUCKET, "Key": "staging/other.json.gz"}
    )


S3_CHANGES: dict[str, Callable[[Any], Any]] = {
    "added": lambda s3: s3.put_object(
        Bucket=BUCKET, Key=_key("added", "20260302T1100Z"), Body=_body(INTRUDER)
    ),
    "overwritten, same size": lambda s3: s3.put_object(
        Bucket=BUCKET, Key=_key("bobby"), Body=_body(INTRUDER)
    ),
    "replaced by a copy": _s3_replace,
}


@pytest.mark.parametrize("change", S3_CHANGES)
def test_a_changed_bucket_is_answered_as_it_is_now(bucket: str, change: str) -> None:
    s3 = boto3.client("s3")
    before = s3.head_object(Bucket=BUCKET, Key=_key("bobby"))
    S3_CHANGES[change](s3)
    after = s3.head_object(Bucket=BUCKET, Key=_key("bobby"))
    if change != "added":  # an overwrite of the same size differs only by its ETag
        assert after["ContentLength"] == before["ContentLength"] and after["ETag"] != before["ETag"]
    rows, _ = same_answer(bucket, "query", "--actor", INTRUDER)
    assert [r["event_id"] for r in rows] == [f"event-{INTRUDER}"]


@pytest.mark.parametrize("change", S3_CHANGES)
def test_a_changed_object_is_never_answered_from_its_kept_rows(
    bucket: str, change: str, rows_always: None
) -> None:
    rows, err = same_answer(bucket, "query")
    assert _event_ids(rows) == [f"event-{u}" for u in USERS] and f"{len(USERS)} {KEPT}" in err
    S3_CHANGES[change](boto3.client("s3"))
    rows, err = same_answer(bucket, "query")
    now = [f"event-{INTRUDER}", *(f"event-{u}" for u in USERS if change == "added" or u != "bobby")]
    assert _event_ids(rows) == sorted(now) and KEPT not in err


def test_deleted_and_truncated_objects_on_s3(bucket: str) -> None:
    s3 = boto3.client("s3")
    s3.delete_object(Bucket=BUCKET, Key=_key("alice"))
    s3.put_object(Bucket=BUCKET, Key=_key("bobby"), Body=_body("bobby")[:100])
    rows, err = same_answer(bucket, "query", "--actor", "alice")
    assert rows == [] and f"of {len(USERS) - 1} log files read" in err
    assert f"skipped file s3://{BUCKET}/{_key('bobby')}" in err


def test_an_object_changed_after_its_listing_is_not_indexed(objects: str) -> None:
    """The build reads an object with `If-Match` on the ETag it was listed with: one overwritten in between
    is left for the next question to read (S3 answers 412), never indexed as the listed version."""
    s3 = boto3.client("s3")
    s3.put_object(Bucket=BUCKET, Key=_key("added", "20260302T1100Z"), Body=_body("dave0"))
    listed = list_log_files(objects)
    s3.put_object(Bucket=BUCKET, Key=_key("added", "20260302T1100Z"), Body=_body(INTRUDER))
    index = TermIndex()
    assert building.build(index, listed, workers=1).files == len(USERS)  # not the overwritten one
    (changed,) = (f for f in listed if "added" in f.location)
    assert index.look_up(listed).unindexed() == [changed]
    rows = answer(objects, q.events().with_filters(f.Actor(INTRUDER)), Window(), index=index).rows
    assert [r["event_id"] for r in rows] == [f"event-{INTRUDER}"]


# --- a file that changes while it is listed and read ---


@pytest.fixture
def logs(tmp_path: Path, cache_home: Path) -> Path:
    return day_folder(tmp_path / "logs")


def _intruder_rows(day: Path, index: TermIndex) -> list[str]:
    question = q.events().with_filters(f.Actor(INTRUDER))
    return [r["event_id"] for r in answer(_source(day), question, Window(), index=index).rows]


def test_a_file_rewritten_after_its_listing_is_not_indexed_under_the_listed_identity(
    logs: Path, settled: None
) -> None:
    path = write_log(logs / log_name("bobby"), _records("bobby"))
    listed = list_log_files(_source(logs))
    _rewrite(path, INTRUDER)
    index = TermIndex()
    assert building.build(index, listed, workers=1).files == 0
    assert index.look_up(listed).unindexed() == listed
    assert _intruder_rows(logs, index) == [f"event-{INTRUDER}"]


def test_a_file_rewritten_while_it_is_read_is_not_indexed(
    logs: Path, settled: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_log(logs / log_name("bobby"), _records("bobby"))
    listed = list_log_files(_source(logs))
    real_read = building.read_file

    def read_then_rewrite(location: str, limit: int) -> bytes:
        data = real_read(location, limit)
        _rewrite(Path(location), INTRUDER)  # lands after the bytes were read
        return data

    monkeypatch.setattr(building, "read_file", read_then_rewrite)
    index = TermIndex()
    assert building.build(index, listed, workers=1).files == 0
    assert _intruder_rows(logs, index) == [f"event-{INTRUDER}"]


def test_a_file_younger_than_the_timestamp_granularity_is_not_indexed(
    logs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a file system whose timestamps are coarse (FAT's are 2 s), a rewrite soon after a read can leave
    size, mtime and ctime as they were: the identity cannot tell. Simulated here by an identity without the
    times. A file is therefore indexed only once its ctime is `RACY_SECONDS` old: read just after it was
    written, it is left for later, and its rewrite is answered."""
    import audit_trail.store

    def coarse(st: os.stat_result) -> str:
        return f"{st.st_dev}:{st.st_ino}"

    monkeypatch.setattr(audit_trail.store, "version_of", coarse)
    monkeypatch.setattr(building, "version_of", coarse)
    path = write_log(logs / log_name("bobby"), _records("bobby"))
    index = TermIndex()
    assert building.build(index, list_log_files(_source(logs)), workers=1).files == 0
    write_log(path, _records(INTRUDER))  # same size, same inode: the same identity
    assert _intruder_rows(logs, index) == [f"event-{INTRUDER}"]


def test_an_object_s_identity_is_its_etag_and_when_it_was_written() -> None:
    """A plain upload's ETag is the MD5 of its bytes, and MD5 collisions can be made: an object rewritten with
    colliding bytes (same ETag, same size) is told apart by its later LastModified."""
    from datetime import UTC, datetime

    from audit_trail.store import etag_of, s3_version

    first = s3_version({"ETag": '"abc"', "LastModified": datetime(2026, 3, 2, 10, 0, 0, tzinfo=UTC)})
    again = s3_version({"ETag": '"abc"', "LastModified": datetime(2026, 3, 2, 10, 0, 1, tzinfo=UTC)})
    assert first != again and etag_of(first) == etag_of(again) == '"abc"'
    # a listing gives milliseconds, a GET whole seconds: the same object has one identity in both
    listed = s3_version({"ETag": '"abc"', "LastModified": datetime(2026, 3, 2, 10, 0, 0, 250000, tzinfo=UTC)})
    assert listed == first


def test_an_object_written_within_the_last_two_seconds_is_not_indexed(
    aws: str, cache_home: Path, background: list[list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """LastModified has a one-second grain: an object indexed at once could be rewritten, colliding, within
    the same second. It waits for the next question."""
    assert building.RACY_SECONDS >= 2  # a whole second of grain, and the clock's skew
    # The object is young for this test however long a loaded machine takes between writing and building.
    monkeypatch.setattr(building, "RACY_SECONDS", 600.0)
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key=_key("alice"), Body=_body("alice"))
    listed = list_log_files(f"s3://{BUCKET}/")
    assert building.build(TermIndex(), listed, workers=1).files == 0
