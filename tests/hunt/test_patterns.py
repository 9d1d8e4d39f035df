"""Rule values against attacker-chosen text: linear time whatever the rule and text, Sigma's semantics kept.

Each rule is compiled as a user's `--rules` file would be; the records are what a caller can make CloudTrail
write (`userAgent` is the caller's own header).
"""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any

import pytest
from audit_trail.hunt.evaluate import RuleMatcher
from audit_trail.hunt.patterns import CONTAINS, ENDSWITH, EXACT, STARTSWITH, any_literal
from audit_trail.hunt.rules import HuntRule, load_rules

HEAD = (
    "title: t\nid: 0b7c1f8e-1111-4222-8333-9444555566{n:02d}\n"
    "logsource: {{product: aws, service: cloudtrail}}\n"
)


def rule(tmp_path: Path, selection: str, n: int = 1) -> HuntRule:
    path = tmp_path / f"rule{n}.yml"
    path.write_text(HEAD.format(n=n) + f"detection:\n  sel:\n{selection}\n  condition: sel\n")
    (loaded,) = load_rules([path], include_shipped=False)
    return loaded


def fires(r: HuntRule, **fields: Any) -> bool:
    assert r.compiled is not None, r.reason
    record = {"eventTime": "2026-03-02T10:00:00Z", "eventSource": "s3.amazonaws.com", "eventName": "X"}
    return bool(RuleMatcher([r.compiled]).matches({**record, **fields}))


def seconds(r: HuntRule, **fields: Any) -> float:
    start = time.perf_counter()
    fires(r, **fields)
    return time.perf_counter() - start


def test_nested_quantifier_regex_is_linear(tmp_path: Path) -> None:
    # Python's re needs minutes for 35 characters; RE2 answers for 100,000 at once
    redos = rule(tmp_path, "    userAgent|re: '^(a+)+$'")
    assert seconds(redos, userAgent="a" * 34 + "!") < 0.5
    assert seconds(redos, userAgent="a" * 100_000 + "!") < 0.5
    assert fires(redos, userAgent="aaaa") and not fires(redos, userAgent="aaa!")


def test_wildcard_string_is_linear(tmp_path: Path) -> None:
    # `*a*a*...*b` as a backtracking fullmatch is polynomial of degree 12 in the text
    many_stars = rule(tmp_path, "    userAgent: '" + "*a" * 12 + "*b'")
    assert seconds(many_stars, userAgent="a" * 20_000) < 0.5
    assert fires(many_stars, userAgent="x" + "a" * 12 + "yb") and not fires(many_stars, userAgent="a" * 12)


@pytest.mark.parametrize(
    ("pattern", "construct"),
    [(r"(a)\1", "backreference"), ("(?=a)b", "lookahead"), ("(?<!a)b", "lookbehind"), ("a++", "possessive")],
)
def test_constructs_re2_lacks_cannot_run(tmp_path: Path, pattern: str, construct: str) -> None:
    r = rule(tmp_path, f"    userAgent|re: '{pattern}'")
    assert not r.runnable, construct
    assert "cannot run on RE2, the linear-time engine" in r.reason and pattern in r.reason


def test_re_keeps_sigma_semantics(tmp_path: Path) -> None:
    plain = rule(tmp_path, "    userAgent|re: 'Boto3/1\\.[0-9]+ '", 1)
    assert fires(plain, userAgent="aws-sdk Boto3/1.34 Python")  # searched anywhere: not anchored
    assert not fires(plain, userAgent="boto3/1.34 x")  # case-sensitive unless |i
    folded = rule(tmp_path, "    userAgent|re|i: '^boto3'", 2)
    assert fires(folded, userAgent="BOTO3/1.34") and not fires(folded, userAgent="x boto3")
    lines = rule(tmp_path, "    userAgent|re|m: '^second$'", 3)
    assert fires(lines, userAgent="first\nsecond\nthird")
    assert not fires(rule(tmp_path, "    userAgent|re: '^second$'", 4), userAgent="first\nsecond\nthird")
    dots = rule(tmp_path, "    userAgent|re|s: 'a.b'", 5)
    assert fires(dots, userAgent="a\nb")
    assert not fires(rule(tmp_path, "    userAgent|re: 'a.b'", 6), userAgent="a\nb")
    # a regex also sees the JSON text and the values of an object-valued field
    nested = rule(tmp_path, '    requestParameters|re: \'"bucketName":"prod-[0-9]+"\'', 7)
    assert fires(nested, requestParameters={"bucketName": "prod-42"})


