"""Who is the actor, and more than one value: each form of `--actor` on real records (TrailDiscover's and
Stratus Red Team's, tests/data), compared with a plain reading of the records; exclusions, repeated values,
IP networks, user agents and event ids; the checks on what a user types.

The filters' SQL decides (run here over the `events` rows of the records); that the scanner's Python test and
prefilter agree with it is tests/investigate/test_scanner.py's part, the whole path the CLI tests'."""

from __future__ import annotations

import itertools
import json
import random
import time
from collections import Counter
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pytest
from audit_trail.errors import UserError
from audit_trail.investigate.events import EventRow
from audit_trail.investigate.sample_logs import ACCOUNT
from audit_trail.queries import filters as f
from audit_trail.queries.prefilter import may_hold
from support.logs import EventsTable, real_records, records_in, stratus_records

Record = dict[str, Any]


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> tuple[EventsTable, list[Record]]:
    records = [*real_records(), *stratus_records()]
    return EventsTable(records, tmp_path_factory.mktemp("real-actors")), records


@pytest.fixture(scope="module")
def generated(generated_trail: tuple[Path, Any], tmp_path_factory: pytest.TempPathFactory) -> EventsTable:
    root, _ = generated_trail
    return EventsTable(records_in(root), tmp_path_factory.mktemp("gen-table"))


def found(table: EventsTable, *filters: f.Filter) -> Counter[str]:
    """The event ids the filters' SQL selects."""
    return table.ids(*filters)


def where(records: list[Record], keep: Any) -> Counter[str]:
    """The event ids of the records a plain reading keeps."""
    return Counter(r["eventID"] for r in records if keep(r.get("userIdentity") or {}))


def _issuer(identity: Record) -> Record:
    return (identity.get("sessionContext") or {}).get("sessionIssuer") or {}


# --- each form of the actor, on real records ----------------------------------------------------------------


def test_an_iam_user_name_in_any_case(real) -> None:
    table, records = real
    expected = where(records, lambda u: u.get("userName") == "christophe")
    assert expected and found(table, f.Actor("christophe")) == expected
    assert found(table, f.Actor("CHRISTOPHE")) == expected


def test_a_role_name_finds_every_session_of_the_role(real) -> None:
    """Including the record that names the role only in its assumed-role ARN (no sessionIssuer)."""
    table, records = real
    role = "AWSReservedSSO_AdministratorAccess_1b74cd717d47002b"
    expected = where(
        records,
        lambda u: _issuer(u).get("userName") == role or f":assumed-role/{role}/" in (u.get("arn") or ""),
    )
    no_issuer = where(records, lambda u: u.get("type") == "Unknown" and f"/{role}/" in u.get("arn", ""))
    assert len(no_issuer) == 1 and no_issuer <= expected
    assert found(table, f.Actor(role)) == expected
    assert found(table, f.Actor(role.lower())) == expected
    issuer_arn = next(
        _issuer(r["userIdentity"])["arn"] for r in records if _issuer(r.get("userIdentity") or {})
    )
    by_role_arn = where(records, lambda u: _issuer(u).get("arn") == issuer_arn)
    assert found(table, f.Actor(issuer_arn)) >= by_role_arn


def test_a_role_arn_with_a_path_finds_the_sessions_that_have_no_issuer() -> None:
    row = {"principal_arn": "arn:aws:sts::111111111111:assumed-role/Admin/alice", "identity_type": "Unknown"}
    assert f.Actor("arn:aws:iam::111111111111:role/team/Admin").test(row)
    assert f.Actor("arn:aws:iam::*:role/Admin").test(row)
    assert not f.Actor("arn:aws:iam::222222222222:role/Admin").test(row)
    # A glob in the name of a role with a path stays on the issuer ARN: the session ARN has no path.
    assert not f.Actor("arn:aws:iam::111111111111:role/team/Adm*").test(row)


def test_a_role_session_name(real) -> None:
    table, records = real
    expected = where(records, lambda u: (u.get("arn") or "").rsplit("/", 1)[-1] == "AdanAlvarez")
    assert len(expected) > 60 and found(table, f.Actor("adanalvarez")) == expected


