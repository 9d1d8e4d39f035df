"""Sources (the key layout is the index), the scanner's bad-file handling, the filters' two forms agreeing."""

from __future__ import annotations

import gzip
import io
import json
import os
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pytest
from audit_trail.cli.output import json_list
from audit_trail.errors import UserError
from audit_trail.investigate.events import EventRow, event_listing, flatten
from audit_trail.investigate.listing import Columns
from audit_trail.investigate.local import answer
from audit_trail.investigate.scanner import ScanPlan, read_rows, scan
from audit_trail.investigate.sources import list_log_files
from audit_trail.queries import filters as f
from audit_trail.queries import questions as q
from audit_trail.queries.events_view import COLUMNS
from audit_trail.queries.prefilter import may_hold
from audit_trail.queries.questions import EVENT_COLUMNS
from audit_trail.times import parse_instant
from audit_trail.window import Window
from support.logs import real_records, report_of, stratus_records, write_generated, write_real_folder

ACCOUNT = "123456789012"


def _log(
    root: Path, region: str, day: str, name: str, payload: bytes, account: str = ACCOUNT, org: str = ""
) -> Path:
    folder = root / "AWSLogs" / org / account / "CloudTrail" / region / day
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(payload)
    return path


def _record(**extra: Any) -> dict[str, Any]:
    return {
        "eventTime": "2026-03-02T10:00:00Z",
        "eventSource": "s3.amazonaws.com",
        "eventName": "ListBuckets",
        "awsRegion": "eu-west-1",
        "eventID": "e-" + str(len(extra)),
        "userIdentity": {
            "type": "IAMUser",
            "userName": "alice",
            "arn": "arn:aws:iam::123456789012:user/alice",
        },
        **extra,
    }


# --- sources ----------------------------------------------------------------------------------------------


def test_only_the_days_regions_and_accounts_of_the_window_are_listed(tmp_path: Path) -> None:
    for day in ("2026/02/28", "2026/03/01", "2026/03/02", "2026/03/03", "2026/04/01"):
        for region in ("us-east-1", "eu-west-1"):
            _log(tmp_path, region, day, f"{region}-{day[-2:]}.json.gz", b"")
    _log(tmp_path, "us-east-1", "2026/03/02", "other.json.gz", b"", account="210987654321")
    window = Window(
        since=datetime(2026, 3, 1, 6, tzinfo=UTC),
        until=datetime(2026, 3, 2, 6, tzinfo=UTC),
        regions=frozenset({"eu-west-1"}),
        accounts=frozenset({ACCOUNT}),
    )
    files = list_log_files(str(tmp_path), window)
    # 03/01 and 03/02, plus 03/03: a file is filed by its delivery time, after its events.
    assert [(f.region, f.day) for f in files] == [
        ("eu-west-1", date(2026, 3, 1)),
        ("eu-west-1", date(2026, 3, 2)),
        ("eu-west-1", date(2026, 3, 3)),
    ]
    assert all(f.account == ACCOUNT for f in files)


@pytest.mark.parametrize("org", ["", "o-abcdefghij"], ids=["accounts", "an organization's accounts"])
def test_every_account_of_a_source_is_listed(tmp_path: Path, org: str) -> None:
    """A bucket an organization trail (or several trails) writes to holds a folder per account: each is read,
    whichever is listed first."""
    accounts = (ACCOUNT, "210987654321", "333333333333")
    made = [
        _log(tmp_path, region, "2026/03/02", f"{account}-{region}.json.gz", b"", account=account, org=org)
        for account in accounts
        for region in ("us-east-1", "eu-west-1")
    ]
    files = list_log_files(str(tmp_path))
    assert sorted(f.location for f in files) == sorted(map(str, made))
    assert {f.account for f in files} == set(accounts)


def test_digest_folders_are_never_listed_as_logs(tmp_path: Path) -> None:
    known = write_generated(tmp_path, events=100, days=2)
    files = list_log_files(str(tmp_path))
    assert len(files) == known.log_files
    assert not any("CloudTrail-Digest" in f.location for f in files)
    digests = list_log_files(str(tmp_path), digests=True)
    assert digests and all("CloudTrail-Digest" in f.location for f in digests)


def test_a_folder_inside_the_layout_and_an_organization_layout(tmp_path: Path) -> None:
    org = tmp_path / "org"
    path = _log(org, "eu-west-1", "2026/03/02", "a.json.gz", b"", org="o-abcdefghij")
    assert [f.location for f in list_log_files(str(org))] == [str(path)]
    inside = org / "AWSLogs" / "o-abcdefghij" / ACCOUNT
    assert [f.account for f in list_log_files(str(inside))] == [ACCOUNT]


