"""The term index may skip a file only where the byte prefilter could: a file holding a needle of a filter, as
its records decode, keeps its bit for every probe of that needle, however an attacker spells the bytes.

Checked three ways: as a property over the needles the real filters offer (hypothesis writes the files with
escapes, case and the two non-ASCII characters that lower to ASCII); on hand-picked hostile spellings of
records the filters accept; and on real CloudTrail records given hostile names, through a real build.
"""

from __future__ import annotations

import ipaddress
import random
import string
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from audit_trail.cache.build import build
from audit_trail.cache.index import TermIndex
from audit_trail.cache.segments import FileEntry, Segment, encode
from audit_trail.cache.terms import file_terms, probes
from audit_trail.investigate.events import EventRow
from audit_trail.investigate.local import answer
from audit_trail.investigate.sources import list_log_files
from audit_trail.queries import filters as f
from audit_trail.queries import questions as q
from audit_trail.queries.prefilter import Folded, fold, may_hold
from audit_trail.times import parse_instant
from audit_trail.window import Window
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from support.logs import day_folder, hostile_json, log_name, real_records, stratus_records

PROPERTY = settings(
    max_examples=100, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


def index_keeps(data: bytes, groups: list[list[bytes]]) -> bool:
    """The file DATA, alone in a segment, may hold a match of GROUPS according to the index."""
    body, checksum = encode([FileEntry("f.json.gz", len(data), "v", True)], [file_terms(data)])
    probed = [[probes(needle) for needle in group] for group in groups]
    return Segment.decode(body, checksum).may_hold(probed) == 1


# --- the property: every needle of every filter, every spelling ---

# Characters of names and values as attackers choose them: letters of either case, digits, the punctuation
# of ARNs, user agents and addresses, hexadecimal runs, the two characters whose lower case is ASCII (İ and
# the Kelvin sign), other non-ASCII letters, a character beyond the BMP, quotes and backslashes.
_CHARS = (
    string.ascii_letters + string.digits + "+=,.@-_/: " + '\u0130\u212a\u0131\u00e9\u00df\u4e2d\U0001f600"\\'
)
values = st.text(alphabet=_CHARS, min_size=1, max_size=20)
around = st.text(alphabet=_CHARS + "0123456789abcdef.", max_size=12)

_MAKERS: list[Callable[[str], f.Filter]] = [
    f.Actor,
    lambda v: f.Actor(f"*{v}*"),
    lambda v: f.Actor(f"{v}*"),
    lambda v: f.Actor(f"arn:aws:iam::111111111111:role/{v}"),
    lambda v: f.Action(f"iam:{v}"),
    lambda v: f.Action(f"*{v}?"),
    f.Resource,
    lambda v: f.Resource(f"arn:aws:s3:::{v}"),
    lambda v: f.user_agent(f"*{v}*"),
    f.event_id,
]


@st.composite
def ip_filters(draw: st.DrawFn) -> f.Filter:
    address = draw(st.ip_addresses())
    prefix = draw(st.integers(0, address.max_prefixlen))
    network = ipaddress.ip_network(f"{address}/{prefix}", strict=False)
    form = draw(st.sampled_from(["exact", "cidr", "glob"]))
    if form == "exact":
        return f.SourceIp(str(address))
    if form == "cidr":
        return f.SourceIp(str(network))
    return f.SourceIp(str(address)[: draw(st.integers(1, len(str(address))))] + "*")


@st.composite
def needles(draw: st.DrawFn) -> bytes:
    """A needle one of the real filters offers."""
    if draw(st.booleans()):
        made = draw(ip_filters())
    else:
        try:
            made = draw(st.sampled_from(_MAKERS))(draw(values))
        except ValueError:
            assume(False)
    offered = made.needles()
    assume(offered)
    return draw(st.sampled_from(offered))


@st.composite
def spelled(draw: st.DrawFn, needle: bytes) -> str:
    """A text holding NEEDLE as the filter compares it: a folded needle in any case, with İ for i and the
    Kelvin sign for k (both lower to ASCII)."""
    text = needle.decode()
    if not isinstance(needle, Folded):
        return text
    out = []
    for ch in text:
        options = [ch, ch.upper()]
        options += ["\u0130"] if ch == "i" else ["\u212a"] if ch == "k" else []
        out.append(draw(st.sampled_from(options)))
    return "".join(out)


def holds(value: str, needle: bytes) -> bool:
    """VALUE holds NEEDLE as a filter compares them (folded ones case-insensitively)."""
    return needle.decode() in (fold(value) if isinstance(needle, Folded) else value)


@PROPERTY
@given(st.data())
def test_a_file_whose_records_hold_a_needle_keeps_its_bit(data: st.DataObject) -> None:
    needle = data.draw(needles(), label="needle")
    value = data.draw(around) + data.draw(spelled(needle)) + data.draw(around)
    noise = data.draw(st.text(alphabet=_CHARS + "0123456789abcdef", max_size=40))
    where = data.draw(st.sampled_from(["value", "key", "nested", "list"]))
    record: dict[str, Any] = {"eventTime": "2026-03-02T10:00:00Z", "eventSource": "iam.amazonaws.com"}
    placed: dict[str, dict[str, Any]] = {
        "value": {"userName": value},
        "key": {value: noise},
        "nested": {"requestParameters": {"a": [{"b": value}]}},
        "list": {"resources": [noise, value]},
    }
    record.update(placed[where])
    doc = {"Records": [record, {"eventName": noise}]}
    text = hostile_json(doc, random.Random(data.draw(st.integers(), label="seed")))
    assert orjson.loads(text) == doc  # the file decodes to the records written
    assert holds(value, needle)
    assert may_hold(text, [[needle]])  # the prefilter keeps it ...
    assert index_keeps(text, [[needle]])  # ... and so must the index


@PROPERTY
@given(st.data())
def test_any_bytes_the_prefilter_keeps_keep_their_bit(data: st.DataObject) -> None:
    """Not only JSON: any bytes, valid UTF-8 or not, with the needle spliced in. `\\/` stands for `/` in
    both; other escapes and İ or the Kelvin sign make the prefilter keep a file whatever it holds (it
    cannot tell), so they are left to the property above, which decodes them."""
    needle = data.draw(needles(), label="needle")
    head, tail = data.draw(st.binary(max_size=24)), data.draw(st.binary(max_size=24))
    body = data.draw(spelled(needle)).encode()
    if data.draw(st.booleans()):
        body = body.replace(b"/", b"\\/")
    bytes_ = (head + body + tail).replace(b"\\", b"\\/").replace(b"\\//", b"\\/")
    assume(b"\xc4\xb0" not in bytes_ and b"\xe2\x84\xaa" not in bytes_)
    if may_hold(bytes_, [[needle]]):
        assert index_keeps(bytes_, [[needle]])


# --- hand-picked hostile spellings of records the filters accept ---

_BASE = '"eventTime":"2026-03-02T10:00:00Z","eventSource":"iam.amazonaws.com","awsRegion":"us-east-1"'
_LONG = "ab" * 100_000


def _user(name: str, extra: str = "") -> str:
    return f'"eventName":"CreateUser","userIdentity":{{"type":"IAMUser","userName":"{name}"{extra}}}'


HOSTILE = {
    "escaped letters": (f.Actor("mallory"), _user("\\u006d\\u0061llory")),
    "escape in upper-case hex, name in capitals": (f.Actor("mallory"), _user("\\u004DALLORY")),
    "escaped slash in an ARN": (
        f.Actor("arn:aws:iam::111111111111:user/mallory"),
        _user("x", ',"arn":"arn:aws:iam::111111111111:user\\/mallory"'),
    ),
    "İ lowers to i": (f.Actor("instance-admin"), _user("\u0130NSTANCE-ADM\u0130N")),
    "İ as an escape": (f.Actor("instance-admin"), _user("\\u0130nstance-admin")),
    "Kelvin sign lowers to k": (f.Actor("key-admin"), _user("\u212aEY-ADMIN")),
    "Kelvin sign as an escape": (f.Actor("*ey-admin-\u212a*"), _user("\\u212aey-admin-\\u212A")),
    "glob ending a name": (f.Actor("mall*"), _user("MALLORY")),
    "glob starting a name, three letters left": (f.Actor("*ory"), _user("mall\\u006Fry")),
    "access key id typed in lower case": (
        f.Actor("akiaiosfodnn7example"),
        _user("x", ',"accessKeyId":"AKIAIOSFODNN7EXAMPLE"'),
    ),
    "a name of hexadecimal digits (no probe: read)": (f.Actor("deadbeefcafe"), _user("DEADBEEFCAFE")),
    "a name ending a hexadecimal id": (f.Actor("*deadbeefcafez"), _user("0123456789abcdefDEADBEEFCAFEZ")),
    "a very long name": (f.Actor(f"*{_LONG[:1000]}x*"), _user(f"{_LONG}x{_LONG}")),
    "event id": (
        f.event_id("10E1548F-893E-46F6-852A-25A9F8CF93E1"),
        _user("x") + ',"eventID":"10e1548f-893e-46f6-852a-25a9f8cf93e1"',
    ),
    "address in a CIDR network, dot escaped": (
        f.SourceIp("203.0.113.0/24"),
        _user("x") + ',"sourceIPAddress":"203\\u002e0.113.77"',
    ),
    "address glob": (f.SourceIp("203.0.113.*"), _user("x") + ',"sourceIPAddress":"203.0.113.250"'),
    "dotted address inside a longer number": (
        f.user_agent("*203.0.113.7*"),
        _user("x") + ',"userAgent":"x1203.0.113.75y"',
    ),
    "IPv6 in capitals": (f.SourceIp("2001:db8::/32"), _user("x") + ',"sourceIPAddress":"2001:DB8::1"'),
    "IPv6 exact": (f.SourceIp("2001:db8::7"), _user("x") + ',"sourceIPAddress":"2001:DB8::7"'),
    "user agent with a version": (
        f.user_agent("*Boto3/1.34.0*"),
        _user("x") + ',"userAgent":"boto3\\/1.34.0 md\\/Botocore#1.34.0"',
    ),
    "action with escaped letters": (f.Action("iam:create*"), '"eventName":"\\u0043reateUser"'),
    "event name glob": (f.Action("*user"), '"eventName":"CreateUSER"'),
    "resource with a non-ASCII letter, escaped": (
        f.Resource("b\u00fccket-mallory"),
        _user("x") + ',"requestParameters":{"bucketName":"b\\u00fccket-mallory"}',
    ),
    "resource ARN named by its bucket": (
        f.Resource("arn:aws:s3:::my-bucket"),
        _user("x") + ',"requestParameters":{"bucketName":"my-\\u0062ucket"}',
    ),
    "resource at the very end of a long value": (
        f.Resource("needle-at-the-end"),
        _user("x") + f',"requestParameters":{{"policy":"{_LONG}needle-at-the-end"}}',
    ),
    "error key spelled with an escape": (f.Errors(), _user("x") + ',"error\\u0043ode":"AccessDenied"'),
    "denied": (f.Denied(), _user("x") + ',"errorCode":"Client.UnauthorizedOperation"'),
    "deletion": (f.Deletions(), '"eventName":"\\u0044eleteBucket"'),
    "root": (f.RootUsage(), '"eventName":"GetCallerIdentity","userIdentity":{"type":"R\\u006f\\u006ft"}'),
    "sign-in": (
        f.RiskySignIn(),
        '"eventName":"Console\\u004cogin","responseElements":{"ConsoleLogin":"Failure"}',
    ),
}


def _write(folder: Path, name: str, data: bytes) -> None:
    import gzip

    (folder / name).write_bytes(gzip.compress(data, compresslevel=1, mtime=0))


@pytest.mark.parametrize("case", HOSTILE)
def test_a_hostile_spelling_of_a_match_is_never_skipped(case: str, tmp_path: Path, settled: None) -> None:
    chosen, fields = HOSTILE[case]
    data = ('{"Records":[{' + _BASE + "," + fields + "}]}").encode()
    (record,) = orjson.loads(data)["Records"]
    assert chosen.test(EventRow(record, "f", parse_instant(record["eventTime"])))  # a real match
    _write(day_folder(tmp_path / "logs"), log_name("hostile"), data)
    assert _skipped(tmp_path, [chosen]) == set()


def _skipped(root: Path, chosen: list[f.Filter]) -> set[str]:
    """The files of ROOT/logs the index (built now) proves hold no record every filter of CHOSEN accepts."""
    files = list_log_files(str(root / "logs"))
    index = TermIndex(root / "cache", 1 << 30)
    assert build(index, files, workers=1).files == len(files)
    groups = [n for n in (c.needles() for c in chosen) if n]
    return set(index.look_up(files).cannot_match(groups))


def test_the_hand_picked_cases_can_fail(tmp_path: Path, settled: None) -> None:
    """The same files are skipped for a name they do not hold: the cases above test the index, not nothing."""
    for n, (_, fields) in enumerate(HOSTILE.values()):
        _write(
            day_folder(tmp_path / "logs"),
            log_name(f"case{n}"),
            ('{"Records":[{' + _BASE + "," + fields + "}]}").encode(),
        )
    files = list_log_files(str(tmp_path / "logs"))
    assert len(_skipped(tmp_path, [f.Actor("trudy")])) == len(files) == len(HOSTILE)


# --- real records with hostile names, through a real build ---


def _hostile_name(i: int, rng: random.Random) -> str:
    """A fresh name for record I in a spelling a responder would not type: mixed case, İ for i, K for k."""
    plain = f"intruder{i}-kit"
    chars = [rng.choice([c, c.upper()]) for c in plain]
    return "".join(
        {"i": "\u0130", "k": "\u212a"}.get(c.lower(), c) if rng.random() < 0.4 else c for c in chars
    )


def _disguised(records: list[dict[str, Any]], rng: random.Random) -> list[dict[str, Any]]:
    out = []
    for i, rec in enumerate(records):
        rec = orjson.loads(orjson.dumps(rec))
        ident = rec.get("userIdentity")
        if isinstance(ident, dict):
            name = _hostile_name(i, rng)
            if "userName" in ident:
                ident["userName"] = name
            if isinstance(ident.get("arn"), str) and "/" in ident["arn"]:
                ident["arn"] = ident["arn"].rsplit("/", 1)[0] + "/" + name
            if isinstance(ident.get("accessKeyId"), str):
                ident["accessKeyId"] = f"ASIA{i:04d}EXAMPLEKEY{i % 10}"
        rec["sourceIPAddress"] = f"198.51.{i % 250}.{i % 200 + 7}"
        out.append(rec)
    return out


def _filters_for(rec: dict[str, Any]) -> list[f.Filter]:
    """Filters a responder would type to find REC: its identities (as typed: folded), address, agent, action,
    resources, event id."""
    row = EventRow(rec, "f", parse_instant(rec["eventTime"]))
    made: list[f.Filter] = [f.event_id(str(rec.get("eventID"))), f.Action(row["action"].upper())]
    made.append(f.Action(f"*{rec['eventName'][2:]}"))
    for column in ("user_name", "principal_arn", "access_key_id", "principal_id", "session_issuer_arn"):
        value = row.get(column)
        if isinstance(value, str) and value:
            made += [f.Actor(fold(value)), f.Actor(f"*{fold(value)[-6:]}")]
    ip = rec.get("sourceIPAddress")
    if isinstance(ip, str):
        made += [f.SourceIp(ip), f.SourceIp(ip.rsplit(".", 1)[0] + ".0/24")]
    agent = rec.get("userAgent")
    if isinstance(agent, str) and len(agent) > 8:
        made.append(f.user_agent(f"*{agent[3:12]}*"))
    for value in (
        (rec.get("requestParameters") or {}).values()
        if isinstance(rec.get("requestParameters"), dict)
        else ()
    ):
        if isinstance(value, str) and len(value) >= 3:
            made.append(f.Resource(value))
    made += [f.Errors(), f.Denied(), f.Deletions(), f.RootUsage(), f.RiskySignIn()]
    return made


def test_real_records_with_hostile_names_are_never_skipped_for_a_filter_they_match(
    tmp_path: Path, settled: None
) -> None:
    rng = random.Random(17)
    records = _disguised([*real_records(), *stratus_records()][::3], rng)  # a third: enough, and fast
    folder = day_folder(tmp_path / "logs")
    per_file = 25
    for n in range(0, len(records), per_file):
        # The records hostile, the `"Records"` key as it is: a file without it is never skipped at all.
        chunk = b",".join(hostile_json(r, rng, escape=0.1) for r in records[n : n + per_file])
        _write(folder, log_name(f"real{n:04d}"), b'{"Records":[' + chunk + b"]}")
    files = list_log_files(str(tmp_path / "logs"))
    index = TermIndex(tmp_path / "cache", 1 << 30)
    build(index, files, workers=1)
    lookup = index.look_up(files)
    assert lookup.unindexed() == []
    checked = skipped_elsewhere = 0
    for n, rec in enumerate(records):
        location = str(folder / log_name(f"real{n - n % per_file:04d}"))
        moment = parse_instant(rec["eventTime"])
        for chosen in _filters_for(rec):
            if not chosen.needles() or not chosen.test(EventRow(rec, location, moment)):
                continue
            skipped = lookup.cannot_match([chosen.needles()])
            assert location not in skipped, (chosen, rec.get("userIdentity"))
            checked += 1
            skipped_elsewhere += len(skipped)
    # Thousands of matches checked, and the index skipped most other files for them.
    assert checked > 1000 and skipped_elsewhere > checked * (len(files) - 1) / 2


def test_lookup_events_output_is_read_not_indexed(tmp_path: Path, settled: None) -> None:
    """`aws cloudtrail lookup-events` output holds each record as JSON inside a string, which the scanner
    decodes twice: `\\\\u004d` in the file is an escape only after the first. The index decodes once, so it
    must not answer for such a file, even one that holds the word `"Records"` (which marks a log file)."""
    inner = orjson.dumps(
        {
            "eventTime": "2026-03-02T10:00:00Z",
            "eventSource": "iam.amazonaws.com",
            "eventName": "CreateUser",
            "userIdentity": {"type": "IAMUser", "userName": "MALLORY"},
        }
    ).replace(b"MALLORY", b"\\u004dallory")
    doc = {"Events": [{"EventId": "1", "Username": "Records", "CloudTrailEvent": inner.decode()}]}
    _write(day_folder(tmp_path / "logs"), log_name("lookup"), orjson.dumps(doc))
    files = list_log_files(str(tmp_path / "logs"))
    index = TermIndex(tmp_path / "cache", 1 << 30)
    build(index, files, workers=1)
    assert index.look_up(files).cannot_match([f.Actor("mallory").needles()]) == frozenset()
    question = q.events().with_filters(f.Actor("mallory"))
    (row,) = answer(str(tmp_path / "logs"), question, Window(), index=index).rows
    assert row["actor"] == "Mallory"


def test_terms_leave_out_ids_and_numbers_and_keep_names_and_addresses() -> None:
    """Request and event ids, account ids and plain numbers are most of a file's distinct terms and no probe
    can use them; names, actions, user agents' words and dotted numbers are what the probes look for."""
    records = real_records()
    terms = file_terms(orjson.dumps({"Records": records}))
    assert terms, "the real records have terms"
    assert not [t for t in terms if not t.strip(b"0123456789abcdef")], "a term of hexadecimal digits only"
    pieces = {p.lower().encode() for r in records for p in str(r.get("eventID", "")).split("-")}
    hexadecimal = {p for p in pieces if p and not p.strip(b"0123456789abcdef")}
    assert len(hexadecimal) > 100 and not hexadecimal & terms, "a piece of an event id"
    some = next(r for r in records if r.get("userIdentity", {}).get("userName"))
    name = some["userIdentity"]["userName"].lower().encode()
    assert probes(name) and all(any(p in t for t in terms) for p in probes(name))
    ip = next(str(r["sourceIPAddress"]) for r in records if str(r.get("sourceIPAddress", "")).count(".") == 3)
    assert ip.encode() in terms
