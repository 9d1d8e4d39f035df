"""The scanner against attacker-written records and planted files: each is skipped, counted and named, the
rest is answered; nothing crashes, hangs or silently drops events."""

from __future__ import annotations

import gzip
import io
import json
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import orjson
import pytest
from audit_trail.cli.app import app
from audit_trail.cli.output import json_list
from audit_trail.errors import CannotRunError
from audit_trail.investigate import log_bytes, scanner
from audit_trail.investigate.local import answer
from audit_trail.investigate.scanner import ScanPlan, scan
from audit_trail.investigate.sources import list_log_files
from audit_trail.queries import questions as q
from audit_trail.window import Window
from support.logs import report_of
from typer.testing import CliRunner

ACCOUNT = "123456789012"
DAY = ("eu-west-1", "2026/03/03")


def record(**fields: Any) -> dict[str, Any]:
    base = {
        "eventVersion": "1.09",
        "eventTime": "2026-03-03T10:00:00Z",
        "eventSource": "s3.amazonaws.com",
        "eventName": "DeleteBucket",
        "awsRegion": "eu-west-1",
        "eventID": f"e-{len(json.dumps(fields))}-{sorted(fields)}",
        "userIdentity": {"type": "IAMUser", "userName": "alice", "arn": f"arn:aws:iam::{ACCOUNT}:user/alice"},
        "requestParameters": {"bucketName": "b"},
        "readOnly": False,
    }
    return {**base, **fields}


def write(root: Path, name: str, records: list[Any] | bytes, day: tuple[str, str] = DAY) -> Path:
    folder = root / "AWSLogs" / ACCOUNT / "CloudTrail" / day[0] / day[1]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    # The standard library writes what orjson refuses (nesting beyond 255 levels), as other writers do.
    body = records if isinstance(records, bytes) else gzip.compress(json.dumps({"Records": records}).encode())
    path.write_bytes(body)
    return path


def nested(depth: int) -> Any:
    value: Any = "bottom"
    for _ in range(depth):
        value = [value]
    return value


def test_one_malformed_record_never_stops_an_answer(tmp_path: Path) -> None:
    write(
        tmp_path,
        "hostile.json.gz",
        [
            record(eventID="ok"),
            record(eventID="arn-int", userIdentity={"type": "AssumedRole", "arn": 12345}),
            record(eventID="arn-object", userIdentity={"type": "AssumedRole", "arn": {"/": 1}}),
            record(eventID="deep", requestParameters={"deep": nested(300)}),
            record(eventID="typed", userIdentity={"type": ["IAMUser"], "userName": {"x": 1}}, awsRegion=7),
            record(eventID="huge", requestParameters={"blob": "x" * (scanner.MAX_ROW_BYTES + 10)}),
            record(eventID="strings", requestParameters="a string", responseElements=["a", "list"]),
        ],
    )
    result = answer(str(tmp_path), q.deletions(), Window())
    # nested deeper than orjson writes (255 levels): answered like any other, not dropped as unreadable
    assert sorted(r["event_id"] for r in result.rows) == [
        "arn-int",
        "arn-object",
        "deep",
        "ok",
        "strings",
        "typed",
    ]
    report = report_of(result)
    assert report.unreadable_records == {f"larger than {scanner.MAX_ROW_BYTES >> 20} MiB as a row": 1}
    text = "\n".join(report.summary())
    assert "skipped 1 records that could not be read: larger than" in text
    for args in (
        ["deletions", str(tmp_path)],
        ["query", str(tmp_path), "--sql", "SELECT count(*) FROM events"],
    ):
        run = CliRunner().invoke(app, args)
        assert run.exit_code == 0, run.output


def test_a_symlink_out_of_the_folder_is_never_read(tmp_path: Path) -> None:
    """A link planted in an evidence folder must not make a question read a file of the machine (its
    events, or its terms into the cache); links that stay inside the folder are read."""
    outside = write(tmp_path / "elsewhere", "outside.json.gz", [record(eventID="from-outside")])
    logs = tmp_path / "logs"
    inside = write(logs, "inside.json.gz", [record(eventID="inside")])
    (inside.parent / "link-out.json.gz").symlink_to(outside)
    (inside.parent / "link-in.json.gz").symlink_to(inside)
    (inside.parent / "folder-out").symlink_to(outside.parent, target_is_directory=True)
    run = CliRunner().invoke(app, ["query", str(logs), "-f", "json"])
    assert run.exit_code == 0, run.output
    assert [r["event_id"] for r in json.loads(run.stdout)] == ["inside"]  # the link inside: its repeat
    assert "link-out.json.gz: a symlink that leads out of the folder: not read" in run.stderr
    assert "from-outside" not in run.output