def test_any_other_export_is_walked_whole(tmp_path: Path) -> None:
    (tmp_path / "export" / "x").mkdir(parents=True)
    (tmp_path / "export" / "x" / "part1.json").write_bytes(orjson.dumps({"Records": [_record()]}))
    (tmp_path / "export" / "notes.txt").write_text("not a log")
    files = list_log_files(str(tmp_path / "export"))
    assert [Path(f.location).name for f in files] == ["part1.json"]


def test_a_missing_folder_is_a_user_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"SOURCE .*nope.*no such folder"):
        list_log_files(str(tmp_path / "nope"))
    os.mkfifo(tmp_path / "fifo")  # it exists: named as what it is, and never opened (which would block)
    with pytest.raises(UserError, match=r"SOURCE .*fifo.*not a folder or a plain file \(a FIFO"):
        list_log_files(str(tmp_path / "fifo"))


# --- bad files and records --------------------------------------------------------------------------------


@pytest.fixture
def damaged(tmp_path: Path) -> Path:
    good = gzip.compress(orjson.dumps({"Records": [_record(), _record(eventName="DeleteBucket")]}))
    _log(tmp_path, "eu-west-1", "2026/03/02", "good.json.gz", good)
    _log(tmp_path, "eu-west-1", "2026/03/02", "truncated.json.gz", good[: len(good) // 2])
    _log(tmp_path, "eu-west-1", "2026/03/02", "text.json.gz", gzip.compress(b"<html>502 Bad Gateway</html>"))
    _log(tmp_path, "eu-west-1", "2026/03/02", "plain.json.gz", b"not gzip at all")
    _log(tmp_path, "eu-west-1", "2026/03/02", "other.json.gz", gzip.compress(b'{"hello": "world"}'))
    digest = {"digestStartTime": "2026-03-02T09:00:00Z", "logFiles": []}
    _log(tmp_path, "eu-west-1", "2026/03/02", "digest.json.gz", gzip.compress(orjson.dumps(digest)))
    broken = [_record(eventID="kept"), {"eventName": "NoTime"}, _record(eventTime="yesterday"), "junk"]
    broken.append({k: v for k, v in _record(eventID="anonymous").items() if k != "userIdentity"})
    _log(
        tmp_path,
        "eu-west-1",
        "2026/03/02",
        "records.json.gz",
        gzip.compress(orjson.dumps({"Records": broken})),
    )
    return tmp_path


def test_bad_files_are_skipped_counted_and_named(damaged: Path) -> None:
    result = answer(str(damaged), q.events(), Window())
    report = report_of(result)
    reasons = {Path(b.location).name: b.reason for b in report.bad_files}
    assert set(reasons) == {"truncated.json.gz", "text.json.gz", "plain.json.gz", "other.json.gz"}
    assert reasons["truncated.json.gz"].startswith("unreadable gzip")
    assert reasons["text.json.gz"].startswith("not JSON")
    assert reasons["plain.json.gz"] == "not gzip data"
    assert "no Records" in reasons["other.json.gz"]
    assert report.digest_files == 1
    # Three broken records in one file; the record without userIdentity is kept, and says so.
    assert report.bad_records == 3
    assert dict(report.bad_record_files) == {str(damaged / next(damaged.rglob("records.json.gz"))): 3}
    assert report.records_without_identity == 1
    assert sorted(r["event_id"] for r in result.rows) == ["anonymous", "e-0", "e-1", "kept"]
    text = "\n".join(report.summary())
    assert "truncated.json.gz: unreadable gzip" in text and "skipped 3 records" in text


def test_the_prefilter_never_hides_a_damaged_file(damaged: Path) -> None:
    """Files without the needle are still checked to be whole JSON, so their defects are reported too."""
    result = answer(str(damaged), q.who_changed("nothing-has-this"), Window())
    assert result.rows == []
    names = {Path(b.location).name for b in report_of(result).bad_files}
    assert {"truncated.json.gz", "text.json.gz", "plain.json.gz"} <= names


def test_scan_in_parallel_equals_scan_in_process(tmp_path: Path) -> None:
    write_generated(tmp_path, events=3000, days=3)
    files = list_log_files(str(tmp_path))
    plan = ScanPlan((f.Errors(),))
    outputs = []
    for workers in (1, 2):
        out = tmp_path / f"out{workers}"
        out.mkdir()
        report, paths = scan(files, plan, out, workers=workers)
        outputs.append((report.records, report.rows, sorted(r["event_id"] for r in read_rows(paths))))
    assert outputs[0] == outputs[1] and outputs[0][1] > 0


def test_a_row_mapper_runs_in_the_workers_and_replaces_rows(tmp_path: Path) -> None:
    write_generated(tmp_path, events=1000, days=2)
    report, paths = scan(
        list_log_files(str(tmp_path)), ScanPlan((f.Deletions(),), _Names()), tmp_path, workers=2
    )
    assert sorted(r["name"] for r in read_rows(paths)) == sorted(
        ["DeleteTrail", "DeleteBucket", "TerminateInstances", "RemoveUserFromGroup"]
    )
    assert report.rows == 4


class _Names:
    def __call__(self, record: dict[str, Any], row: EventRow) -> list[dict[str, Any]]:
        return [{"name": record["eventName"], "nested": {"why": "a\tb\nc", "ids": [record.get("eventID")]}}]


def _by_time(row: EventRow, mapped: Any) -> Any:
    return [row.micros]


def test_indented_rows_are_one_line_each_in_sorted_runs(tmp_path: Path) -> None:
    write_generated(tmp_path, events=1000, days=2)
    files = list_log_files(str(tmp_path))
    compact = ScanPlan((f.Deletions(),), _Names(), order=_by_time)
    indented = ScanPlan((f.Deletions(),), _Names(), order=_by_time, indented=True)
    got = []
    for i, plan in enumerate([compact, indented]):
        (tmp_path / f"out{i}").mkdir()
        got.append(list(read_rows(scan(files, plan, tmp_path / f"out{i}", workers=2)[1])))
    assert got[0] == got[1] and len(got[1]) == 4
    with pytest.raises(ValueError, match="sorted runs only"):
        ScanPlan(indented=True)


# --- filters: the Python test, the SQL and the needles agree ----------------------------------------------

ROLE = "AWSReservedSSO_AdministratorAccess_1b74cd717d47002b"
FILTERS: list[f.Filter] = [
    f.Actor("TrailDiscover"),
    f.Actor("AdanAlvarez"),
    f.Actor("arn:aws:iam::111111111111:user/TrailDiscover"),
    f.Actor(ROLE),
    f.Actor(ROLE.upper()),
    f.Actor(f"arn:aws:iam::111111111111:role/aws-reserved/sso.amazonaws.com/{ROLE}"),
    f.Actor("arn:aws:iam::*:role/*"),
    f.Actor("stratus_red_team"),
    f.Actor("arn:aws:sts::742491224508:federated-user/stratus_red_team"),
    f.Actor("ASIANQQHHS551LWULIWD"),
    f.Actor("AROAMLQ9F6KHQ07JKA0WY:*"),
    f.Actor("stratus-red-team-*"),
    f.Actor("*"),
    f.Actor("?"),
    f.Actor("123456789012"),
    f.Actor("kate"),
    f.Actor("i"),
    f.Actor("o'brien"),
    f.Actor("100%_sure"),
    f.Actor("line"),
    f.Not(f.Actor("christophe")),
    f.Not(f.Actor("*")),
    f.AnyOf((f.Actor("christophe"), f.Actor("TrailDiscover"))),
    f.Not(f.AnyOf((f.Actor("christophe"), f.Actor("TrailDiscover")))),
    f.Action("ec2:Describe*"),
    f.Action("s3.amazonaws.com:PutBucket?cl"),
    f.Action("deletebucket*"),
    f.Not(f.Action("*:Get*")),
    f.Resource("TrailDiscoverBucket"),
    f.Resource("sg-"),
    f.Resource("arn:aws:s3:::TrailDiscoverBucket"),
    f.Resource("arn:aws:iam::111111111111:user/TrailDiscover"),
    f.Resource(
        "arn:aws:secretsmanager:cn-centraleast-1r:903144391865:secret:stratus-red-team-retrieve-secret-18-4Rzn83"
    ),
    f.Resource("arn:aws:lambda:ca-central-1:1:function:stratus-red-team-backdoor-f-func:prod"),
    f.Resource("arn:aws:s3:::bucket/key"),
    f.Not(f.Resource("arn:aws:s3:::TrailDiscoverBucket")),
    f.SourceIp("0.0.0.*"),
    f.SourceIp("0.0.0.0/8"),
    f.SourceIp("200.0.0.0/5"),
    f.SourceIp("2001:db8::/32"),
    f.SourceIp("::/0"),
    f.Not(f.SourceIp("0.0.0.0/0")),
    f.user_agent("*BOTO3*"),
    f.user_agent("aws-cli/2.*"),
    f.event_id("10E1548F-893E-46F6-852A-25A9F8CF93E1"),
    f.Regions(("us-west-2",)),
    f.Regions(("us-east-1",), exclude=True),
    f.Errors(),
    f.WriteOnly(),
    f.Denied(),
    f.Deletions(),
    f.RootUsage(),
    f.RiskySignIn(),
    f.TimeRange(datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 6, 1, tzinfo=UTC)),
    # bounds within a second: the records at .2 and .7 of FRACTIONS' second fall either side of .5
    f.TimeRange(since=datetime(2026, 3, 2, 10, 0, 0, 500_000, tzinfo=UTC)),
    f.TimeRange(until=datetime(2026, 3, 2, 10, 0, 0, 500_000, tzinfo=UTC)),
    f.TimeRange(since=datetime(2026, 3, 2, 10, 0, 0, 1, tzinfo=UTC)),
    # A capital sigma lowers to the small sigma in SQL wherever it stands; Python's own lower() makes it the
    # final sigma at the end of a word
    f.Actor("\u03a3\u0391\u03a3"),
    f.Actor("\u03c3\u03b1\u03c3"),
    f.Actor("*\u03c2"),
    f.Actor("*\u03c3"),
]

# Attacker-written identities and addresses: the two characters that lower into ASCII, a newline, a quote,
# LIKE's own wildcards, identity fields that are not strings, IPv6 in every spelling, a trailing newline.
HOSTILE_IDENTITIES: list[dict[str, Any]] = [
    {"type": "IAMUser", "userName": "\u212aate", "arn": "arn:aws:iam::1:user/\u212aate"},
    {
        "type": "IAMUser",
        "userName": "\u03a3\u0391\u03a3",
        "arn": "arn:aws:iam::1:user/\u039f\u0394\u03a5\u03a3\u03a3\u0395\u03a5\u03a3",
    },
    {"type": "IAMUser", "userName": "\u03c3\u03b1\u03c2", "arn": "arn:aws:iam::1:user/\u03c3\u03b1\u03c3"},
    {"type": "IAMUser", "userName": "\u0130", "arn": "arn:aws:iam::1:user/x"},
    {"type": "IAMUser", "userName": "o'brien", "arn": "arn:aws:iam::1:user/line\nbreak/line"},
    {"type": "IAMUser", "userName": "100%_sure", "principalId": "AIDA%"},
    {"type": "IAMUser", "userName": 12345, "arn": {"nested": "TrailDiscover"}, "accessKeyId": True},
    {"type": "Root", "principalId": "1111", "accountId": "123456789012", "arn": "arn:aws:iam::1:root"},
    {"type": "AssumedRole", "arn": "arn:aws:sts::1:assumed-role//", "sessionContext": {"sessionIssuer": {}}},
    {"type": "AssumedRole", "arn": "arn:aws:sts::1:assumed-role/x", "principalId": "AROA:"},
]
HOSTILE_IPS = [
    *("2001:DB8::1", "2001:0db8:0000:0000:0000:0000:0000:0001", "::", "::1", "2001:db8::", "1::"),
    *("fe80::1%eth0", "::ffff:1.2.3.4", "1.2.3.4\n", "010.1.2.3", "256.1.1.1", "", "1.2.3", "x::y"),
]


FRACTIONS = ("2026-03-02T10:00:00.2Z", "2026-03-02T10:00:00.7Z", "2026-03-02T10:00:00Z")


def _hostile_records() -> list[dict[str, Any]]:
    out = [_record(eventID=f"fraction-{i}", eventTime=t) for i, t in enumerate(FRACTIONS)]
    for i, identity in enumerate(HOSTILE_IDENTITIES):
        out.append(_record(eventID=f"hostile-{i}", userIdentity=json.loads(json.dumps(identity))))
    for i, ip in enumerate(HOSTILE_IPS):
        out.append(_record(eventID=f"ip-{i}", sourceIPAddress=json.loads(json.dumps(ip))))
    return out


def _agreement_records() -> list[dict[str, Any]]:
    return [*real_records(), *stratus_records(), *_hostile_records()]


@pytest.fixture(scope="module")
def real_rows() -> list[dict[str, Any]]:
    return [flatten(r, str(i)) for i, r in enumerate(_agreement_records())]


@pytest.fixture(scope="module")
def real_table(real_rows: list[dict[str, Any]], tmp_path_factory: pytest.TempPathFactory) -> Any:
    path = tmp_path_factory.mktemp("rows") / "rows.jsonl"
    path.write_bytes(b"\n".join(orjson.dumps(r) for r in real_rows))
    con = duckdb.connect()
    cols = ", ".join(f"'{n}': '{t}'" for n, t, _ in COLUMNS)
    con.execute(f"CREATE TABLE events AS SELECT * FROM read_json('{path}', columns={{{cols}}})")
    return con


@pytest.mark.parametrize("flt", FILTERS, ids=lambda x: repr(x)[:90])
def test_python_test_and_sql_select_the_same_records(flt: f.Filter, real_rows, real_table) -> None:
    """The same rows, not just as many: exclusions (`Not`) rely on the Python test being the SQL exactly."""
    by_sql = {
        r[0] for r in real_table.execute(f"SELECT source_file FROM events WHERE {flt.sql()}").fetchall()
    }
    by_python = {r["source_file"] for r in real_rows if flt.test(r)}
    assert by_sql == by_python


def test_the_agreement_covers_every_kind_of_match(real_rows) -> None:
    """The filters above are not vacuous: most select some rows and leave others."""
    sizes = [sum(1 for r in real_rows if flt.test(r)) for flt in FILTERS]
    assert sum(0 < n < len(real_rows) for n in sizes) >= len(FILTERS) - 4


# Ways exporters write the same JSON: compact, ASCII-only (`\uXXXX` for every non-ASCII character), PHP's
# `\/`, Go's `\u003c`/`\u003e`/`\u0026`, and every character of every string escaped.
def _as_written(record: dict[str, Any], how: str) -> bytes:
    doc = {"Records": [record]}
    if how == "compact":
        return orjson.dumps(doc)
    if how == "escaped":
        return json.dumps(doc, ensure_ascii=True).encode()
    if how == "every-char":
        return _escape_all(doc).encode()
    text = json.dumps(doc, ensure_ascii=False)
    if how == "php":
        return text.replace("/", "\\/").encode()
    assert how == "go"
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026").encode()


def _escape_all(value: Any) -> str:
    if isinstance(value, str):
        digits = value.encode("utf-16-be").hex()
        return '"' + "".join("\\u" + digits[i : i + 4] for i in range(0, len(digits), 4)) + '"'
    if isinstance(value, dict):
        return "{" + ",".join(f"{_escape_all(k)}:{_escape_all(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_escape_all(v) for v in value) + "]"
    return json.dumps(value)


HOW = ("compact", "php", "go", "escaped", "every-char")


@pytest.fixture(scope="module")
def written(real_rows) -> list[dict[str, bytes]]:
    """Each record alone in a file, written each way."""
    out = []
    for row in real_rows:
        files = {how: _as_written(row["raw"], how) for how in HOW}
        assert all(orjson.loads(data)["Records"][0] == row["raw"] for data in files.values())
        out.append(files)
    return out


@pytest.mark.parametrize("flt", [x for x in FILTERS if x.needles()], ids=lambda x: repr(x)[:90])
def test_a_file_holding_a_match_is_never_skipped(flt: f.Filter, real_rows, written) -> None:
    groups = [flt.needles()]
    for row, files in zip(real_rows, written, strict=True):
        if flt.test(row):
            for how, data in files.items():
                assert may_hold(data, groups), (row["event_id"], how)


def test_the_prefilter_skips_files_without_a_match() -> None:
    """Sound is not enough: a file that cannot match is skipped, also when it escapes what no needle holds."""
    record = _record(userAgent="<script>&amp;</script>", eventName="Caf\u00e9")
    for how in ("compact", "php", "go", "escaped"):
        assert not may_hold(_as_written(record, how), [f.Actor("mallory").needles()]), how
    assert may_hold(_as_written(record, "every-char"), [f.Actor("mallory").needles()])


def test_the_prefilter_changes_speed_not_answers(tmp_path: Path) -> None:
    """A file the prefilter skips holds no record the filter accepts, for every filter with needles over the
    real records as CloudTrail files them; and it does skip files, and the scan skips exactly those."""
    write_real_folder(tmp_path, [*real_records(), *stratus_records()])
    files = [Path(log.location) for log in list_log_files(str(tmp_path))]
    contents = [gzip.decompress(p.read_bytes()) for p in files]
    rows = [
        [flatten(r, str(p)) for r in orjson.loads(data)["Records"]]
        for p, data in zip(files, contents, strict=True)
    ]
    flts = [x for x in FILTERS if x.needles()]
    assert len(flts) > 20
    skipped = 0
    for flt in flts:
        held = [may_hold(data, [flt.needles()]) for data in contents]
        assert all(held[i] or not any(flt.test(r) for r in rows[i]) for i in range(len(files))), flt
        skipped += held.count(False)
    assert skipped > len(flts) * len(files) // 2
    report, _ = scan(list_log_files(str(tmp_path)), ScanPlan((flts[0],)), None, workers=1)
    assert report.files_prefiltered == sum(not may_hold(data, [flts[0].needles()]) for data in contents)


def test_the_record_prefilter_searches_a_field_holding_every_match() -> None:
    """A filter whose test reads one field of a record (the actor: userIdentity) has the record-level
    prefilter search that field's text alone: every record it accepts holds a needle there."""
    records = [*real_records(), *stratus_records()]
    searched: Counter[str | None] = Counter()
    for flt in (x for x in FILTERS if x.needles()):
        field = ScanPlan((flt,)).needle_field()
        searched[field] += 1
        for record in records:
            if flt.test(flatten(record, "f.json")):
                text = orjson.dumps(record if field is None else record.get(field))
                assert may_hold(text, [flt.needles()]), (flt, record.get("eventID"))
    assert searched["userIdentity"] >= 3 and searched[None] >= 10, searched


def test_the_list_questions_row_is_the_columns_read_one_by_one() -> None:
    """`event_listing`, written out for speed, reads each column as the getters do: on real, attack and
    hostile records, with times fractional, offset or unreadable, and identities of every shape."""
    odd = [
        _record(eventTime="2026-03-02T10:00:00.250Z", userIdentity="not an object", eventID=7),
        _record(eventTime="2026-03-02T12:00:00+02:00", userIdentity={"type": "Root", "arn": ["x"]}),
        _record(
            userIdentity={
                "type": "AssumedRole",
                "arn": "arn:aws:sts::1:assumed-role/r/s",
                "sessionContext": 7,
            }
        ),
        _record(requestParameters={"groupId": ["sg-1"], "bucketName": "b"}, resources=[{"arn": "a"}]),
    ]
    generic = Columns(tuple(reversed(EVENT_COLUMNS)))  # not the list questions' own tuple: read one by one
    for i, record in enumerate([*_agreement_records(), *odd]):
        for moment in (parse_instant(record["eventTime"]), None):
            row = EventRow(record, f"f{i}", moment)
            listed = event_listing(record, row)
            assert tuple(listed) == EVENT_COLUMNS
            assert (
                listed == next(iter(generic(record, row))) == next(iter(Columns(EVENT_COLUMNS)(record, row)))
            )


def test_a_json_answer_written_from_the_rows_text_is_the_rows_written(tmp_path: Path) -> None:
    """A list's JSON answer writes the text the workers made of each row (`Answer.texts`), not the rows
    decoded and written again: byte for byte the same JSON, tactics included, on real, attack and hostile
    records (control characters, bidirectional marks, escapes), whole and cut by a limit."""
    write_real_folder(tmp_path, _agreement_records())
    for limit in (None, 7):
        question = q.events().limited(limit).with_tactics()
        texts, rows = io.StringIO(), io.StringIO()
        from_texts = answer(str(tmp_path), question, Window())
        assert from_texts.texts is not None
        json_list(from_texts.texts, texts)
        json_list(answer(str(tmp_path), question, Window()).rows, rows)
        assert texts.getvalue() == rows.getvalue()
        written = json.loads(texts.getvalue())
        assert len(written) == limit if limit else len(written) > 100
        assert all("tactics" in r for r in written)
        assert any(r["tactics"] for r in written)


def test_sql_literals_are_quoted() -> None:
    assert f.Actor("o'brien").sql().startswith("'o''brien' IN (")
    assert f.Resource("it's").sql() == (
        "strpos(coalesce(resources, '') || chr(10) || coalesce(request_parameters, '') || chr(10) || "
        "coalesce(response_elements, ''), 'it''s') > 0"
    )
    assert f.Action("ec2:Run_100%*").sql().count("\\_") == 2