def test_many_contains_values_are_one_pass(tmp_path: Path) -> None:
    values = "".join(f"      - ioc-{i:05d}-x\n" for i in range(20_000))
    big = rule(tmp_path, f"    userAgent|contains:\n{values}")
    agents = [f"aws-cli/2.{i} Python/3.11" for i in range(2_003)]
    start = time.perf_counter()
    assert not any(fires(big, userAgent=a) for a in agents)
    assert time.perf_counter() - start < 1.0  # was 13 s: every value tested against every record
    assert fires(big, userAgent="curl IOC-19999-X/1")  # case-insensitive, anywhere
    assert not fires(big, userAgent="ioc-20000-x")


def _naive(kind: str, needles: list[str], text: str) -> bool:
    tests = {
        EXACT: lambda n: text == n,
        CONTAINS: lambda n: n in text,
        STARTSWITH: text.startswith,
        ENDSWITH: text.endswith,
    }
    return any(tests[kind](n) for n in needles)


@pytest.mark.parametrize("kind", [EXACT, CONTAINS, STARTSWITH, ENDSWITH])
def test_any_literal_agrees_with_testing_each_value(kind: str) -> None:
    rng = random.Random(7)
    alphabet = "abé/:*"
    for _ in range(300):
        needles = ["".join(rng.choices(alphabet, k=rng.randint(0, 4))) for _ in range(rng.randint(2, 6))]
        text = "".join(rng.choices(alphabet, k=rng.randint(0, 8)))
        assert any_literal(kind, needles)(text) is _naive(kind, needles, text), (kind, needles, text)


def test_lists_of_values_keep_sigma_semantics(tmp_path: Path) -> None:
    starts = rule(tmp_path, "    userAgent|startswith: [Boto3, aws-cli, curl]", 1)
    assert fires(starts, userAgent="CURL/8") and not fires(starts, userAgent="x curl")
    ends = rule(tmp_path, "    eventName|endswith: [Bucket, Trail]", 2)
    assert fires(ends, eventName="DeleteTRAIL") and not fires(ends, eventName="TrailX")
    cased = rule(tmp_path, "    userAgent|contains|cased: [Evil, Bad]", 3)
    assert fires(cased, userAgent="so Evil") and not fires(cased, userAgent="so evil")
    exact = rule(tmp_path, "    eventName: [DeleteBucket, StopLogging, DeleteTrail]", 4)
    assert fires(exact, eventName="stoplogging") and not fires(exact, eventName="StopLoggingX")
    # a list that mixes literal values and wildcards is still one OR
    mixed = rule(tmp_path, "    userAgent: ['*evil*', 'a?c', 'plain']", 5)
    assert all(fires(mixed, userAgent=a) for a in ("very EVIL one", "abc", "PLAIN"))
    assert not fires(mixed, userAgent="abbc")
    keywords = tmp_path / "keywords.yml"
    keywords.write_text(HEAD.format(n=9) + "detection:\n  words: [mimikatz, lazagne]\n  condition: words\n")
    (words,) = load_rules([keywords], include_shipped=False)
    assert fires(words, requestParameters={"command": ["run", "LaZagne.exe"]})
    assert not fires(words, requestParameters={"command": ["run"]})


def test_deeply_nested_record_values_are_matched_not_fatal(tmp_path: Path) -> None:
    deep: Any = "needle"
    for _ in range(900):  # orjson parses up to 1,024 levels; Python's own recursion stops near 1,000
        deep = [deep]
    contains = rule(tmp_path, "    requestParameters|contains: needle", 1)
    assert fires(contains, requestParameters={"x": deep})
    assert not fires(contains, requestParameters={"x": [[[["hay"]]]]})
    exists = rule(tmp_path, "    requestParameters.x|exists: true", 2)
    assert fires(exists, requestParameters={"x": deep})