def test_a_root_call_nested_as_deep_as_the_parser_reads_is_in_every_answer(tmp_path: Path) -> None:
    """orjson reads 1,024 levels but writes 255: a root StopLogging whose request nests 1,000 levels was
    dropped from root-usage as "nested too deeply", and its table's `change` column overflowed the stack."""
    call = record(
        eventID="deep-root",
        eventName="StopLogging",
        eventSource="cloudtrail.amazonaws.com",
        userIdentity={"type": "Root", "arn": f"arn:aws:iam::{ACCOUNT}:root", "principalId": ACCOUNT},
        requestParameters={"name": "audit", "deep": "PLACE"},
    )
    depth = 1000
    text = json.dumps({"Records": [call]}).replace('"PLACE"', '{"a":' * depth + '"x"' + "}" * depth)
    write(tmp_path, "deep.json.gz", gzip.compress(text.encode()))
    for fmt in ("table", "json", "csv"):
        run = CliRunner().invoke(app, ["root-usage", str(tmp_path), "-f", fmt, "--no-cache"])
        assert run.exit_code == 0, run.output
        assert "StopLogging" in run.stdout and "could not be read" not in run.output
    run = CliRunner().invoke(app, ["root-usage", str(tmp_path), "-f", "json", "--no-cache"])
    (row,) = orjson.loads(run.stdout)
    inner = row["request_parameters"]["deep"]
    for _ in range(depth):
        inner = inner["a"]
    assert (row["event_id"], inner) == ("deep-root", "x")
    run = CliRunner().invoke(
        app, ["query", str(tmp_path), "--sql", "SELECT event_id FROM events", "--no-cache"]
    )
    assert run.exit_code == 0 and "deep-root" in run.stdout, run.output


@pytest.mark.parametrize(
    "text",
    ["2026-03-03 22:00:00.000", "2026-03-03T22:00:00.123Z", "2026-03-04T01:00:00+03:00", "20260303T220000Z"],
)
def test_every_form_of_event_time_falls_in_its_window(tmp_path: Path, text: str) -> None:
    write(
        tmp_path, "odd.json.gz", [record(eventID="odd", eventTime=text), record(eventID="bad", eventTime="x")]
    )
    inside = Window(datetime(2026, 3, 3, 22, tzinfo=UTC), datetime(2026, 3, 3, 22, 1, tzinfo=UTC))
    result = answer(str(tmp_path), q.events(), inside)
    assert [r["event_id"] for r in result.rows] == ["odd"]
    assert report_of(result).bad_records == 1  # the time that names no moment: skipped, counted
    before = Window(datetime(2026, 3, 3, 21, tzinfo=UTC), datetime(2026, 3, 3, 22, tzinfo=UTC))
    assert answer(str(tmp_path), q.events(), before).rows == []


def test_a_window_with_an_offset_means_that_instant(generated_trail: tuple[Path, Any]) -> None:
    source = str(generated_trail[0])
    since, until = datetime(2026, 3, 2, 10, tzinfo=UTC), datetime(2026, 3, 2, 18, tzinfo=UTC)
    utc_rows = answer(source, q.events(), Window(since, until)).rows
    for hours in (14, 9, -11):
        zone = timezone(timedelta(hours=hours))
        shifted = Window(since.astimezone(zone), until.astimezone(zone))
        assert answer(source, q.events(), shifted).rows == utc_rows
    assert len(utc_rows) > 100


def test_a_file_that_inflates_past_the_bound_is_skipped_and_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(log_bytes, "MAX_FILE_BYTES", 1 << 20)
    bomb = write(tmp_path, "bomb.json.gz", gzip.compress(b'{"Records": [' + b" " * (3 << 20) + b"]}"))
    write(tmp_path, "good.json.gz", [record(eventID="ok")])
    result = answer(str(tmp_path), q.events(), Window())
    assert [r["event_id"] for r in result.rows] == ["ok"]
    (bad,) = report_of(result).bad_files
    assert bad.location == str(bomb) and "inflates to more than 1 MiB" in bad.reason


def test_filesystem_oddities_are_skipped_and_named(tmp_path: Path) -> None:
    good = write(tmp_path, "good.json.gz", [record(eventID="ok")])
    day = good.parent
    os.symlink(day / "loop.json.gz", day / "loop.json.gz")
    os.symlink(day / "nothing-here", day / "dangling.json.gz")
    os.mkfifo(day / "fifo.json.gz")
    os.symlink(os.devnull, day / "device.json.gz")  # a link to a device, out of the folder: never opened
    os.symlink(day.parent / "looping", day.parent / "looping")  # a day "folder" that loops
    # And outside the layout: an export folder with the same oddities.
    export = tmp_path / "export"
    export.mkdir()
    os.mkfifo(export / "fifo.json.gz")
    os.symlink(export / "gone", export / "dangling.json")
    (export / "ok.json").write_bytes(orjson.dumps({"Records": [record(eventID="exported")]}))
    for source, kept in ((tmp_path, ["ok"]), (export, ["exported"])):
        result = answer(str(source), q.events(), Window())
        assert [r["event_id"] for r in result.rows] == kept
        named = {Path(b.location).name: b.reason for b in report_of(result).bad_files}
        assert "fifo.json.gz" in named and "not a regular file" in named["fifo.json.gz"]
        assert "dangling" in " ".join(named) and any("dangling symlink" in r for r in named.values())
    named = {
        Path(b.location).name: b.reason
        for b in report_of(answer(str(tmp_path), q.events(), Window())).bad_files
    }
    assert "leads out of the folder" in named["device.json.gz"]
    assert any(
        "loop" in Path(b.location).name
        for b in report_of(answer(str(tmp_path), q.events(), Window())).bad_files
    )


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a folder whatever its mode")
def test_an_unreadable_folder_is_named(tmp_path: Path) -> None:
    good = write(tmp_path, "good.json.gz", [record(eventID="ok")])
    locked = good.parent.parent / "04"
    locked.mkdir()
    locked.chmod(0)
    try:
        result = answer(str(tmp_path), q.events(), Window())
        assert any("cannot list it" in b.reason for b in report_of(result).bad_files)
    finally:
        locked.chmod(0o755)


