"""The investigation commands as a user runs them: every canned command in all three formats, bad input."""

from __future__ import annotations

import csv
import gzip
import io
import json
from pathlib import Path

import pytest
import typer
from audit_trail.cli.app import app
from audit_trail.investigate.sample_logs import KnownAnswers
from support.logs import write_generated
from support.moto_data import GeneratedBucket
from typer.testing import CliRunner

runner = CliRunner()


@pytest.fixture(scope="module")
def trail(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, KnownAnswers]:
    root = tmp_path_factory.mktemp("cli-trail")
    known = write_generated(root)
    # One damaged file: reported on stderr, never fatal.
    day = next((root / "AWSLogs/123456789012/CloudTrail/eu-west-1").rglob("*.json.gz")).parent
    (day / "123456789012_CloudTrail_eu-west-1_20260302T0000Z_broken.json.gz").write_bytes(
        gzip.compress(b'{"Records": [')[:-6]
    )
    return str(root), known


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "250"})
    return result.exit_code, result.stdout, result.stderr


CANNED = {
    "who-changed": ("target_group", "group_changes"),
    "activity": ("intruder", "intruder_events"),
    "root-usage": (None, "root_events"),
    "failed-logins": (None, "failed_logins"),
    "denied": (None, "denied"),
    "deletions": (None, "deletions"),
}


@pytest.mark.parametrize("command", CANNED)
def test_canned_commands_in_json(trail, command: str) -> None:
    source, known = trail
    arg, answer = CANNED[command]
    code, out, err = run(command, *([getattr(known, arg)] if arg else []), source, "-f", "json")
    assert code == 0, err
    rows = json.loads(out)
    if command == "activity":
        assert sum(r["events"] for r in rows) == len(known.intruder_events)
    elif command == "failed-logins":
        assert {r["event_id"] for r in rows} == known.failed_logins | known.no_mfa_logins
    else:
        assert {r["event_id"] for r in rows} == getattr(known, answer)
    assert "log files read" in err and "broken.json.gz: unreadable gzip" in err


def test_query_csv_has_every_column_and_the_filters_apply(trail) -> None:
    source, known = trail
    code, out, _ = run(
        "query", source, "--actor", "mallory", "--action", "*Instances", "--write-only", "-f", "csv"
    )
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["action"] for r in rows] == ["ec2:RunInstances"] * 3 + ["ec2:TerminateInstances"]
    assert list(rows[0]) == [
        "event_time", "actor", "identity_type", "principal_arn", "session_issuer_arn", "action", "resource",
        "aws_region", "source_ip", "user_agent", "error_code", "error_message", "request_parameters",
        "response_elements", "event_id", "tactics",
    ]  # fmt: skip
    assert rows[0]["event_time"].endswith("Z") and rows[0]["source_ip"] == known.intruder_ip
    # ATT&CK tactics from TrailDiscover's catalogue, always present in CSV/JSON (JSON text in a CSV field)
    assert json.loads(rows[-1]["tactics"]) == ["Defense Evasion", "Impact"]


def test_query_rows_carry_tactics_even_when_empty(trail) -> None:
    source, _ = trail
    code, out, _ = run("query", source, "--actor", "nobody-at-all", "-f", "csv")
    assert code == 0 and out.strip().split(",")[-1] == "tactics"  # the header, no rows
    code, out, _ = run("query", source, "--action", "kms:Decrypt", "--limit", "2", "-f", "json")
    rows = json.loads(out)
    assert code == 0 and len(rows) == 2 and [r["tactics"] for r in rows] == [[], []]  # not in the catalogue


def test_query_table_and_window(trail) -> None:
    source, _ = trail
    code, out, _ = run(
        "query",
        source,
        "--ip",
        "203.0.113.66",
        "--since",
        "2026-03-03T03:05Z",
        "--until",
        "2026-03-03T03:09Z",
    )
    assert code == 0
    assert "Events — 3 rows" in out and out.count("ec2:RunInstances") == 3


