"""Sigma semantics of the evaluator, rule by rule, and how user rules that cannot run are listed."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
from audit_trail.errors import UserError
from audit_trail.hunt.evaluate import RuleMatcher, UnsupportedRule, compile_rule
from audit_trail.hunt.levels import parse_level
from audit_trail.hunt.rules import listing_rows, load_rules
from sigma.rule import SigmaRule

HEADER = """
title: t
id: 5a3f2e1c-0000-4000-8000-000000000001
logsource: {product: aws, service: cloudtrail}
author: Test Author
level: high
"""


def matcher(detection: str) -> Any:
    rule = SigmaRule.from_yaml(HEADER + "detection:\n" + textwrap.indent(textwrap.dedent(detection), "  "))
    return compile_rule(rule).predicate


def rec(**fields: Any) -> dict[str, Any]:
    return {"eventSource": "iam.amazonaws.com", "eventName": "CreateUser", **fields}


def test_strings_are_case_insensitive_unless_cased() -> None:
    plain = matcher("sel: {eventName: createuser}\ncondition: sel")
    cased = matcher("sel: {eventName|cased: createuser}\ncondition: sel")
    assert plain(rec()) and not cased(rec())
    assert cased(rec(eventName="createuser"))


def test_wildcards_and_escapes() -> None:
    star = matcher("sel: {userAgent: 'aws-cli/*'}\ncondition: sel")
    one = matcher("sel: {eventName: 'CreateUse?'}\ncondition: sel")
    literal = matcher("sel: {userAgent: 'a\\*b'}\ncondition: sel")
    assert star(rec(userAgent="AWS-CLI/2.15")) and not star(rec(userAgent="boto3 aws-cli/2"))
    assert one(rec()) and not one(rec(eventName="CreateUsers"))
    assert literal(rec(userAgent="a*b")) and not literal(rec(userAgent="axxb"))


def test_list_is_or_and_all_is_and() -> None:
    any_of = matcher("sel: {userAgent|contains: [boto3, terraform]}\ncondition: sel")
    all_of = matcher("sel: {userAgent|contains|all: [boto3, terraform]}\ncondition: sel")
    assert any_of(rec(userAgent="Boto3/1.34")) and not all_of(rec(userAgent="Boto3/1.34"))
    assert all_of(rec(userAgent="Terraform/1.6 boto3"))


def test_null_matches_missing_or_null_but_not_empty() -> None:
    null = matcher("sel: {errorCode: null}\ncondition: sel")
    assert null(rec()) and null(rec(errorCode=None))
    assert not null(rec(errorCode="")) and not null(rec(errorCode="AccessDenied"))
    empty = matcher("sel: {errorCode: ''}\ncondition: sel")
    assert empty(rec(errorCode="")) and not empty(rec())


def test_startswith_endswith_and_dotted_paths() -> None:
    sw = matcher("sel: {userIdentity.arn|startswith: 'arn:aws:sts::'}\ncondition: sel")
    ew = matcher("sel: {userIdentity.arn|endswith: '/Admin'}\ncondition: sel")
    assert sw(rec(userIdentity={"arn": "ARN:AWS:STS::1:assumed-role/x/y"}))
    assert not sw(rec(userIdentity={"arn": "arn:aws:iam::1:user/x"})) and not sw(rec())
    assert ew(rec(userIdentity={"arn": "arn:aws:iam::1:role/admin"}))
    assert not ew(rec(userIdentity=None))


def test_regex_is_case_sensitive_unanchored_and_i_flag() -> None:
    sensitive = matcher("sel: {userAgent|re: 'Boto3/1\\.3[0-9]'}\ncondition: sel")
    insensitive = matcher("sel: {userAgent|re|i: '^boto3/'}\ncondition: sel")
    assert sensitive(rec(userAgent="x Boto3/1.34 y")) and not sensitive(rec(userAgent="boto3/1.34"))
    assert insensitive(rec(userAgent="BOTO3/1")) and not insensitive(rec(userAgent="x boto3/1"))


def test_fieldref_with_and_without_contains() -> None:
    same = matcher("sel: {requestParameters.userName|fieldref: userIdentity.userName}\ncondition: sel")
    inside = matcher("sel: {userIdentity.arn|fieldref|endswith: requestParameters.userName}\ncondition: sel")
    mine = rec(userIdentity={"userName": "Alice", "arn": "arn:aws:iam::1:user/alice"}, requestParameters={})
    mine["requestParameters"]["userName"] = "alice"
    assert same(mine) and inside(mine)
    theirs = {**mine, "requestParameters": {"userName": "bob"}}
    assert not same(theirs) and not inside(theirs)
    assert not same(rec(userIdentity={"userName": "alice"}))  # referenced field missing


def test_conditions_selectors_and_not() -> None:
    one_of = matcher(
        """
        selection_a: {eventName: DeleteTrail}
        selection_b: {eventName: StopLogging}
        filter: {userAgent|contains: console}
        condition: 1 of selection_* and not filter
        """
    )
    assert one_of(rec(eventName="stoplogging", userAgent="aws-cli"))
    assert not one_of(rec(eventName="StopLogging", userAgent="AWS Internal console"))
    assert not one_of(rec(eventName="StartLogging"))
    all_of = matcher(
        "a: {eventName: CreateUser}\nb: {eventSource: iam.amazonaws.com}\ncondition: all of them"
    )
    assert all_of(rec()) and not all_of(rec(eventSource="sso.amazonaws.com"))


def test_list_of_maps_is_or_and_values_inside_lists_and_objects() -> None:
    either = matcher("sel:\n  - eventName: A\n  - userAgent: B\ncondition: sel")
    assert either(rec(eventName="a")) and either(rec(userAgent="b")) and not either(rec())
    nested = matcher("sel: {resources.ARN|endswith: ':trail/main'}\ncondition: sel")
    assert nested(rec(resources=[{"ARN": "arn:aws:s3:::b"}, {"ARN": "arn:aws:cloudtrail:x:1:trail/main"}]))
    obj = matcher('sel: {requestParameters|contains: \'"Effect":"Deny"\'}\ncondition: sel')
    assert obj(rec(requestParameters={"Effect": "Deny"}))  # the object's JSON text
    boolean = matcher("sel: {readOnly: 'TRUE'}\ncondition: sel")
    assert boolean(rec(readOnly=True)) and not boolean(rec(readOnly=False))


def test_exists_cidr_numbers_and_keywords() -> None:
    exists = matcher("sel: {errorCode|exists: true}\ncondition: sel")
    assert exists(rec(errorCode=None)) and not exists(rec())
    cidr = matcher("sel: {sourceIPAddress|cidr: 203.0.113.0/24}\ncondition: sel")
    assert cidr(rec(sourceIPAddress="203.0.113.9"))
    assert not cidr(rec(sourceIPAddress="AWS Internal")) and not cidr(rec(sourceIPAddress="198.51.100.1"))
    gt = matcher("sel: {requestParameters.maxResults|gt: 500}\ncondition: sel")
    assert gt(rec(requestParameters={"maxResults": 1000})) and not gt(
        rec(requestParameters={"maxResults": 5})
    )
    keyword = matcher("keywords: [mimikatz]\ncondition: keywords")
    assert keyword(rec(requestParameters={"tags": [{"value": "MIMIKATZ.exe"}]})) and not keyword(rec())


def test_placeholders_cannot_run() -> None:
    rule = SigmaRule.from_yaml(HEADER + "detection:\n  sel: {userName|expand: '%admins%'}\n  condition: sel")
    with pytest.raises(UnsupportedRule, match="placeholder"):
        compile_rule(rule)


def test_matcher_indexes_on_required_values_only() -> None:
    rules = [
        SigmaRule.from_yaml(HEADER + "detection:\n  s: {eventName: [A, B]}\n  condition: s"),
        SigmaRule.from_yaml(
            HEADER + "detection:\n  s: {eventName: A}\n  f: {userAgent: x}\n  condition: s or f"
        ),
        SigmaRule.from_yaml(HEADER + "detection:\n  s: {eventName: A}\n  condition: not s"),
    ]
    compiled = [compile_rule(r) for r in rules]
    assert compiled[0].index == ("eventName", frozenset({"a", "b"}))
    assert compiled[1].index is None and compiled[2].index is None
    m = RuleMatcher(compiled)
    assert m.matches({"eventName": "b"}) == [0, 2]
    assert m.matches({"eventName": "a", "userAgent": "X"}) == [0, 1]


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path


def test_user_rules_are_listed_with_the_reason_they_cannot_run(tmp_path: Path) -> None:
    write(
        tmp_path,
        "mine.yml",
        HEADER + "detection:\n  sel: {eventName: GetSecretValue}\n  condition: sel\n",
    )
    write(
        tmp_path,
        "windows.yml",
        HEADER.replace(
            "{product: aws, service: cloudtrail}", "{product: windows, category: process_creation}"
        ).replace("0001", "0002")
        + "detection:\n  sel: {Image|endswith: cmd.exe}\n  condition: sel\n",
    )
    (tmp_path / "sub").mkdir()
    write(
        tmp_path,
        "sub/corr.yml",
        """
        title: many failures
        id: 5a3f2e1c-0000-4000-8000-000000000003
        correlation:
          type: event_count
          rules: [5a3f2e1c-0000-4000-8000-000000000001]
          group-by: [userIdentity.arn]
          timespan: 5m
          condition: {gte: 10}
        """,
    )
    write(tmp_path, "broken.yaml", "title: [unclosed\n")
    write(
        tmp_path,
        "badmod.yml",
        HEADER.replace("0001", "0004") + "detection:\n  s: {a|nope: 1}\n  condition: s\n",
    )

    rules = load_rules([tmp_path], include_shipped=False)
    by_file = {(r.path.name, r.title): r for r in rules}
    assert by_file[("mine.yml", "t")].runnable
    reasons = {name: r.reason for (name, _), r in by_file.items() if not r.runnable}
    assert "not AWS CloudTrail" in reasons["windows.yml"]
    assert reasons["corr.yml"].startswith("correlation rule")
    assert reasons["broken.yaml"].startswith("not a readable Sigma file")
    assert "nope" in reasons["badmod.yml"]
    rows = listing_rows(rules)
    assert [row["runnable"] for row in rows] == ["yes", "no", "no", "no", "no"]
    assert rows[0]["author"] == "Test Author"

    both = load_rules([tmp_path / "mine.yml"])
    assert len(both) == 58 and sum(r.runnable for r in both) == 58


def test_bad_rule_paths_and_levels_are_user_errors(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"--rules '.*nowhere' does not exist"):
        load_rules([tmp_path / "nowhere"])
    with pytest.raises(
        UserError, match="--min-level 'severe' is not a Sigma level; use one of: informational"
    ):
        parse_level("severe", "--min-level")
    assert parse_level("HIGH", "--fail-on") == "high"


def test_neq_windash_and_base64offset() -> None:
    neq = matcher("sel: {eventName: CreateUser, awsRegion|neq: us-east-1}\ncondition: sel")
    assert neq(rec(awsRegion="eu-west-1")) and not neq(rec(awsRegion="US-EAST-1"))
    dash = matcher("sel: {userAgent|windash|contains: ' -enc '}\ncondition: sel")
    assert (
        dash(rec(userAgent="x /enc y")) and dash(rec(userAgent="x -enc y")) and not dash(rec(userAgent="enc"))
    )
    b64 = matcher("sel: {requestParameters.userData|base64offset|contains: 'curl '}\ncondition: sel")
    assert b64(
        rec(requestParameters={"userData": "IyEvYmluL3NoCmN1cmwgaHR0cDovL3g="})
    )  # "#!/bin/sh\ncurl http://x"
    assert not b64(rec(requestParameters={"userData": "IyEvYmluL3NoCndnZXQgeA=="}))
