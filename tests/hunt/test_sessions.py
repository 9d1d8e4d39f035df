"""Following an actor through role chains: keys issued by STS tie role sessions back to who opened them."""

from __future__ import annotations

import gzip
import itertools
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import boto3  # type: ignore[import-untyped]
import pytest
from audit_trail.cli.investigate import follow_in_scope
from audit_trail.cli.options import Scope
from audit_trail.errors import UserError
from audit_trail.hunt.follow import (
    VIA_COLUMNS,
    IssuesCredentials,
    actor_in,
    enriched,
    follow_actor_in,
    following_in,
)
from audit_trail.hunt.sessions import follow, session_tree
from audit_trail.investigate import local
from audit_trail.investigate.ask import Engine
from audit_trail.investigate.sources import list_log_files
from audit_trail.queries import questions
from audit_trail.window import Window
from support.sessions import follow_actor, issuing_records

ACCOUNT = "111122223333"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/"
Rec = dict[str, Any]
_ids = itertools.count(1)


def user(name: str) -> dict[str, Any]:
    return {
        "type": "IAMUser",
        "arn": f"arn:aws:iam::{ACCOUNT}:user/{name}",
        "userName": name,
        "accessKeyId": f"AKIA{name.upper()}",
        "accountId": ACCOUNT,
    }


def role_session(role: str, session: str, key: str, source_identity: str | None = None) -> dict[str, Any]:
    context: dict[str, Any] = {
        "sessionIssuer": {"type": "Role", "arn": f"arn:aws:iam::{ACCOUNT}:role/{role}", "userName": role}
    }
    if source_identity:
        context["sourceIdentity"] = source_identity
    return {
        "type": "AssumedRole",
        "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{session}",
        "accessKeyId": key,
        "accountId": ACCOUNT,
        "sessionContext": context,
    }


def call(identity: dict[str, Any], name: str, source: str = "ec2", **extra: Any) -> dict[str, Any]:
    return {
        "eventTime": "2026-11-20T10:00:00Z",
        "eventSource": f"{source}.amazonaws.com",
        "eventName": name,
        "eventID": f"e{next(_ids)}",
        "userIdentity": identity,
        **extra,
    }


def assume(
    identity: dict[str, Any], role: str, session: str, issued: str | None, **request: Any
) -> dict[str, Any]:
    """AssumeRole by `identity`; issued=None makes it a failed call (no credentials)."""
    record = call(
        identity,
        "AssumeRole",
        "sts",
        requestParameters={
            "roleArn": f"arn:aws:iam::{ACCOUNT}:role/{role}",
            "roleSessionName": session,
            **request,
        },
    )
    if issued is None:
        record.update(errorCode="AccessDenied", responseElements=None)
    else:
        record["responseElements"] = {"credentials": {"accessKeyId": issued, "expiration": "x"}}
    return record


def is_alice(record: Mapping[str, Any]) -> bool:
    return (record.get("userIdentity") or {}).get("userName") == "alice"


ALICE, BOB = user("alice"), user("bob")
A_ALICE = role_session("A", "alice-session", "ASIAALICEA")
B_ALICE = role_session("B", "chained", "ASIAALICEB")
A_BOB = role_session("A", "bob-session", "ASIABOBA")

# The role-B events come first on purpose: files are not read in time order.
RECORDS = [
    call(B_ALICE, "DeleteTrail", "cloudtrail"),
    assume(A_ALICE, "B", "chained", "ASIAALICEB"),
    call(ALICE, "ListBuckets", "s3"),
    assume(ALICE, "A", "alice-session", "ASIAALICEA"),
    call(A_ALICE, "RunInstances"),
    call(A_ALICE, "DescribeInstances"),
    assume(ALICE, "C", "denied", None),  # failed: issues nothing
    call(role_session("C", "denied", "ASIAUNKNOWN"), "GetObject", "s3"),
    assume(BOB, "A", "bob-session", "ASIABOBA"),  # same role, other user
    call(A_BOB, "TerminateInstances"),
    call(B_ALICE, "StopLogging", "cloudtrail"),
]


def names(rows: list[tuple[Mapping[str, Any], Any]]) -> list[str]:
    return [record["eventName"] for record, _ in rows]


def test_user_then_role_then_chained_role_in_any_order() -> None:
    rows = follow_actor(RECORDS, is_alice)
    assert names(rows) == [
        "DeleteTrail",
        "AssumeRole",  # role A's session assuming B
        "ListBuckets",
        "AssumeRole",  # alice assuming A
        "RunInstances",
        "DescribeInstances",
        "AssumeRole",  # alice's failed attempt is still her own event
        "StopLogging",
    ]
    via = {record["eventName"]: session for record, session in rows if session is not None}
    assert via["RunInstances"].role_arn == f"arn:aws:iam::{ACCOUNT}:role/A"
    assert via["RunInstances"].session_name == "alice-session"
    chained = via["StopLogging"]
    assert [s.role_arn.rsplit("/", 1)[1] for s in chained.chain() if s.role_arn] == ["A", "B"]
    assert chained.issuing_event_id == RECORDS[1]["eventID"]
    assert chained.via()["via_chain"].endswith("role/A > arn:aws:iam::111122223333:role/B")


