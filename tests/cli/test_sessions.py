"""`query --follow-sessions`, `activity --follow-sessions` and `activity --by-tactic` (CLI)."""

from __future__ import annotations

import csv
import gzip
import io
import json
from pathlib import Path
from typing import Any

import boto3  # type: ignore[import-untyped]
import pytest
from audit_trail.cli.app import app
from typer.testing import CliRunner

ACCOUNT = "111122223333"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/"
DAY = f"AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/2026/11/20"
runner = CliRunner()


def identity(kind: str, name: str, key: str) -> dict[str, Any]:
    if kind == "user":
        return {
            "type": "IAMUser",
            "arn": f"arn:aws:iam::{ACCOUNT}:user/{name}",
            "userName": name,
            "accessKeyId": key,
        }
    role, session = name.split("/")
    return {
        "type": "AssumedRole",
        "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{session}",
        "accessKeyId": key,
        "sessionContext": {"sessionIssuer": {"type": "Role", "arn": f"{ROLE}{role}", "userName": role}},
    }


def event(n: int, who: dict[str, Any], source: str, name: str, **extra: Any) -> dict[str, Any]:
    return {
        "eventTime": f"2026-11-20T10:{n:02d}:00Z",
        "eventSource": f"{source}.amazonaws.com",
        "eventName": name,
        "eventID": f"evt-{n:02d}",
        "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.66",
        "userIdentity": who,
        **extra,
    }


def assume(n: int, who: dict[str, Any], role: str, session: str, key: str) -> dict[str, Any]:
    return event(
        n,
        who,
        "sts",
        "AssumeRole",
        requestParameters={"roleArn": f"{ROLE}{role}", "roleSessionName": session},
        responseElements={"credentials": {"accessKeyId": key}},
    )


MALLORY = identity("user", "mallory", "AKIAMALLORY")
OPS = identity("role", "ops/maint", "ASIAOPS")
BACKUP = identity("role", "backup/hop", "ASIABACKUP")
OPS_BOB = identity("role", "ops/bob", "ASIAOPSBOB")
RECORDS = [
    event(1, MALLORY, "sts", "GetCallerIdentity"),
    assume(2, MALLORY, "ops", "maint", "ASIAOPS"),
    event(3, OPS, "s3", "ListBuckets"),
    assume(4, OPS, "backup", "hop", "ASIABACKUP"),
    event(5, BACKUP, "cloudtrail", "StopLogging"),
    event(6, BACKUP, "s3", "PutBucketPolicy"),
    assume(7, identity("user", "bob", "AKIABOB"), "ops", "bob", "ASIAOPSBOB"),
    event(8, OPS_BOB, "ec2", "DescribeInstances"),
]


def files() -> dict[str, bytes]:
    return {
        f"{DAY}/{ACCOUNT}_CloudTrail_us-east-1_20261120T10{i}0Z_f{i}.json.gz": gzip.compress(
            json.dumps({"Records": RECORDS[i * 3 : i * 3 + 3]}).encode()
        )
        for i in range(3)
    }


@pytest.fixture
def folder(tmp_path: Path) -> str:
    for key, body in files().items():
        (tmp_path / key).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / key).write_bytes(body)
    return str(tmp_path)


def invoke(*args: str) -> Any:
    return runner.invoke(app, list(args), env={"COLUMNS": "200"})