class KillTheWorker:
    """A row mapper that kills the process it runs in, as the OOM killer would."""

    def __call__(self, record: dict[str, Any], row: Any) -> Any:
        if record.get("eventID") == "poison" and multiprocessing_child():
            os.kill(os.getpid(), signal.SIGKILL)
        return ()


def multiprocessing_child() -> bool:
    import multiprocessing

    return multiprocessing.parent_process() is not None


def test_a_dead_worker_is_an_error_not_a_hang(tmp_path: Path) -> None:
    for i in range(80):
        write(tmp_path, f"f{i:03d}.json.gz", [record(eventID="poison" if i == 40 else f"r{i}")])
    files = list_log_files(str(tmp_path))
    with pytest.raises(CannotRunError, match="worker process died"):
        scan(files, ScanPlan(mapper=KillTheWorker()), tmp_path / "out", workers=2)


def test_repeated_deliveries_count_once(tmp_path: Path) -> None:
    event = record(eventID="same")
    write(tmp_path, "first.json.gz", [event, record(eventID="other")])
    write(tmp_path, "again.json.gz", [event])  # delivered twice, identical
    write(tmp_path, "sanitised.json.gz", [record(eventID="same", eventName="DeleteObject")])  # differs: kept
    result = answer(str(tmp_path), q.deletions(), Window())
    assert sorted(r["event_id"] for r in result.rows) == ["other", "same", "same"]
    assert report_of(result).duplicates == 1
    assert "1 duplicate records dropped" in "\n".join(report_of(result).summary())


def test_sources_people_have(tmp_path: Path) -> None:
    records = [record(eventID="one"), record(eventID="two")]
    single = tmp_path / "single.json.gz"
    single.write_bytes(gzip.compress(orjson.dumps({"Records": records})))
    plain = tmp_path / "plain.json"
    plain.write_bytes(orjson.dumps({"Records": records}))
    lines = tmp_path / "lines"
    lines.mkdir()
    (lines / "a.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n{broken\n")
    lookup = tmp_path / "lookup"
    lookup.mkdir()
    (lookup / "events.json").write_text(
        json.dumps({"Events": [{"EventId": r["eventID"], "CloudTrailEvent": json.dumps(r)} for r in records]})
    )
    for source in (single, plain, lines, lookup):
        result = answer(str(source), q.events(), Window())
        assert sorted(r["event_id"] for r in result.rows) == ["one", "two"], source
    assert report_of(answer(str(lines), q.events(), Window())).bad_records == 1


def test_a_closed_pipe_ends_quietly(generated_trail: tuple[Path, Any]) -> None:
    source = generated_trail[0]
    command = f"{sys.executable} -c 'from audit_trail.cli import main; main()' query {source} -f json"
    # pipefail: the pipeline's status is the CLI's own when its reader goes away early.
    done = subprocess.run(
        ["bash", "-c", f"set -o pipefail; {command} | head -c 10"], capture_output=True, text=True
    )
    assert done.stdout.startswith("[")
    assert done.stderr == "", done.stderr
    assert done.returncode == 0


def test_a_request_nested_to_inflate_its_indented_text_is_still_answered(tmp_path: Path) -> None:
    """A list's rows are kept as their indented JSON text, which nesting inflates: 6,000 short strings 120
    arrays deep are 40 KB of JSON but over a megabyte indented. The row's size is its own, not its text's:
    the record is answered (not dropped as too large), and written as any other row is."""
    deep: Any = ["ab"] * 6000
    for _ in range(120):
        deep = [deep]
    assert (
        len(orjson.dumps(deep))
        < 50_000
        < scanner.MAX_ROW_BYTES
        < len(orjson.dumps(deep, option=orjson.OPT_INDENT_2))
    )
    write(tmp_path, "inflated.json.gz", [record(eventID="inflated", requestParameters={"p": deep}), record()])
    question = q.events().with_tactics()
    from_texts = answer(str(tmp_path), question, Window())
    assert from_texts.texts is not None
    texts, rows = io.StringIO(), io.StringIO()
    json_list(from_texts.texts, texts)
    decoded = answer(str(tmp_path), question, Window())
    json_list(decoded.rows, rows)
    assert texts.getvalue() == rows.getvalue()
    written = {row["event_id"]: row for row in json.loads(texts.getvalue())}
    assert written["inflated"]["request_parameters"] == {"p": deep} and len(written) == 2
    assert decoded.report is not None and not decoded.report.unreadable_records