def test_failed_assume_role_and_other_users_sessions_are_not_followed() -> None:
    rows = follow_actor(RECORDS, is_alice)
    assert "GetObject" not in names(rows)  # the denied role was never obtained
    assert "TerminateInstances" not in names(rows)  # bob's session of the same role A
    bob_rows = follow_actor(RECORDS, lambda r: (r.get("userIdentity") or {}).get("userName") == "bob")
    assert names(bob_rows) == ["AssumeRole", "TerminateInstances"]


def test_only_successful_sts_calls_issue_keys() -> None:
    issuing = issuing_records(RECORDS)
    assert [r["responseElements"]["credentials"]["accessKeyId"] for r in issuing] == [
        "ASIAALICEB",
        "ASIAALICEA",
        "ASIABOBA",
    ]
    followed = follow(issuing, is_alice)
    assert set(followed.sessions) == {"ASIAALICEA", "ASIAALICEB"}


def test_source_identity_reaches_sessions_whose_issuing_call_is_out_of_view() -> None:
    records = [
        assume(ALICE, "D", "s", "ASIAD", sourceIdentity="alice@corp"),
        call(role_session("D", "s", "ASIAD", "alice@corp"), "ListRoles", "iam"),
        # role E was assumed from D in a file outside the window: only sourceIdentity ties it back
        call(role_session("E", "hop", "ASIAE", "alice@corp"), "PutBucketPolicy", "s3"),
        call(role_session("E", "other", "ASIAX", "mallory"), "PutBucketAcl", "s3"),
    ]
    rows = follow_actor(records, is_alice)
    assert names(rows) == ["AssumeRole", "ListRoles", "PutBucketPolicy"]
    assert rows[2][1] is not None and rows[2][1].access_key_id == "ASIAD"


def test_other_issuing_calls_are_followed_too() -> None:
    federation = call(
        ALICE,
        "GetFederationToken",
        "sts",
        requestParameters={"name": "fed"},
        responseElements={"credentials": {"accessKeyId": "ASIAFED"}},
    )
    fed_identity = {
        "type": "FederatedUser",
        "arn": "arn:aws:sts::1:federated-user/fed",
        "accessKeyId": "ASIAFED",
    }
    rows = follow_actor([federation, call(fed_identity, "GetSecretValue", "secretsmanager")], is_alice)
    assert names(rows) == ["GetFederationToken", "GetSecretValue"]
    assert rows[1][1] is not None and rows[1][1].how == "GetFederationToken"
    assert rows[1][1].session_name == "fed"


def test_session_tree_counts_events_per_branch() -> None:
    rows = follow_actor(RECORDS, is_alice)
    tree = session_tree("alice", [session for _, session in rows])
    assert tree.events == 3 and tree.total == 8
    (role_a,) = tree.children.values()
    assert role_a.events == 3 and "role/A session alice-session" in role_a.label
    (role_b,) = role_a.children.values()
    assert role_b.events == 2 and role_b.total == 2


# --- over a log folder, through the scanner (two prefiltered scans) ---


def write_logs(root: Path, records: list[dict[str, Any]]) -> None:
    day = root / f"AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/2026/11/20"
    day.mkdir(parents=True)
    for i, chunk in enumerate((records[:4], records[4:8], records[8:])):
        name = f"{ACCOUNT}_CloudTrail_us-east-1_20261120T10{i}0Z_f{i}.json.gz"
        (day / name).write_bytes(gzip.compress(json.dumps({"Records": chunk}).encode()))
    noise = [call(user("carol"), "DescribeRegions") for _ in range(3)]
    (day / f"{ACCOUNT}_CloudTrail_us-east-1_20261120T1100Z_noise.json.gz").write_bytes(
        gzip.compress(json.dumps({"Records": noise}).encode())
    )