def test_query_follows_the_actor_through_a_role_chain(folder: str) -> None:
    plain = json.loads(invoke("query", folder, "--actor", "mallory", "-f", "json").stdout)
    assert [r["event_id"] for r in plain] == ["evt-01", "evt-02"]
    result = invoke("query", folder, "--actor", "mallory", "--follow-sessions", "-f", "json")
    assert result.exit_code == 0, result.output
    rows = {r["event_id"]: r for r in json.loads(result.stdout)}
    assert sorted(rows) == ["evt-01", "evt-02", "evt-03", "evt-04", "evt-05", "evt-06"]  # not bob's evt-07/08
    assert rows["evt-01"]["via_chain"] is None
    assert rows["evt-03"]["via_role_arn"] == f"{ROLE}ops" and rows["evt-03"]["via_issuing_event"] == "evt-02"
    assert rows["evt-05"]["via_chain"] == f"{ROLE}ops > {ROLE}backup"
    assert rows["evt-05"]["via_session_name"] == "hop"
    assert rows["evt-05"]["tactics"] == ["Defense Evasion"]
    table = invoke("query", folder, "--actor", "mallory", "--follow-sessions")
    assert "Events — 6 rows" in table.stdout and "backup" in table.stdout


def test_follow_sessions_needs_an_actor_and_the_local_engine(folder: str) -> None:
    no_actor = invoke("query", folder, "--follow-sessions")
    assert no_actor.exit_code == 2 and "--follow-sessions needs --actor" in no_actor.output
    athena = invoke("query", "--actor", "mallory", "--follow-sessions", "--engine", "athena")
    assert athena.exit_code == 2 and "use --engine local" in athena.output


def test_activity_tree_and_tactics(folder: str) -> None:
    result = invoke("activity", "mallory", folder, "--follow-sessions")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "mallory — 2 events, 6 with sessions" in out
    assert f"{ROLE}ops session maint (key ASIAOPS, event evt-02) — 2 events, 4 with sessions" in out
    assert f"{ROLE}backup session hop (key ASIABACKUP, event evt-04) — 2 events" in out
    assert "By ATT&CK tactic" in out and "Defense Evasion" in out
    tactics = json.loads(
        invoke("activity", "mallory", folder, "--follow-sessions", "--by-tactic", "-f", "json").stdout
    )
    evasion = next(t for t in tactics if t["tactic"] == "Defense Evasion")
    assert (evasion["events"], evasion["first_seen"]) == (1, "2026-11-20T10:05:00Z")
    own = json.loads(invoke("activity", "mallory", folder, "--by-tactic", "-f", "json").stdout)
    assert {t["tactic"] for t in own} >= {"Discovery"} and "Defense Evasion" not in {t["tactic"] for t in own}
    rows = json.loads(invoke("activity", "mallory", folder, "--follow-sessions", "-f", "json").stdout)
    assert sum(r["events"] for r in rows) == 6


def test_follow_sessions_on_s3(aws: str) -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="trail")
    for key, body in files().items():
        s3.put_object(Bucket="trail", Key=key, Body=body)
    result = invoke("query", "s3://trail/", "--actor", "mallory", "--follow-sessions", "-f", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["event_id"] for r in rows] == [f"evt-0{n}" for n in range(1, 7)]
    assert rows[-1]["via_chain"] == f"{ROLE}ops > {ROLE}backup"


def test_follow_sessions_of_several_actors_and_by_any_name(folder: str) -> None:
    """`--follow-sessions` builds on the `--actor` filter: repeated values, any case, globs, role names."""
    both = invoke("query", folder, "--actor", "MALLORY", "--actor", "bob", "--follow-sessions", "-f", "json")
    assert both.exit_code == 0, both.output
    assert [r["event_id"] for r in json.loads(both.stdout)] == [f"evt-0{n}" for n in range(1, 9)]
    by_glob = invoke("query", folder, "--actor", "mal*", "--follow-sessions", "-f", "json")
    assert [r["event_id"] for r in json.loads(by_glob.stdout)] == [f"evt-0{n}" for n in range(1, 7)]
    # A role name is an actor too: the sessions of role ops, then what they opened.
    ops = invoke("query", folder, "--actor", "ops", "--follow-sessions", "-f", "json")
    assert [r["event_id"] for r in json.loads(ops.stdout)] == [
        "evt-03",
        "evt-04",
        "evt-05",
        "evt-06",
        "evt-08",
    ]
    tree = invoke("activity", "bob", folder, "--follow-sessions")
    assert "bob — 1 events, 2 with sessions" in tree.stdout
