"""A report reads only the log files its Integrity section judged.

An intruder who can write to the bucket but cannot sign digests plants a root sign-in in files that the
questions of a window read but `verify` of that window never looks at: one filed in a day folder CloudTrail
never writes (`3` for `03`), one in the day folder after the window (read for late deliveries), one in the
window's first day named for an hour before `--since`. Before, the report said Integrity PASS and listed the
planted sign-ins as the root user's activity.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from audit_trail.cli.app import app
from audit_trail.errors import UserError
from audit_trail.integrity.public_keys import KeyProvider, saved_keys
from audit_trail.investigate.ask import ask
from audit_trail.investigate.sample_logs import ACCOUNT, generate
from audit_trail.investigate.sources import list_log_files
from audit_trail.queries import questions as q
from audit_trail.report.evidence import Evidence
from audit_trail.report.gather import Request, gather
from audit_trail.store import FolderStore
from audit_trail.window import Window
from typer.testing import CliRunner

START = datetime(2026, 3, 2, tzinfo=UTC)
SINCE, UNTIL = START + timedelta(hours=6), START + timedelta(days=2)
REGION = "us-east-1"
PLANTED = ("planted-odd-folder", "planted-next-day", "planted-before-since", "planted-other-digits")


def _plant(root: Path, folder: str, named: datetime, event_time: datetime, event_id: str) -> None:
    record = {
        "eventVersion": "1.09",
        "userIdentity": {"type": "Root", "principalId": ACCOUNT, "arn": f"arn:aws:iam::{ACCOUNT}:root"},
        "eventTime": f"{event_time:%Y-%m-%dT%H:%M:%SZ}",
        "eventSource": "signin.amazonaws.com",
        "eventName": "ConsoleLogin",
        "awsRegion": REGION,
        "sourceIPAddress": "203.0.113.66",
        "responseElements": {"ConsoleLogin": "Success"},
        "eventID": event_id,
        "eventType": "AwsConsoleSignIn",
        "recipientAccountId": ACCOUNT,
    }
    where = root / f"AWSLogs/{ACCOUNT}/CloudTrail/{REGION}/{folder}"
    where.mkdir(parents=True, exist_ok=True)
    unique = hashlib.sha256(event_id.encode()).hexdigest()[:16]  # a name as CloudTrail's: it passes as one
    name = f"{ACCOUNT}_CloudTrail_{REGION}_{named:%Y%m%dT%H%MZ}_{unique}.json.gz"
    (where / name).write_bytes(gzip.compress(json.dumps({"Records": [record]}).encode()))


@pytest.fixture(scope="module")
def forged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("forged") / "logs"
    generate(root, events=300, days=3, regions=(REGION,))
    inside = START + timedelta(days=1, hours=10)
    _plant(root, "2026/03/3", inside, inside - timedelta(minutes=4), PLANTED[0])
    _plant(root, "2026/03/\u0660\u0663", inside, inside - timedelta(minutes=4), PLANTED[3])
    after = UNTIL + timedelta(minutes=130)  # past the last digest verify reads (until + 1 h)
    _plant(root, f"{after:%Y/%m/%d}", after, UNTIL - timedelta(minutes=10), PLANTED[1])
    before = START + timedelta(minutes=5)
    _plant(root, f"{before:%Y/%m/%d}", before, SINCE + timedelta(hours=4), PLANTED[2])
    return root


def report_of(forged: Path, until: datetime = UNTIL, keys: KeyProvider | None = None) -> Evidence:
    """The report's evidence over FORGED from SINCE to UNTIL, with the sample's saved keys by default."""
    return gather(
        Request(
            store=FolderStore(forged),
            keys=keys or saved_keys([str(forged / "public-keys")], "--public-keys"),
            logs=str(forged),
            since=SINCE,
            until=until,
            sources=["logs"],
            command_line=["audit-trail", "report"],
            tool_version="0.1.0",
        )
    )


def test_no_question_reads_a_day_folder_cloudtrail_never_writes(forged: Path) -> None:
    listed = list_log_files(str(forged), Window(SINCE, UNTIL))
    assert listed and all(f.day and f"/{f.day:%Y/%m/%d}/" in f.location for f in listed)
    assert not [f for f in listed if "/2026/03/3/" in f.location or "\u0660" in f.location]


def test_the_report_leaves_out_files_its_integrity_check_did_not_judge(forged: Path) -> None:
    evidence = report_of(forged)
    assert evidence.verify.ok  # every file the report read is proven, and the planted ones were not read
    shown = json.dumps([t.to_dict() for t in evidence.activity])
    assert not [p for p in PLANTED if p in shown]
    assert any(t.rows for t in evidence.activity)  # the sample's own events are still answered
    # every record of the window, those in files delivered hours after it included (signed, so read)
    assert evidence.charts.records == len(answer_rows(forged))
    # the planted files delivered outside the window, and the sample's own (which hold later events only)
    unread = r"\d+ log files in the window's folders were not read"
    assert [n for n in evidence.scan_notes if re.match(unread, n)]


def test_verify_says_how_many_files_a_question_would_read_that_it_did_not_judge(forged: Path) -> None:
    args = ["verify", "--folder", str(forged), "--public-keys", str(forged / "public-keys")]
    run = CliRunner().invoke(app, [*args, "--since", SINCE.isoformat(), "--until", UNTIL.isoformat()])
    assert run.exit_code == 0, run.output  # what it judged is intact: the PASS is its own
    said = re.search(r"(\d+) log files that a question over this window also reads", run.stderr)
    assert said is not None, run.stderr
    # the two planted files delivered outside the window's hours among them; the report, which also verifies
    # the hours after the window, reads the genuine late ones and leaves out only those two
    assert int(said[1]) > 2 and _left_out(forged) == 2


def answer_rows(forged: Path) -> list[dict[str, object]]:
    rows = ask(q.events(), source=str(forged), window=Window(SINCE, UNTIL)).rows
    return [r for r in rows if r["event_id"] not in PLANTED]


def _left_out(forged: Path) -> int:
    notes = report_of(forged).scan_notes
    return next(int(n.split()[0]) for n in notes if "were not read" in n)


def test_a_window_ending_mid_day_keeps_the_events_delivered_hours_after_it(forged: Path) -> None:
    """The sample delivers a file every six hours: the window's last events sit in a file named hours after
    `--until`, which only a digest after the window lists: the report verifies those hours too, and reads
    it."""
    until = START + timedelta(days=1, hours=9)
    evidence = report_of(forged, until)
    rows = ask(q.events(), source=str(forged), window=Window(SINCE, until)).rows
    assert evidence.verify.ok and evidence.charts.records == len(
        [r for r in rows if r["event_id"] not in PLANTED]
    )


def test_the_report_is_written_when_the_hours_after_its_period_cannot_be_verified(forged: Path) -> None:
    """Public keys saved for the period only: the run over the hours after it fails, and the report is still
    written from what the period's own run judged, its late files left out and counted."""
    saved = saved_keys([str(forged / "public-keys")], "--public-keys")

    def period_only(region: str, start: datetime, end: datetime) -> Any:
        if end > UNTIL + timedelta(hours=2):
            raise UserError(f"--public-keys: no key for {region} after the period")
        return saved(region, start, end)

    evidence = report_of(forged, keys=period_only)
    assert evidence.verify.ok
    assert [
        n for n in evidence.scan_notes if re.match(r"\d+ log files in the window's folders were not read", n)
    ]