def test_query_raw_sql_over_the_events_view(trail) -> None:
    source, known = trail
    sql = "SELECT identity_type, count(*) AS n FROM events WHERE error_code IS NOT NULL GROUP BY 1 ORDER BY 1"
    code, out, _ = run("query", source, "--sql", sql, "-f", "json")
    assert code == 0
    # The story's errors: the CI role's denied CreateVpc; mallory's two denials, bob's two failed sign-ins and
    # alice's throttled read.
    assert json.loads(out) == [{"identity_type": "AssumedRole", "n": 1}, {"identity_type": "IAMUser", "n": 5}]
    assert len(known.errors) == 6


@pytest.mark.parametrize("fmt", ["table", "csv"])
def test_a_sql_alias_cannot_retitle_or_restyle_the_terminal(trail, fmt: str) -> None:
    source, _ = trail
    code, out, _ = run("query", source, "--sql", 'SELECT 1 AS "\x1b]0;PWNED\x07\x1b[31mred"', "-f", fmt)
    assert code == 0
    assert "\x1b" not in out and "\x07" not in out
    assert "\\x1b]0;PWNED\\x07\\x1b[31mred" in out


def test_activity_table_title_sums_up_the_actor(trail) -> None:
    source, known = trail
    code, out, _ = run("activity", known.intruder_key, source)
    assert code == 0
    assert f"Activity of {known.intruder_key}: {len(known.intruder_events)} events" in out.replace("\n", " ")


def test_unusual_regions_in_table(trail) -> None:
    source, _ = trail
    code, out, _ = run(
        "unusual-regions",
        source,
        "--expected",
        "us-east-1",
        "--expected",
        "eu-west-1",
        "--expected",
        "us-west-2",
    )
    assert code == 0 and "ap-northeast-1" in out and "mallory" in out


def test_a_mistyped_expected_region_is_refused(trail) -> None:
    """`--expected eu-west1` would report every eu-west-1 event as unusual: it is refused, as --region is."""
    source, _ = trail
    code, _, err = run("unusual-regions", source, "--expected", "eu-west1")
    assert code == 2
    assert "--expected 'eu-west1': not an AWS region; did you mean eu-west-1?" in err
    code, _, err = run("unusual-regions", source, "--expected", "US-EAST-1")
    assert code == 2 and "did you mean us-east-1?" in err


@pytest.mark.parametrize("command", [*CANNED, "query", "unusual-regions"])
def test_every_question_takes_the_window_format_and_engine_options(trail, command: str) -> None:
    source, known = trail
    params = typer.main.get_command(app).commands[command].params  # type: ignore[attr-defined]
    options = {o for p in params for o in p.opts}
    assert {"--since", "--until", "--account", "--format", "-f", "--engine"} <= options
    assert {"--database", "--table", "--workgroup"} <= options
    assert ("--region" in options) is (command != "unusual-regions")
    arg = CANNED.get(command, (None, None))[0]
    given = [*([getattr(known, arg)] if arg else []), source, "-f", "json", "--since", "2030-01-01T00:00Z"]
    code, out, err = run(command, *given)
    assert code == 0, err
    assert json.loads(out) == []  # the window reached the question: nothing after 2030


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["query", "{src}", "--since", "last week"], "--since 'last week': not a time"),
        (["query", "{src}", "--since", "2026-03-03", "--until", "2026-03-02"], "is not before --until"),
        (["query", "{src}", "--account", "12345"], "--account '12345': an AWS account id is 12 digits"),
        (["query", "{src}", "--engine", "spark"], "--engine 'spark': use `local`"),
        (["query"], "SOURCE is missing"),
        (["denied", "{src}", "--engine", "athena"], "--engine athena reads the Glue table"),
        (["query", "{src}", "--sql", "SELEC 1"], "--sql: DuckDB rejected the query"),
        (["query", "/nonexistent/logs"], "no such folder"),
        (["fetch", "out"], "No bucket: give --stack STACK"),
        (
            ["query", "{src}", "--region", "us-east1"],
            "--region 'us-east1': not an AWS region; did you mean us-east-1?",
        ),
        (["hunt", "{src}", "--region", "eu-west1"], "did you mean eu-west-1?"),
        (["query", "{src}", "--since", ""], "--since is empty"),
        (["query", "{src}", "--until", "9999-12-31T23:59Z"], "--until '9999-12-31T23:59Z': out of range"),
        (["query", "{src}", "--since", "999999d"], "out of range"),
    ],
)
def test_bad_input_exits_2_naming_the_flag(trail, args: list[str], message: str) -> None:
    source, _ = trail
    code, _, err = run(*[a.replace("{src}", source) for a in args])
    assert code == 2
    assert message in " ".join(err.split())


