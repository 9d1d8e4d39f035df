"""The byte prefilter skips only files that provably hold no match: exporters' escapes (PHP's `\\/`, Go's
`\\u003c`, any `\\uXXXX`), the characters that lower into ASCII, and what a needle may be."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest
from audit_trail.investigate.local import answer
from audit_trail.queries import filters as f
from audit_trail.queries import questions as q
from audit_trail.queries.prefilter import Folded, fold, fragment_needle, literal_needle, may_hold
from audit_trail.window import Window
from support.logs import report_of

MALLORY = "arn:aws:iam::123456789012:user/mallory"


def _record(event_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "eventTime": "2026-03-03T03:15:00Z",
        "eventSource": "s3.amazonaws.com",
        "eventName": "DeleteBucket",
        "awsRegion": "eu-west-1",
        "eventID": event_id,
        "userIdentity": {"type": "IAMUser", "userName": "mallory", "arn": MALLORY},
        "requestParameters": {"bucketName": "prod/backups"},
        "userAgent": "agent <v1> & co",
        **extra,
    }


def _write(root: Path, name: str, text: str) -> None:
    folder = root / "AWSLogs" / "123456789012" / "CloudTrail" / "eu-west-1" / "2026" / "03" / "03"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"123456789012_CloudTrail_eu-west-1_20260303T0320Z_{name}.json.gz").write_bytes(
        gzip.compress(text.encode())
    )


@pytest.fixture
def exports(tmp_path: Path) -> Path:
    """The same kind of record as PHP writes it (`\\/`), as Go writes it (`\\u003c`, `\\u003e`,
    `\\u0026`), with a letter of the needle escaped, and a file that holds no match at all."""
    php = json.dumps({"Records": [_record("php")]}).replace("/", "\\/")
    _write(tmp_path, "php", php)
    go = json.dumps({"Records": [_record("go")]}, ensure_ascii=False)
    _write(tmp_path, "go", go.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))
    _write(
        tmp_path, "spelled", json.dumps({"Records": [_record("spelled")]}).replace("mallory", "\\u006dallory")
    )
    other = _record(
        "other", userIdentity={"type": "IAMUser", "userName": "bob"}, requestParameters=None, userAgent="x"
    )
    _write(tmp_path, "other", json.dumps({"Records": [other]}).replace("/", "\\/"))
    return tmp_path


def _ids(source: Path, *filters: f.Filter) -> set[str]:
    return {r["event_id"] for r in answer(str(source), q.events().with_filters(*filters), Window()).rows}


def test_escaped_exports_are_read_not_skipped(exports: Path) -> None:
    by_sql = answer(
        str(exports), None, Window(), sql="SELECT event_id FROM events WHERE user_name = 'mallory'"
    )
    assert {r["event_id"] for r in by_sql.rows} == {"php", "go", "spelled"}
    assert _ids(exports, f.Actor(MALLORY)) == {"php", "go", "spelled"}
    assert _ids(exports, f.Resource("prod/backups")) == {"php", "go", "spelled"}
    assert _ids(exports, f.user_agent("*<v1> & co")) == {"php", "go", "spelled"}
    # The file without a match is still skipped, escaped slashes and all.
    result = answer(str(exports), q.events().with_filters(f.Actor(MALLORY)), Window())
    assert report_of(result).files_prefiltered == 1


def test_slash_escapes_are_undone_before_the_search() -> None:
    data = b'{"Records":[{"arn":"arn:aws:iam::1:user\\/mallory"}]}'
    assert may_hold(data, [(b"user/mallory",)])
    assert not may_hold(data, [(b"user/alice",)])


def test_an_escape_keeps_the_file_only_if_it_may_spell_a_needle() -> None:
    needle = [(b"mallory",)]
    assert may_hold(b'{"u":"\\u006dallory"}', needle)  # m
    assert may_hold(b'{"u":"\\u004dALLORY"}', needle)  # M: the needle matches in any case
    assert not may_hold(b'{"u":"\\u003cscript\\u003e","x":"\\u00e9"}', needle)  # <, >, é
    # A non-ASCII escape may spell a needle holding non-ASCII characters.
    assert may_hold(b'{"b":"caf\\u00e9-bucket"}', [("café-bucket".encode(),)])


@pytest.mark.parametrize("char", ["\u0130", "\u212a"])
def test_the_two_characters_that_lower_into_ascii_keep_the_file(char: str) -> None:
    """SQL's lower() turns İ into i and the Kelvin sign into k: `--actor kate` matches `\u212aate`."""
    word = fold(char) + "ate"
    assert word in ("iate", "kate")
    needles = [(fragment_needle(word) or b"",)]
    assert may_hold(json.dumps({"u": f"{char}ate"}, ensure_ascii=False).encode(), needles)
    assert may_hold(json.dumps({"u": f"{char}ate"}).encode(), needles)  # escaped: \u0130, \u212a
    assert not may_hold(json.dumps({"u": "other"}, ensure_ascii=False).encode(), needles)


def test_what_makes_a_needle() -> None:
    assert literal_needle("TrailDiscover") == b"TrailDiscover"
    assert isinstance(literal_needle("traildiscover", folded=True), Folded)
    assert literal_needle('"audit"') == b'"audit"'
    assert literal_needle("arn:aws:s3:::bucket" + '"') == b'arn:aws:s3:::bucket"'
    assert literal_needle("203.0.113.") == b"203.0.113."  # two dots: no JSON number
    for text in ("ab", "12345", "1.5e3", "true", "null", "a\\b", 'a"b"c', "tab\there"):
        assert literal_needle(text) is None, text  # too short, or could sit outside a string, or escaped
    assert literal_needle("2001:", in_string=True) == b"2001:"
    assert literal_needle("é-bucket", folded=True) is None  # folded needles are ASCII
    assert fragment_needle(fold("arn:aws:sts::*:assumed-role/Admin/*"), "/") == b"admin"
    assert fragment_needle(fold("Admin/alice"), "/") == b"alice"
    assert fragment_needle("ec2:describe*", ":") == b"describe"
    assert fragment_needle("a*b*c") is None


def test_case_sensitive_needles_are_compared_as_they_are_unless_the_file_is_lowered() -> None:
    data = b'{"Records":[{"errorCode":"AccessDenied","eventName":"ConsoleLogin","userName":"Mallory"}]}'
    for flt in (f.Errors(), f.Denied(), f.RiskySignIn()):
        assert may_hold(data, [flt.needles()])
    assert not may_hold(data, [f.Deletions().needles()])
    assert not may_hold(data, [f.Resource("mallory").needles()])  # resources are case-sensitive
    assert may_hold(data, [f.Actor("MALLORY").needles()])  # actors are not
    assert may_hold(data, [f.Actor("mallory").needles(), f.Errors().needles()])  # both, the file lowered


def test_no_groups_means_no_prefilter() -> None:
    assert may_hold(b"anything", [])