def test_a_federated_user_by_name_arn_and_principal_id(real) -> None:
    table, records = real
    federated = where(records, lambda u: u.get("type") == "FederatedUser")
    assert len(federated) == 1
    for who in (
        "stratus_red_team",
        "arn:aws:sts::742491224508:federated-user/stratus_red_team",
        "742491224508:stratus_red_team",
    ):
        assert found(table, f.Actor(who)) == federated, who
    # The IAM user who federated: its own calls and its federated user's (the session issuer).
    issuer = found(table, f.Actor("stratus-red-team-user-federation-user"))
    assert federated <= issuer and len(issuer) == 2


def test_user_and_assumed_role_arns(real) -> None:
    table, records = real
    user = "arn:aws:iam::457448411975:user/christophe"
    assert found(table, f.Actor(user)) == where(records, lambda u: u.get("arn") == user)
    session = next(
        r["userIdentity"]["arn"] for r in records if r["userIdentity"].get("type") == "AssumedRole"
    )
    assert found(table, f.Actor(session)) == where(records, lambda u: u.get("arn") == session)


def test_access_key_and_principal_ids(real) -> None:
    table, records = real
    key, principal = "ASIANQQHHS551LWULIWD", "AIDA10CZIPPG73T21TDI"
    assert found(table, f.Actor(key.lower())) == where(records, lambda u: u.get("accessKeyId") == key)
    assert found(table, f.Actor(principal)) == where(records, lambda u: u.get("principalId") == principal)
    assert len(found(table, f.Actor(principal))) > 10


def test_globs(real) -> None:
    table, records = real
    roles = where(records, lambda u: _issuer(u).get("userName", "").startswith("stratus-red-team-"))
    users = where(records, lambda u: (u.get("userName") or "").startswith("stratus-red-team-"))
    assert found(table, f.Actor("Stratus-Red-Team-*")) == roles + users
    assert found(table, f.Actor("arn:aws:sts::*:assumed-role/test-role/*")) == where(
        records, lambda u: "assumed-role/test-role/" in (u.get("arn") or "")
    )


def test_an_account_id_stands_for_its_root_only(generated) -> None:
    """No root record has been published under a licence the tests may copy: the generator's root here (shaped
    as the AWS userIdentity page documents it: principalId and accountId the account id, ARN `...:root`)."""
    rows = generated.rows(f.Actor(ACCOUNT))
    assert rows and {r["identity_type"] for r in rows} == {"Root"}
    everything = generated.rows()
    assert len(rows) == sum(r["identity_type"] == "Root" for r in everything) < len(everything)


def test_a_root_whose_principal_id_is_not_the_account_is_still_found_by_account() -> None:
    row = {"identity_type": "Root", "principal_id": "1111", "account_id": "123456789012"}
    assert f.Actor("123456789012").test(row)
    assert not f.Actor("123456789012").test({**row, "identity_type": "IAMUser"})


# --- more than one value, exclusions ------------------------------------------------------------------------


def test_repeated_values_are_ored_and_options_anded(generated) -> None:
    mallory = found(generated, f.Actor("mallory"))
    bob = found(generated, f.Actor("bob"))
    (both,) = f.option_filter("--actor", ["mallory", "bob"], f.Actor)
    assert found(generated, both) == mallory + bob
    (ec2_or_iam,) = f.option_filter("--action", ["ec2:*", "iam:*"], f.Action)
    got = generated.rows(both, ec2_or_iam)
    assert got and all(r["actor"] in ("mallory", "bob") and r["action"][:4] in ("ec2:", "iam:") for r in got)