def test_fetch_command(aws_data: str, generated_bucket: GeneratedBucket, tmp_path: Path) -> None:
    src, dest = generated_bucket.src, tmp_path / "dest"
    code, _, err = run(
        "fetch", str(dest), "--bucket", generated_bucket.bucket, "--prefix", generated_bucket.prefix,
        "--since", "2026-03-02", "--until", "2026-03-04",
    )  # fmt: skip
    assert code == 0, err
    assert "already present, 0 failed" in err
    assert sorted(p.relative_to(dest) for p in dest.rglob("*.json.gz")) == sorted(
        p.relative_to(src) for p in src.rglob("*.json.gz")
    )


def test_who_changed_shows_what_was_changed(trail) -> None:
    source, known = trail
    code, out, _ = run("who-changed", known.target_group, source, "-f", "json")
    assert code == 0
    opened = next(r for r in json.loads(out) if r["action"] == "ec2:AuthorizeSecurityGroupIngress")
    # JSON documents are JSON values, not escaped text: port 22 is there to read.
    assert opened["request_parameters"]["ipPermissions"]["items"][0]["fromPort"] == 22
    assert opened["response_elements"] == {"_return": True}
    code, out, _ = run("who-changed", known.target_group, source)
    line = next(line for line in out.splitlines() if "AuthorizeSecurityGroupIngress" in line)
    assert "ipPermissions[0].fromPort=22" in line  # the table's `change` column


def test_raw_prints_the_records_as_cloudtrail_wrote_them(trail) -> None:
    source, known = trail
    code, out, _ = run("query", source, "--actor", "mallory", "--raw", "-f", "json")
    assert code == 0
    records = json.loads(out)
    originals = {
        r["eventID"]: r
        for path in Path(source).glob("AWSLogs/*/CloudTrail/*/*/*/*/*.json.gz")
        if "broken" not in path.name
        for r in json.loads(gzip.decompress(path.read_bytes()))["Records"]
    }
    assert {r["eventID"] for r in records} == known.intruder_events
    assert all(r == originals[r["eventID"]] for r in records)  # equal as JSON values
    code, lines, _ = run("query", source, "--actor", "mallory", "--raw")
    assert code == 0 and [json.loads(line) for line in lines.splitlines()] == records  # JSON lines
    code, _, err = run("query", source, "--raw", "-f", "csv")
    assert code == 2 and "--raw prints whole records" in err


def test_lists_are_lists_in_json_and_summarised_in_tables(trail) -> None:
    source, _ = trail
    code, out, _ = run("activity", "alice", source, "-f", "json")
    rows = json.loads(out)
    assert code == 0 and all(
        isinstance(r["source_ips"], list) and isinstance(r["regions"], list) for r in rows
    )
    code, out, _ = run("activity", "alice", source)
    title = out.splitlines()[0]
    assert title.startswith("Activity of alice: ") and "more)" in title and len(title) < 250
    code, out, _ = run("unusual-regions", source, "--expected", "eu-west-1", "--expected", "us-east-1")
    body = [line for line in out.splitlines()[2:] if line.strip()]
    assert body[0].split()[:2] == ["ap-northeast-1", "mallory"]  # the rare region first


# --- asking the way a responder asks ------------------------------------------------------------------------


def _event_ids(out: str) -> list[str]:
    return [r["event_id"] for r in json.loads(out)]