def test_following_through_the_scanner_and_the_query_engine(tmp_path: Path) -> None:
    write_logs(tmp_path, RECORDS)
    files = list_log_files(str(tmp_path))
    following = follow_actor_in(files, "alice")
    assert sorted(e["event_name"] for e in following.timeline) == sorted(
        names(follow_actor(RECORDS, is_alice))
    )
    tree = following.tree()
    assert (tree.events, tree.total) == (3, 8)
    via = following.via()
    stop = next(e["event_id"] for e in following.timeline if e["event_name"] == "StopLogging")
    assert via[stop]["via_role_arn"] == f"{ROLE}B" and via[stop]["via_chain"] == f"{ROLE}A > {ROLE}B"
    # The same selection, as SQL in the local engine's `events` view.
    question = questions.events().with_filters(following.filter).with_tactics()
    answer = local.answer(str(tmp_path), question, Window())
    assert sorted(r["event_id"] for r in answer.rows) == sorted(e["event_id"] for e in following.timeline)
    rows = enriched(answer, following).rows
    by_name = {r["action"]: r for r in rows}
    assert by_name["cloudtrail:StopLogging"]["via_session_name"] == "chained"
    assert by_name["cloudtrail:StopLogging"]["tactics"] == ["Defense Evasion"]
    assert by_name["s3:ListBuckets"]["via_role_arn"] is None  # alice's own key
    assert by_name["ec2:RunInstances"]["via_issuing_event"] == RECORDS[3]["eventID"]
    bob = follow_actor_in(files, "bob")
    assert sorted(e["event_name"] for e in bob.timeline) == ["AssumeRole", "TerminateInstances"]


def test_tactics_of_an_actor_in_attack_order(tmp_path: Path) -> None:
    write_logs(tmp_path, RECORDS)
    rows = follow_actor_in(list_log_files(str(tmp_path)), "alice").tactics()
    assert [r["tactic"] for r in rows] == [
        "Initial Access",
        "Persistence",
        "Privilege Escalation",
        "Defense Evasion",
        "Discovery",
        "Lateral Movement",
        "Impact",
    ]
    by_tactic = {r["tactic"]: r for r in rows}
    assert "cloudtrail:StopLogging" in by_tactic["Defense Evasion"]["actions"]
    assert by_tactic["Defense Evasion"]["events"] == 2  # StopLogging and DeleteTrail
    own = actor_in(list_log_files(str(tmp_path)), "alice").tactics()
    assert "Defense Evasion" not in {r["tactic"] for r in own}  # only reached through role B


def test_following_in_an_s3_source(aws: str, tmp_path: Path) -> None:
    write_logs(tmp_path, RECORDS)
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="trail")
    for path in tmp_path.rglob("*.json.gz"):
        s3.put_object(Bucket="trail", Key=str(path.relative_to(tmp_path)), Body=path.read_bytes())
    remote = following_in("s3://trail/", Window(), "alice")
    local_one = following_in(str(tmp_path), Window(), "alice")
    assert [e["event_id"] for e in remote.timeline] == [e["event_id"] for e in local_one.timeline]
    assert remote.tree().total == 8
    own_only = following_in("s3://trail/", Window(), "alice", sessions=False)
    assert sorted(e["event_name"] for e in own_only.timeline) == ["AssumeRole", "AssumeRole", "ListBuckets"]


def test_follow_scope_checks_and_enriches_event_rows(tmp_path: Path) -> None:
    write_logs(tmp_path, RECORDS)
    with pytest.raises(UserError, match="--follow-sessions needs --actor"):
        follow_in_scope(None, Scope(str(tmp_path), Window()))
    with pytest.raises(UserError, match="use --engine local"):
        follow_in_scope(["alice"], Scope(None, Window(), Engine.athena))
    following = follow_in_scope(["alice"], Scope(str(tmp_path), Window()))
    question = questions.events().with_filters(following.filter).with_tactics()
    answer = local.answer(str(tmp_path), question, Window())
    answer = enriched(answer, following)
    assert answer.columns[-5:] == ["tactics", *VIA_COLUMNS]
    stop = next(r for r in answer.rows if r["action"] == "cloudtrail:StopLogging")
    assert stop["tactics"] == ["Defense Evasion"] and stop["via_chain"] == f"{ROLE}A > {ROLE}B"


def test_issuing_filter_sql_agrees_with_its_python_test(tmp_path: Path) -> None:
    write_logs(tmp_path, RECORDS)
    answer = local.answer(str(tmp_path), questions.events().with_filters(IssuesCredentials()), Window())
    assert sorted(r["event_id"] for r in answer.rows) == sorted(
        r["eventID"] for r in issuing_records(RECORDS)
    )


def test_a_timeline_is_in_the_order_of_its_instants(tmp_path: Path) -> None:
    """As text, `...:00.500Z` would come before `...:00Z`: the timeline (and the session tree's order) goes by
    the instant."""
    times = ["2026-11-20T10:00:00.500Z", "2026-11-20T10:00:01Z", "2026-11-20T10:00:00Z"]
    records = [{**call(user("alice"), "DescribeRegions"), "eventTime": when} for when in times]
    write_logs(tmp_path, records)
    for found in (actor_in, follow_actor_in):
        timeline = found(list_log_files(str(tmp_path)), "alice").timeline
        assert [e["event_id"] for e in timeline] == [records[i]["eventID"] for i in (2, 0, 1)]