def test_an_exclusion_drops_exactly_what_the_inclusion_keeps(real, generated) -> None:
    for table, value in ((generated, "Admin"), (generated, "mallory"), (real[0], "adanalvarez")):
        everything = found(table)
        kept = found(table, f.Actor(value))
        (dropped,) = f.option_filter("--not-actor", [value], f.Actor, exclude=True)
        assert kept and found(table, dropped) == everything - kept, value
    # A record without userIdentity has no actor: an exclusion keeps it.
    table, records = real
    anonymous = next(r["eventID"] for r in records if "userIdentity" not in r)
    assert anonymous in found(table, f.Not(f.Actor("*")))


def test_not_action(generated) -> None:
    everything = found(generated)
    (no_reads,) = f.option_filter(
        "--not-action", ["*:Describe*", "*:List*", "*:Get*"], f.Action, exclude=True
    )
    kept = generated.rows(no_reads)
    assert 0 < len(kept) < sum(everything.values())
    assert not any(r["action"].split(":")[1].startswith(("Describe", "List", "Get")) for r in kept)


def test_ip_networks_globs_and_exact_addresses(generated) -> None:
    intruder = found(generated, f.SourceIp("203.0.113.66"))
    assert (
        intruder
        == found(generated, f.SourceIp("203.0.113.0/24"))
        == found(generated, f.SourceIp("203.0.113.*"))
    )
    assert found(generated, f.SourceIp("203.0.113.7/24")) == intruder  # host bits set: the /24 it is in
    assert not found(generated, f.SourceIp("203.0.112.0/24"))


@pytest.mark.parametrize(
    ("ip", "net", "inside"),
    [
        ("2001:db8::1", "2001:db8::/32", True),
        ("2001:DB8:0:0:0:0:0:1", "2001:db8::/32", True),
        ("2001:0db8:ffff:ffff:ffff:ffff:ffff:ffff", "2001:db8::/32", True),
        ("2001:db9::", "2001:db8::/32", False),
        ("::1", "::/127", True),
        ("::", "::/128", True),
        ("fe80::1:2:3:4:5:6", "fe80::/64", False),
        ("fe80::1", "fe80::/10", True),
        ("1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0/128", True),
        ("::ffff:198.51.100.7", "::ffff:0:0/96", False),  # embedded IPv4: not a form CloudTrail writes
        ("2001:db8::1%eth0", "2001:db8::/32", False),
        ("2001:db8:::1", "2001:db8::/32", False),
        ("198.51.100.7", "198.51.100.0/24", True),
        ("198.51.100.255", "198.51.100.0/25", False),
        ("255.090.254.5", "255.0.0.0/8", False),  # Stratus's anonymized addresses: leading zeros
        ("198.51.100.7\n", "198.51.100.0/24", False),
        ("AWS Internal", "0.0.0.0/0", False),
        ("cloudtrail.amazonaws.com", "::/0", False),
    ],
)
def test_which_texts_are_in_a_network(ip: str, net: str, inside: bool) -> None:
    flt = f.SourceIp(net)
    assert flt.test({"source_ip": ip}) is inside


def test_user_agent_globs_and_event_ids(generated) -> None:
    everything = generated.rows()
    boto = [r["event_id"] for r in everything if "boto3" in (r["user_agent"] or "").lower()]
    assert boto and sorted(found(generated, f.user_agent("*BOTO3*")).elements()) == sorted(boto)
    first, second = everything[0]["event_id"], everything[-1]["event_id"]
    (both,) = f.option_filter("--event-id", [first.upper(), second], f.event_id)
    assert found(generated, both) == Counter([first, second])
    assert not found(generated, f.event_id(first[:-1] + "*"))  # an event id is matched exactly


@pytest.mark.parametrize("flag", ["--actor", "--not-actor", "--action", "--resource", "--ip", "--event-id"])
@pytest.mark.parametrize("empty", ["", "  "])
def test_an_empty_value_is_refused(flag: str, empty: str) -> None:
    with pytest.raises(UserError, match=f"{flag} .*empty"):
        f.option_filter(flag, ["mallory", empty], f.Actor)


def test_a_bad_network_is_refused_with_the_accepted_forms() -> None:
    for bad in ("203.0.113.0/33", "not/an-ip", "2001:db8::/129"):
        with pytest.raises(UserError, match=r"--ip .*203\.0\.113\.0/24"):
            f.option_filter("--ip", [bad], f.SourceIp)