@pytest.mark.parametrize(
    "resource",
    [
        "sg-0a1b2c3d4e5f60789",
        "arn:aws:ec2:eu-west-1:123456789012:security-group/sg-0a1b2c3d4e5f60789",
        "arn:aws-us-gov:ec2:us-gov-west-1:123456789012:security-group/sg-0a1b2c3d4e5f60789",
    ],
)
def test_who_changed_a_security_group_by_id_or_pasted_arn(trail, resource: str) -> None:
    source, known = trail
    code, out, err = run("who-changed", resource, source, "-f", "json")
    assert code == 0, err
    assert set(_event_ids(out)) == known.group_changes


def test_who_changed_raw_gives_the_changes_as_cloudtrail_wrote_them(trail) -> None:
    source, known = trail
    code, out, err = run("who-changed", known.target_group, source, "--raw")
    assert code == 0, err
    records = [json.loads(line) for line in out.splitlines()]
    assert {r["eventID"] for r in records} == known.group_changes
    assert all(r["readOnly"] is False and "userIdentity" in r for r in records)  # whole records, as written


def test_who_changed_a_bucket_and_a_trail_by_arn(trail) -> None:
    source, _ = trail
    code, out, _ = run("who-changed", "arn:aws:s3:::app-backups", source, "-f", "json")
    assert code == 0 and [r["action"] for r in json.loads(out)] == ["s3:DeleteBucket"]
    code, out, _ = run(
        "who-changed", "arn:aws:cloudtrail:us-east-1:123456789012:trail/audit", source, "-f", "json"
    )
    assert [r["action"] for r in json.loads(out)] == ["cloudtrail:StopLogging", "cloudtrail:DeleteTrail"]


def test_repeated_filters_are_ored_different_filters_anded(trail) -> None:
    source, _ = trail
    counts = {}
    for who in ("mallory", "bob"):
        counts[who] = len(json.loads(run("query", source, "--actor", who, "-f", "json")[1]))
    code, out, _ = run("query", source, "--actor", "mallory", "--actor", "BOB", "-f", "json")
    rows = json.loads(out)
    assert code == 0 and len(rows) == counts["mallory"] + counts["bob"] and counts["mallory"] == 12
    code, out, _ = run(
        "query", source, "--actor", "mal*", "--action", "iam:*", "--action", "sts:*", "-f", "json"
    )
    assert sorted(r["action"] for r in json.loads(out)) == ["iam:CreateAccessKey", "sts:GetCallerIdentity"]


def test_exclusions_drop_exactly_what_the_value_would_keep(trail) -> None:
    source, _ = trail
    day = ("--since", "2026-03-03", "--until", "2026-03-04", "-f", "csv")
    everything = run("query", source, *day)[1].splitlines()[1:]
    admin = run("query", source, "--actor", "Admin", *day)[1].splitlines()[1:]
    rest = run("query", source, "--not-actor", "Admin", *day)[1].splitlines()[1:]
    assert admin and sorted(rest + admin) == sorted(everything)
    code, out, _ = run(
        "query", source, "--actor", "mallory", "--not-action", "ec2:*", "--not-action", "s3:*", "-f", "json"
    )
    assert code == 0 and {r["action"].split(":")[0] for r in json.loads(out)} == {"sts", "iam", "cloudtrail"}


def test_ip_networks_user_agents_and_event_ids(trail) -> None:
    source, known = trail
    code, out, _ = run("query", source, "--ip", "203.0.113.0/24", "-f", "json")
    assert code == 0 and set(_event_ids(out)) == known.intruder_events
    assert _event_ids(run("query", source, "--ip", "2001:db8::/32", "-f", "json")[1]) == []
    boto = json.loads(run("query", source, "--user-agent", "boto3/*", "-f", "json")[1])
    assert boto and all(r["user_agent"].lower().startswith("boto3/") for r in boto)
    first, second = sorted(known.intruder_events)[:2]
    code, out, _ = run("query", source, "--event-id", first, "--event-id", second.upper(), "-f", "json")
    assert sorted(_event_ids(out)) == [first, second]


def test_activity_of_a_role_by_its_name(trail) -> None:
    source, _ = trail
    code, out, _ = run("activity", "admin", source, "-f", "json")
    by_arn = run("activity", "arn:aws:iam::123456789012:role/Admin", source, "-f", "json")[1]
    assert code == 0 and json.loads(out) and json.loads(out) == json.loads(by_arn)


