"""A list of events answered from the index's kept rows is the answer a scan gives: the same rows in the same
order, in every format, with the same report, for every filter a responder types, over real, generated and
hostile records. A file whose rows cannot stand for it is read, and a damaged copy is dropped and read."""

from __future__ import annotations

import gzip
import json
import random
import shutil
import signal
import sqlite3
from pathlib import Path
from typing import Any

import orjson
import pytest
from audit_trail.cache import build as building
from audit_trail.cache.index import TermIndex
from audit_trail.investigate.sources import list_log_files
from audit_trail.queries import questions as q
from audit_trail.window import Window
from support.cache import cli, same_answer
from support.logs import (
    day_folder,
    hostile_json,
    log_name,
    real_records,
    stratus_records,
    user_record,
    write_generated,
)

KEPT = "of them from the cache's copy of their events"


def _hostile() -> list[dict[str, Any]]:
    """Records an intruder may write that a scan still reads: names whose case folds oddly, controls and
    invisible characters, a repeated delivery and a same-id different record, identities of the wrong type
    or missing, times with fractions and offsets, huge numbers and deep request parameters."""
    base = user_record("alice", "hostile-0")
    odd = []
    names = (
        "İstanbul",
        "STRASSE",
        "straße",
        "\u212aelvin",
        "e\u0301clair",
        "ALICE",
        "\u039f\u0394\u03a5\u03a3\u03a3\u0395\u03a5\u03a3",
    )
    for n, name in enumerate(names):
        odd.append(user_record(name, f"hostile-name-{n}"))
    controls = {**base, "eventID": "hostile-ctl", "userAgent": "boto3\x1b[31m\u202e\u200b\x7f\x9b"}
    twin = {**base, "eventID": "hostile-twin"}
    same_id = {**base, "eventID": "hostile-twin", "sourceIPAddress": "198.51.100.9"}
    shapes = [
        {**base, "eventID": f"hostile-identity-{n}", "userIdentity": shape}
        for n, shape in enumerate(("alice", ["alice"], None, {"type": 7, "userName": ["x"]}))
    ]
    missing = {k: v for k, v in base.items() if k != "userIdentity"} | {"eventID": "hostile-no-identity"}
    times = [
        {**base, "eventID": "hostile-fraction", "eventTime": "2026-03-02T10:00:00.123456Z"},
        {**base, "eventID": "hostile-offset", "eventTime": "2026-03-02T12:00:00+02:00"},
        {**base, "eventID": None, "eventTime": "2026-03-02T10:00:00Z"},
    ]
    deep: Any = {"leaf": 1}
    for _ in range(60):
        deep = {"d": deep}
    numbers = {
        **base,
        "eventID": "hostile-numbers",
        "requestParameters": {"big": 2**63 - 1, "float": 1.5e300, "neg": -0.0, "deep": deep},
    }
    return [*odd, controls, twin, same_id, *shapes, missing, *times, numbers]


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Generated logs, real records (TrailDiscover, Stratus Red Team) and hostile ones, the twin delivered
    again in a second file, which an attacker wrote with escapes (`\\u0061` for `a`) and odd whitespace."""
    root = tmp_path_factory.mktemp("kept") / "logs"
    write_generated(root, events=1500, days=2)
    flat = day_folder(root, region="ap-south-1")
    hostile = _hostile()
    again = hostile_json([hostile[7]], random.Random(11))  # the list, not the key "Records": kept
    files = {
        "hostile": orjson.dumps({"Records": hostile}),
        "again": b'{"Records": ' + again + b"}",
        "real": orjson.dumps({"Records": real_records()}),
        "stratus": orjson.dumps({"Records": stratus_records()}),
    }
    for tag, body in files.items():
        (flat / log_name(tag, region="ap-south-1")).write_bytes(gzip.compress(body))
    return str(root)


@pytest.fixture(scope="module")
def built(source: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The index of SOURCE, built once for the module (each test gets a copy of its own)."""
    home = tmp_path_factory.mktemp("kept-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(home))
        patch.delenv("AUDIT_TRAIL_NO_CACHE", raising=False)
        patch.setattr(building, "RACY_SECONDS", 0.0)
        code, _, err = cli("cache", "build", source)
    assert code == 0 and "0 already known or not indexable" in err, err
    return home / "audit-trail"


@pytest.fixture
def warm(
    source: str, built: Path, cache_home: Path, background: list[list[str]], settled: None, rows_always: None
) -> str:
    shutil.copytree(built, cache_home)
    return source


QUESTIONS = {
    "every event": ("query",),
    "an actor": ("query", "--actor", "alice"),
    "an actor glob": ("query", "--actor", "*a?i*"),
    "a name whose case folds": ("query", "--actor", "straße"),
    "a capital sigma ending a word": ("query", "--actor", "\u03bf\u03b4\u03c5\u03c3\u03c3\u03b5\u03c5\u03c3"),
    "not an actor": ("query", "--not-actor", "alice", "--not-actor", "bob*"),
    "an action": ("query", "--action", "s3:*"),
    "not an action": ("query", "--not-action", "*Describe*", "--not-action", "*List*"),
    "a resource": ("query", "--resource", "*bucket*"),
    "an address": ("query", "--ip", "203.0.113.*"),
    "a user agent": ("query", "--user-agent", "*boto*"),
    "errors": ("query", "--errors"),
    "write only": ("query", "--write-only"),
    "a window": ("query", "--since", "2026-03-02T10:00:00Z", "--until", "2026-03-03T00:00:00Z"),
    "a bound within a second": ("query", "--since", "2026-03-02T10:00:00.1Z"),
    "a region": ("query", "--region", "eu-west-1"),
    "a limit": ("query", "--limit", "7"),
    "an event id": ("query", "--event-id", "hostile-twin"),
    "root usage": ("root-usage",),
    "denied": ("denied",),
    "deletions": ("deletions",),
    "who changed": ("who-changed", "*"),
}


@pytest.mark.parametrize("question", QUESTIONS)
def test_a_list_answered_from_the_kept_rows_is_the_scan_s(warm: str, question: str) -> None:
    rows, err = same_answer(warm, *QUESTIONS[question])
    assert KEPT in err, err
    if question == "every event":  # the repeat dropped once, the same-id different record kept
        assert [r["event_id"] for r in rows].count("hostile-twin") == 2 and "duplicate records dropped" in err


def test_a_question_that_reads_little_is_scanned(warm: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Below `MIN_BYTES` of files to read, a scan costs less than starting DuckDB."""
    from audit_trail.investigate import warm as kept

    files = list_log_files(warm)
    monkeypatch.setattr(kept, "MIN_BYTES", sum(f.size for f in files) + 1)
    _, err = same_answer(warm, "query")
    assert KEPT not in err, err
    monkeypatch.setattr(kept, "MIN_BYTES", sum(f.size for f in files))
    _, err = same_answer(warm, "query")
    assert KEPT in err, err


@pytest.mark.parametrize("fmt", ["csv", "table"])
def test_every_format_is_the_scan_s(warm: str, fmt: str) -> None:
    code, out, err = cli("query", warm, "--actor", "alice", "-f", fmt, "--limit", "0")
    plain = cli("query", warm, "--actor", "alice", "-f", fmt, "--limit", "0", "--no-cache")
    assert code == 0 and KEPT in err and (code, out) == plain[:2]


def test_a_file_with_a_record_a_scan_cannot_read_is_read(
    tmp_path: Path, cache_home: Path, settled: None, background: list[list[str]], rows_always: None
) -> None:
    """Whether such a record is counted depends on the question (only a kept record becomes a row): the
    file's rows are not kept, and every question that needs it reads it."""
    deep: Any = "x"
    for _ in range(300):
        deep = [deep]
    records = [user_record("alice", "fine"), {**user_record("alice", "nested"), "requestParameters": deep}]
    (tmp_path / "logs").mkdir()
    # json, not orjson: orjson writes at most 255 levels, as it reads at most 1,024
    (tmp_path / "logs" / "deep.json.gz").write_bytes(gzip.compress(json.dumps({"Records": records}).encode()))
    source = str(tmp_path / "logs")
    cli("cache", "build", source)
    for question in (("query", "--actor", "alice"), ("query", "--ip", "192.0.2.1")):
        _, err = same_answer(source, *question)
        assert KEPT not in err, err


def test_a_damaged_copy_of_rows_is_dropped_read_around_and_kept_again(warm: str, cache_home: Path) -> None:
    database = cache_home / "index.sqlite"
    with sqlite3.connect(database) as db:
        folder, first, body = db.execute(
            "SELECT folder, first, rows FROM segment WHERE length(rows) > 0 ORDER BY folder LIMIT 1"
        ).fetchone()
        damaged = bytearray(body)
        damaged[len(damaged) // 2] ^= 0xFF
        db.execute(
            "UPDATE segment SET rows = ? WHERE folder = ? AND first = ?", (bytes(damaged), folder, first)
        )
    db.close()
    _, err = same_answer(warm, "query")
    assert KEPT not in err and "Cache: a damaged copy of event rows was dropped: its files are read" in err
    cli("cache", "build", warm)  # what the question started in the background
    _, err = same_answer(warm, "query")
    assert KEPT in err and "damaged" not in err


@pytest.mark.parametrize(
    "counts",
    ["[[1, -1]]", "[[5, 0", None, "well formed"],
    ids=["of the wrong shape", "cut short", "gone", "changed, still well formed"],
)
def test_counts_changed_beside_their_rows_are_not_trusted(
    warm: str, cache_home: Path, counts: str | None
) -> None:
    """A changed `counts` would change the report (records read, records skipped): the rows' checksum covers
    it, so a well-formed change is found too. Either way the damage is said, and the rows are kept again
    by the next build."""
    with sqlite3.connect(cache_home / "index.sqlite") as db:
        rowid, held = db.execute(
            "SELECT rowid, counts FROM segment WHERE row_files > 0 ORDER BY rowid LIMIT 1"
        ).fetchone()
        if counts == "well formed":
            changed = orjson.loads(held)
            changed[0] = [changed[0][0] + 1, 5]
            counts = orjson.dumps(changed).decode()
        db.execute("UPDATE segment SET counts = ? WHERE rowid = ?", (counts, rowid))
    db.close()
    _, err = same_answer(warm, "query")
    assert KEPT not in err and "damaged" in err, err
    cli("cache", "build", warm)  # what the question started in the background
    _, err = same_answer(warm, "query")
    assert KEPT in err and "damaged" not in err, err


def test_rows_moved_to_another_segment_are_not_answered(warm: str, cache_home: Path) -> None:
    """Each copy checks out on its own, but not with the other segment's files."""
    with sqlite3.connect(cache_home / "index.sqlite") as db:
        (a, rows_a, sum_a), (b, rows_b, sum_b) = db.execute(
            "SELECT rowid, rows, rows_checksum FROM segment WHERE length(rows) > 0 ORDER BY rowid LIMIT 2"
        ).fetchall()
        db.execute("UPDATE segment SET rows = ?, rows_checksum = ? WHERE rowid = ?", (rows_b, sum_b, a))
        db.execute("UPDATE segment SET rows = ?, rows_checksum = ? WHERE rowid = ?", (rows_a, sum_a, b))
    db.close()
    _, err = same_answer(warm, "query")
    assert KEPT not in err and "damaged copy of event rows" in err, err


def test_a_segment_stored_again_after_the_look_up_gives_no_rows(
    tmp_path: Path, cache_home: Path, settled: None
) -> None:
    """A build that stores a folder's block again between a question's look-up and its reading of the rows
    (a file added in the middle of the block moves the files after it): the look-up's places in the block
    would name other files, so the question reads the files."""
    day = day_folder(tmp_path / "logs")
    for tag in ("a", "c"):
        (day / log_name(tag)).write_bytes(gzip.compress(orjson.dumps({"Records": [user_record(tag, tag)]})))
    index = TermIndex()
    building.build(index, list_log_files(str(tmp_path / "logs")), workers=1)
    listed = list_log_files(str(tmp_path / "logs"))
    lookup = index.look_up(listed)
    (day / log_name("b")).write_bytes(gzip.compress(orjson.dumps({"Records": [user_record("b", "b")]})))
    building.build(index, list_log_files(str(tmp_path / "logs")), workers=1)
    assert index.look_up(listed).kept_rows(listed, tmp_path) is not None  # as the files are now
    assert lookup.kept_rows(listed, tmp_path) is None and not index.warnings
    index.close()


def test_rows_duckdb_cannot_read_are_scanned_around(warm: str, cache_home: Path) -> None:
    """Kept rows that check out but are no Parquet DuckDB can read (a bug, a DuckDB of another version): the
    question is scanned, with the same answer, never a traceback."""
    from audit_trail.cache.index import _rows_checksum

    body = b"PAR1 not parquet PAR1"
    with sqlite3.connect(cache_home / "index.sqlite") as db:
        rowid, checksum, counts = db.execute(
            "SELECT rowid, checksum, counts FROM segment WHERE row_files > 0 ORDER BY rowid LIMIT 1"
        ).fetchone()
        db.execute(
            "UPDATE segment SET rows = ?, rows_checksum = ? WHERE rowid = ?",
            (body, _rows_checksum(checksum, counts, body), rowid),
        )
    db.close()
    _, err = same_answer(warm, "query")
    assert KEPT not in err and "damaged" not in err, err


def test_no_room_for_the_copies_of_rows_means_a_scan(
    warm: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    real = Path.write_bytes

    def full(path: Path, data: bytes) -> int:
        if path.name.startswith("kept-") and path.name != "kept-00000.parquet":
            raise OSError(28, "No space left on device")
        return real(path, data)

    monkeypatch.setattr(Path, "write_bytes", full)
    _, err = same_answer(warm, "query")
    assert KEPT not in err, err


def test_ctrl_c_in_duckdb_is_ctrl_c(warm: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """DuckDB raises SIGINT as `RuntimeError: Query interrupted`: it ends the command as Ctrl-C does (130,
    scratch removed), not as a traceback."""
    from audit_trail.investigate import local

    class Interrupted:
        def execute(self, *_: Any) -> Any:
            raise RuntimeError("Query interrupted")

        def close(self) -> None:
            pass

    monkeypatch.setattr(local, "_duckdb", lambda scratch: Interrupted())
    with pytest.raises(KeyboardInterrupt):
        local.answer(warm, q.events(), Window(), index=TermIndex())


def test_sigterm_in_duckdb_is_sigterm(warm: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """`kill` while DuckDB runs the query: DuckDB raises it as it raises Ctrl-C, and the command still
    exits with SIGTERM's code (143), not Ctrl-C's (130): a job can tell the two apart."""
    from audit_trail import stops
    from audit_trail.investigate import local

    class Stopped:
        def execute(self, *_: Any) -> Any:
            stops.stopped_by(signal.SIGTERM)  # the handler notes the signal and raises its exit ...
            raise RuntimeError("Query interrupted")  # ... which DuckDB turns into this

        def close(self) -> None:
            pass

    monkeypatch.setattr(stops, "_signal", None)
    monkeypatch.setattr(local, "_duckdb", lambda scratch: Stopped())
    with pytest.raises(SystemExit) as stopped:
        local.answer(warm, q.events(), Window(), index=TermIndex())
    assert stopped.value.code == 128 + signal.SIGTERM


def test_too_much_to_sort_is_scanned(warm: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from audit_trail.investigate import warm as kept

    monkeypatch.setattr(kept, "SORT_BYTES", 1000)
    _, err = same_answer(warm, "query")
    assert KEPT not in err, err
    monkeypatch.setattr(kept, "SORT_BYTES", 1 << 30)
    _, err = same_answer(warm, "query")
    assert KEPT in err, err


def test_no_room_for_the_build_s_scratch_keeps_the_terms(
    tmp_path: Path, cache_home: Path, settled: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    day = day_folder(tmp_path / "logs")
    (day / log_name("a")).write_bytes(gzip.compress(orjson.dumps({"Records": [user_record("a", "a")]})))
    real = building.tempfile.TemporaryDirectory

    def full(*args: Any, **kwargs: Any) -> Any:
        if str(kwargs.get("prefix", "")).startswith("audit-trail-rows-"):
            raise OSError(28, "No space left on device")
        return real(*args, **kwargs)

    monkeypatch.setattr(building.tempfile, "TemporaryDirectory", full)
    index = TermIndex()
    assert building.build(index, list_log_files(str(tmp_path / "logs")), workers=1).files == 1
    assert index.info().row_files == 0
    index.close()


@pytest.mark.parametrize(("signalled", "code"), [(None, None), (signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_a_stop_while_rows_are_encoded_ends_the_build_with_its_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, signalled: int | None, code: int | None
) -> None:
    """DuckDB failing to encode a block's rows costs only the rows (the terms are kept); a stop while it
    encodes them ends the build, with the signal's code, as everywhere DuckDB runs."""
    from audit_trail import stops
    from audit_trail.cache import rows

    def encode(lines: Path, target: Path) -> bytes:
        if signalled is not None:
            stops.stopped_by(signalled)
        raise RuntimeError("Query interrupted") if signalled is not None else OSError("no space left")

    monkeypatch.setattr(stops, "_signal", None)
    monkeypatch.setattr(rows, "_parquet", encode)
    block = rows.BlockRows(tmp_path)
    block.add([b'{"row": 1}'])
    if code is None:
        assert block.encoded() is None
    else:
        with pytest.raises(SystemExit) as stopped:
            block.encoded()
        assert stopped.value.code == code