def test_globs_match_as_sql_like_does() -> None:
    """The Python glob and SQL's LIKE agree on every pattern and text of a small alphabet (LIKE decides)."""
    rng = random.Random(7)
    texts = ["".join(t) for n in range(5) for t in itertools.product("ab\n", repeat=n)]
    patterns = {"".join(rng.choice("ab*?") for _ in range(rng.randint(0, 5))) for _ in range(300)}
    con = duckdb.connect()
    for pattern in sorted(patterns):
        like = f._glob_like(pattern)
        got = con.execute(
            "SELECT t FROM unnest(?::VARCHAR[]) AS x(t) WHERE t LIKE ? ESCAPE '\\'", [texts, like]
        ).fetchall()
        assert {t for (t,) in got} == {t for t in texts if f.Glob(pattern).matches(t)}, pattern


def test_a_long_planted_value_does_not_hang_a_glob() -> None:
    """A regular expression for `*a*a*a*a*b` backtracks for minutes on 3,000 `a`s; the glob is linear."""
    row = {"user_name": "a" * 3000 + "x", "user_agent": "a" * 100_000, "event_name": "a" * 100_000}
    start = time.monotonic()
    assert not f.Actor("*a*a*a*a*b").test(row)
    assert not f.user_agent("*a*a*a*a*a*b*").test(row)
    assert not f.Action("*a*a*a*a*a*b").test({**row, "action": "s3:" + row["event_name"]})
    assert f.Actor("*a*a*a*a*x").test(row)
    assert time.monotonic() - start < 2


def test_filters_compare_as_values_with_or_without_parameters() -> None:
    """Questions and plans hold filters in tuples and sets: two of one condition are one, whether the filter
    has parameters (a dataclass) or none (a plain subclass)."""
    plain = [f.Errors, f.WriteOnly, f.RootUsage, f.RiskySignIn, f.Denied, f.Deletions]
    assert all(kind() == kind() and hash(kind()) == hash(kind()) for kind in plain)
    assert len({kind() for kind in plain}) == len(plain)  # no two kinds alike
    assert {f.Errors(), f.Errors(), f.Actor("alice"), f.Actor("alice"), f.Actor("bob")} == {
        f.Errors(),
        f.Actor("alice"),
        f.Actor("bob"),
    }
    assert f.Not(f.Errors()) == f.Not(f.Errors()) and f.Not(f.Errors()) != f.Not(f.WriteOnly())
    assert repr(f.Deletions()) == "Deletions()"


@pytest.mark.parametrize("name", ['bk"quote', "bk\\slash", "bk\ttab", "bk\x1b[2Jevil", "bk\nline"])
def test_a_resource_named_with_what_json_escapes_is_found_by_its_name(name: str) -> None:
    record: dict[str, Any] = {
        "eventTime": "2026-03-02T00:00:00Z",
        "eventSource": "s3.amazonaws.com",
        "eventName": "DeleteBucket",
    }
    record["requestParameters"] = {"bucketName": name}
    other = {**record, "requestParameters": {"bucketName": "bk"}}
    as_written = json.dumps(name)[1:-1]  # as a responder may paste it from the JSON
    for value in (name, as_written):
        flt = f.Resource(value)
        assert flt.test(EventRow(record, "f")) and not flt.test(EventRow(other, "f"))
        assert may_hold(orjson.dumps({"Records": [record]}), [flt.needles()] if flt.needles() else [])
        con = duckdb.connect()
        con.execute(
            "CREATE TABLE events (resources VARCHAR, request_parameters VARCHAR, response_elements VARCHAR)"
        )
        for rec in (record, other):
            con.execute(
                "INSERT INTO events VALUES (NULL, ?, NULL)", [orjson.dumps(rec["requestParameters"]).decode()]
            )
        assert con.execute(f"SELECT count(*) FROM events WHERE {flt.sql()}").fetchone() == (1,)