@pytest.mark.parametrize(
    "args",
    [
        ["query", "{src}", "--actor", ""],
        ["query", "{src}", "--actor", "mallory", "--actor", " "],
        ["query", "{src}", "--not-actor", ""],
        ["query", "{src}", "--action", ""],
        ["query", "{src}", "--not-action", ""],
        ["query", "{src}", "--resource", ""],
        ["query", "{src}", "--ip", ""],
        ["query", "{src}", "--user-agent", ""],
        ["query", "{src}", "--event-id", ""],
        ["who-changed", "", "{src}"],
        ["activity", "", "{src}"],
    ],
)
def test_an_empty_value_exits_2(trail, args: list[str]) -> None:
    source, _ = trail
    code, out, err = run(*[a.replace("{src}", source) for a in args])
    assert code == 2 and "empty" in err and out == ""


def test_a_bad_network_exits_2_with_the_accepted_forms(trail) -> None:
    source, _ = trail
    code, _, err = run("query", source, "--ip", "203.0.113.0/33")
    assert code == 2 and "--ip '203.0.113.0/33': not an IP address, glob or CIDR network" in " ".join(
        err.split()
    )


def test_an_arn_and_an_actor_from_an_s3_source(aws_data: str, generated_bucket: GeneratedBucket) -> None:
    known, source = generated_bucket.known, generated_bucket.url
    arn = f"arn:aws:ec2:eu-west-1:123456789012:security-group/{known.target_group}"
    code, out, err = run("who-changed", arn, source, "-f", "json")
    assert code == 0, err
    assert set(_event_ids(out)) == known.group_changes
    code, out, _ = run("query", source, "--actor", "MALLORY", "--not-action", "ec2:*", "-f", "json")
    assert code == 0 and {r["actor"] for r in json.loads(out)} == {"mallory"}


def test_activity_title_spans_the_earliest_to_the_latest_instant() -> None:
    from audit_trail.cli.investigate import activity_title

    rows = [
        {"events": 1, "first_seen": "2026-03-02T10:00:00.500Z", "last_seen": "2026-03-02T10:00:00.500Z"},
        {"events": 1, "first_seen": "2026-03-02T10:00:00Z", "last_seen": "2026-03-02T10:00:00Z"},
    ]
    rows = [{**r, "source_ips": [], "regions": []} for r in rows]
    # As text, `.500Z` sorts before `Z`: the title would run backwards.
    assert "2026-03-02T10:00:00Z to 2026-03-02T10:00:00.500Z" in activity_title("alice", rows)


def test_a_limit_counts_events_not_the_repeated_deliveries_of_one(tmp_path: Path) -> None:
    """A file holding one event twice (CloudTrail delivers at least once) and another event: `--limit 2` shows
    both events, the repeat dropped, however the scan cut its sorted rows."""
    from support.logs import day_folder, log_name, user_record, write_log

    write_log(
        day_folder(tmp_path) / log_name("twice"),
        [
            user_record("alice", "event-1"),
            user_record("alice", "event-1"),
            user_record("alice", "event-2", when="2026-03-02T10:00:01Z"),
        ],
    )
    code, out, err = run("query", str(tmp_path), "--limit", "2", "-f", "json")
    assert code == 0 and _event_ids(out) == ["event-1", "event-2"], err
    assert "1 duplicate records dropped" in err


def test_limit_0_shows_every_row_of_a_table_as_the_cap_note_says(tmp_path: Path) -> None:
    """The table's note says `--limit 0` shows every row: it does, in a table too."""
    from audit_trail.cli.output import TABLE_ROWS
    from audit_trail.investigate.sample_logs import generate

    known = generate(tmp_path)
    assert known.total_events > TABLE_ROWS
    code, out, err = run("query", str(tmp_path))
    assert code == 0 and f"showing {TABLE_ROWS} of {known.total_events} rows - use --limit 0 for all" in err
    code, out, err = run("query", str(tmp_path), "--limit", "0")
    assert code == 0 and "showing" not in err
    assert sum(line.startswith("2026-") for line in out.splitlines()) == known.total_events
