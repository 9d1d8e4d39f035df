"""`audit-trail hunt` over real CloudTrail records, in a local folder and in S3, with bad files beside them.

The records are TrailDiscover's examples (CC BY 4.0, see data/TRAILDISCOVER_EXAMPLES.md).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections import Counter
from pathlib import Path
from typing import Any

import boto3  # type: ignore[import-untyped]
import pytest
from audit_trail.cli.app import app
from support.paths import DATA
from typer.testing import CliRunner

EXAMPLES = DATA / "traildiscover_examples.jsonl"
DAY = "AWSLogs/111111111111/CloudTrail/us-east-1/2024/01/15"
runner = CliRunner()

# Worked out by hand from the records and the rule text (the examples hold most records twice):
HAND_WORKED = {
    # cloudtrail.amazonaws.com StopLogging / UpdateTrail / DeleteTrail, whatever the outcome: 3 events x 2
    "4db60cc0-36fb-42b7-9b58-a5b53019fb74": {
        "03383b06-8e2e-4272-a022-5871c25e46f9",
        "de53d94e-f8b3-4111-b2d2-4f1c2f77a2b1",
        "8c76d32c-4419-48f7-bf99-21a7feddfeea",
    },
    # s3 ListBuckets by an IAM user (not a role session): the denied call still counts
    "f305fd62-beca-47da-ad95-7690a0620084": {"d2124f15-7373-4465-a961-0deafcb64efc"},
    # ModifyDBInstance whose response shows a pending master password change
    "8a63cdd4-6207-414a-85bc-7e032bd3c1a2": None,  # ids checked below by event name
    # UpdateLoginProfile with requestParameters null: the fieldref filter cannot exclude it
    "055fb148-60f8-462d-ad16-26926ce050f1": {"c8488366-c6fa-4dc7-8f1f-a003995215e3"},
}
NEVER = {
    "39c9f26d-6e3b-4dbb-9c7a-4154b0281112",  # both DeleteBucket calls failed (NoSuchBucket)
    "d2656e78-c069-4571-8220-9e0ab5913f19",  # every GuardDuty detector change was AccessDenied
    "8ad1600d-e9dc-4251-b0ee-a65268f29add",  # no root activity in the examples
}


def records() -> list[dict[str, Any]]:
    return [json.loads(line) for line in EXAMPLES.read_text().splitlines() if line.strip()]


def log_files() -> dict[str, bytes]:
    """The examples as three CloudTrail log files, plus a truncated one and one that is not JSON."""
    recs = records()
    third = len(recs) // 3 + 1
    files = {
        f"{DAY}/111111111111_CloudTrail_us-east-1_20240115T00{i}0Z_ex{i}.json.gz": gzip.compress(
            json.dumps({"Records": recs[i * third : (i + 1) * third]}).encode()
        )
        for i in range(3)
    }
    files[f"{DAY}/111111111111_CloudTrail_us-east-1_20240115T0100Z_cut.json.gz"] = gzip.compress(
        b'{"Records": ['
    )[:-6]
    files[f"{DAY}/111111111111_CloudTrail_us-east-1_20240115T0110Z_text.json.gz"] = gzip.compress(b"not json")
    return files


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    for key, body in log_files().items():
        path = tmp_path / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
    return tmp_path


def hunt(*args: str) -> Any:
    return runner.invoke(app, ["hunt", *args])


def hits_by_rule(output: str) -> dict[str, list[str]]:
    by_rule: dict[str, list[str]] = {}
    for hit in json.loads(output):
        by_rule.setdefault(hit["rule_id"], []).append(hit["event_id"])
    return by_rule


def check_hand_worked(by_rule: dict[str, list[str]]) -> None:
    for rule_id, expected in HAND_WORKED.items():
        if expected is not None:
            assert set(by_rule[rule_id]) == expected, rule_id
    assert len(by_rule["4db60cc0-36fb-42b7-9b58-a5b53019fb74"]) == 6
    assert len(by_rule["8a63cdd4-6207-414a-85bc-7e032bd3c1a2"]) == 2
    assert not NEVER & set(by_rule)
    # every role session in the examples was issued by a role
    assumed = [r for r in records() if (r.get("userIdentity") or {}).get("type") == "AssumedRole"]
    assert len(by_rule["905d389b-b853-46d0-9d3d-dea0d3a3cd49"]) == len(assumed) == 95


def test_hunt_local_folder_json_with_bad_files_reported(folder: Path) -> None:
    result = hunt(str(folder), "-f", "json")
    assert result.exit_code == 0, result.output
    by_rule = hits_by_rule(result.stdout)
    check_hand_worked(by_rule)
    hit = next(h for h in json.loads(result.stdout) if h["rule_id"] == "055fb148-60f8-462d-ad16-26926ce050f1")
    assert hit["author"] == "toffeebr33k"
    assert hit["level"] == "high" and hit["action"] == "iam:UpdateLoginProfile"
    assert hit["attack"] == "attack.persistence attack.privilege-escalation attack.t1098"
    assert hit["who"] == "TrailDiscover" and hit["region"] == "us-east-1"
    assert "Persistence" in hit["tactics"]
    # bad files are skipped and reported as `query` reports them; the record without userIdentity is kept
    assert "3 of 5 log files read" in result.stderr
    assert (
        "skipped file" in result.stderr
        and "_cut.json.gz" in result.stderr
        and "_text.json.gz" in result.stderr
    )
    assert "1 records have no userIdentity" in result.stderr
    assert "57 rules run" in result.stderr


def test_matching_counts_records_and_hits_count_hits(tmp_path: Path) -> None:
    """ "N matching" says how many records fired a rule, as `query`'s says how many it kept; a record that
    fires two rules is one of them, and two hits in the per-rule table (the sample's root CreateAccessKey)."""
    from audit_trail.investigate.sample_logs import generate

    generate(tmp_path)  # every event id in it is unique
    result = hunt(str(tmp_path), "--min-level", "medium", "-f", "json")
    hits = json.loads(result.stdout)
    events = {h["event_id"] for h in hits}
    assert len(hits) > len(events)
    assert f"records, {len(events)} matching." in result.stderr
    summary = hunt(str(tmp_path), "--min-level", "medium", "--summary")
    assert f"Per rule — {len(hits)} hits" in summary.stdout
    assert f"records, {len(events)} matching." in summary.stderr


def test_hunt_s3_source_gives_the_same_hits(aws: str, folder: Path) -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="trail-logs")
    for key, body in log_files().items():
        s3.put_object(Bucket="trail-logs", Key=key, Body=body)
    local = hunt(str(folder), "-f", "json")
    remote = hunt("s3://trail-logs/", "-f", "json")
    assert remote.exit_code == 0, remote.output
    assert hits_by_rule(remote.stdout) == hits_by_rule(local.stdout)
    check_hand_worked(hits_by_rule(remote.stdout))
    # nothing in the window: what the bucket holds, listed from its day folders
    outside = hunt("s3://trail-logs/", "--since", "2100-01-01", "--fail-on", "low", "-f", "json")
    assert outside.exit_code == 3, outside.output
    assert "111111111111 us-east-1: 2024-01-15 to 2024-01-15 (1 day)" in outside.stderr


def test_table_and_csv_and_summary(folder: Path) -> None:
    table = hunt(str(folder), "--min-level", "high")
    assert table.exit_code == 0
    # high rules: login profile modified 2, Config recorder 4, RDS cluster 2, GuardDuty IP set 2
    assert "Sigma hits — 10" in table.stdout and "Per rule" in table.stdout
    rows = list(csv.DictReader(io.StringIO(hunt(str(folder), "-f", "csv").stdout)))
    assert Counter(r["rule_id"] for r in rows)["4db60cc0-36fb-42b7-9b58-a5b53019fb74"] == 6
    assert {"rule_id", "author", "event_id", "tactics"} <= set(rows[0])
    summary = json.loads(hunt(str(folder), "--summary", "-f", "json").stdout)
    trail = next(s for s in summary if s["rule_id"] == "4db60cc0-36fb-42b7-9b58-a5b53019fb74")
    assert (trail["hits"], trail["actors"]) == (6, 1)
    assert trail["first_seen"] <= trail["last_seen"]
    assert summary[0]["level"] == "high"  # most severe first


def test_min_level_and_fail_on(folder: Path) -> None:
    high = hits_by_rule(hunt(str(folder), "--min-level", "HIGH", "-f", "json").stdout)
    assert "4db60cc0-36fb-42b7-9b58-a5b53019fb74" not in high  # medium
    assert "055fb148-60f8-462d-ad16-26926ce050f1" in high
    assert hunt(str(folder), "--fail-on", "high", "-f", "json").exit_code == 1
    assert hunt(str(folder), "--fail-on", "critical", "-f", "json").exit_code == 0


def test_user_rules_and_listing(folder: Path, tmp_path: Path) -> None:
    mine = tmp_path / "rules"
    mine.mkdir()
    (mine / "secrets.yml").write_text(
        "title: Secret read by TrailDiscover\nid: 0b7c1f8e-1111-4222-8333-944455556666\n"
        "logsource: {product: aws, service: cloudtrail}\nlevel: critical\nauthor: Me\n"
        "detection:\n  sel:\n    eventSource: secretsmanager.amazonaws.com\n"
        "    userIdentity.arn|endswith: /traildiscover\n  condition: sel\n"
    )
    (mine / "correlation.yml").write_text(
        "title: c\nid: 0b7c1f8e-1111-4222-8333-944455556667\n"
        "correlation: {type: event_count, rules: [x], group-by: [a], timespan: 1h, condition: {gte: 2}}\n"
    )
    found = hits_by_rule(
        hunt(str(folder), "--rules", str(mine), "--min-level", "critical", "-f", "json").stdout
    )
    assert list(found) == ["0b7c1f8e-1111-4222-8333-944455556666"]
    listing = json.loads(hunt("--list-rules", "--rules", str(mine), "-f", "json").stdout)
    assert len(listing) == 59
    assert [r["runnable"] for r in listing].count("no") == 1
    assert listing[-1]["note"].startswith("correlation rule")


def test_bad_input_is_a_clear_error(tmp_path: Path) -> None:
    no_source = hunt()
    assert no_source.exit_code == 2 and "give a log folder or s3:// prefix" in no_source.output
    bad_level = hunt(str(tmp_path), "--min-level", "urgent")
    assert bad_level.exit_code == 2 and "--min-level 'urgent' is not a Sigma level" in bad_level.output
    missing = hunt(str(tmp_path), "--rules", str(tmp_path / "nope.yml"))
    assert missing.exit_code == 2 and "--rules" in missing.output and "does not exist" in missing.output


RULE = (
    "title: {title}\nid: {id}\nlogsource: {{product: aws, service: cloudtrail}}\nlevel: {level}\n"
    "author: Me\ndetection:\n  sel:\n    eventName: {event}\n  condition: sel\n"
)
BUCKET_DELETED = "39c9f26d-6e3b-4dbb-9c7a-4154b0281112"  # shipped: AWS Bucket Deleted (medium)
SHARED_ID = "0b7c1f8e-1111-4222-8333-944455557777"


def write_rule(folder: Path, name: str, **fields: str) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(RULE.format(**fields))
    return path


def test_rules_sharing_an_id_are_kept_apart_and_the_clash_is_named(folder: Path, tmp_path: Path) -> None:
    mine = tmp_path / "dup"
    a = write_rule(mine, "a.yml", title="Dup A", id=SHARED_ID, level="critical", event="ListBuckets")
    b = write_rule(mine, "b.yml", title="Dup B", id=SHARED_ID, level="low", event="GetCallerIdentity")
    shadow = write_rule(
        mine, "shadow.yml", title="Shadow", id=BUCKET_DELETED, level="critical", event="ListBuckets"
    )
    result = hunt(str(folder), "--rules", str(mine), "--summary", "-f", "json")
    assert result.exit_code == 0, result.output
    rows = {(r["rule_id"], r["rule_source"]): r for r in json.loads(result.stdout)}
    assert rows[(SHARED_ID, str(a))]["level"] == "critical" and rows[(SHARED_ID, str(a))]["rule"] == "Dup A"
    assert rows[(SHARED_ID, str(b))]["level"] == "low" and rows[(SHARED_ID, str(b))]["rule"] == "Dup B"
    assert rows[(BUCKET_DELETED, str(shadow))]["rule"] == "Shadow"
    # the shipped rule keeps its own (absent: both DeleteBucket calls failed) — never the shadow's hits
    assert (BUCKET_DELETED, "shipped") not in rows
    listbuckets = rows[(SHARED_ID, str(a))]["hits"]
    assert rows[(BUCKET_DELETED, str(shadow))]["hits"] == listbuckets
    # every hit row names its rule's source; the clash is on stderr naming both files
    hits = json.loads(hunt(str(folder), "--rules", str(mine), "-f", "json").stdout)
    assert {h["rule_source"] for h in hits if h["rule_id"] == SHARED_ID} == {str(a), str(b)}
    assert f"rule id {SHARED_ID} is used by 2 rules" in result.stderr
    assert str(a) in result.stderr and str(b) in result.stderr
    assert f"rule id {BUCKET_DELETED} is used by 2 rules" in result.stderr and "(shipped)" in result.stderr


def test_a_broken_user_rule_is_never_silently_green(folder: Path, tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    write_rule(mine, "urgent.yml", title="Urgent", id=SHARED_ID, level="urgent", event="DeleteTrail")
    (mine / "second.yml").write_text(
        RULE.format(title="Fine", id=BUCKET_DELETED[:-1] + "9", level="high", event="ConsoleLogin")
        + "---\n- a\n"
    )
    listing = hunt("--list-rules", "--rules", str(mine), "-f", "json")
    assert listing.exit_code == 0, listing.output
    notes = {r["source"]: r["note"] for r in json.loads(listing.stdout) if r["runnable"] == "no"}
    assert "'urgent' is not a valid Sigma rule level" in notes[str(mine / "urgent.yml")]
    assert "document 2 is a YAML list" in notes[str(mine / "second.yml")]
    # the rest run; without --fail-on the exit code is 0 and the rule is named on stderr
    ran = hunt(str(folder), "--rules", str(mine), "-f", "json")
    assert ran.exit_code == 0 and hits_by_rule(ran.stdout)
    assert "your rule 'Urgent'" in ran.stderr and "cannot run" in ran.stderr
    # under --fail-on, no hit at the level: exit 2, not 0
    failing = hunt(str(folder), "--rules", str(mine), "--fail-on", "critical", "-f", "json")
    assert failing.exit_code == 2, failing.output
    assert "2 of your rules cannot run" in failing.stderr and json.loads(failing.stdout)
    # a hit at the level is the more urgent answer
    assert hunt(str(folder), "--rules", str(mine), "--fail-on", "high", "-f", "json").exit_code == 1
    # a rule for another product in the folder is listed, not an error
    windows = tmp_path / "windows"
    windows.mkdir()
    (windows / "w.yml").write_text(
        RULE.format(title="W", id=SHARED_ID, level="high", event="x").replace(
            "product: aws", "product: windows"
        )
    )
    assert hunt(str(folder), "--rules", str(windows), "--fail-on", "critical", "-f", "json").exit_code == 0


def test_silence_is_not_green(tmp_path: Path, folder: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    nothing = hunt(str(empty), "--fail-on", "high", "-f", "json")
    assert nothing.exit_code == 3, nothing.output
    assert "no log files in SOURCE" in nothing.stderr and "not a clean result" in nothing.stderr
    # a window without files: exit 3 under --fail-on, and what the source does hold
    outside = hunt(str(folder), "--since", "2100-01-01", "--fail-on", "low", "-f", "json")
    assert outside.exit_code == 3, outside.output
    assert "111111111111 us-east-1: 2024-01-15 to 2024-01-15 (1 day)" in outside.stderr
    # without --fail-on: the same words, exit 0, an empty answer
    quiet = hunt(str(folder), "--since", "2100-01-01", "-f", "json")
    assert quiet.exit_code == 0 and json.loads(quiet.stdout) == []
    assert "Nothing to hunt in" in quiet.stderr and "2024-01-15 to 2024-01-15" in quiet.stderr
    # files in the window, but not one readable record in them
    day = tmp_path / "bad" / DAY
    day.mkdir(parents=True)
    (day / "111111111111_CloudTrail_us-east-1_20240115T0000Z_x.json.gz").write_bytes(b"not gzip")
    unreadable = hunt(str(tmp_path / "bad"), "--fail-on", "high", "-f", "json")
    assert unreadable.exit_code == 3 and "hold no readable record" in unreadable.stderr


def test_min_level_critical_says_no_shipped_rule_is_critical(folder: Path) -> None:
    result = hunt(str(folder), "--min-level", "critical", "--fail-on", "critical")
    assert result.exit_code == 2
    assert "No shipped rule is critical" in result.stderr and "--rules" in result.stderr


def test_only_and_rule_id_choose_the_rules(folder: Path, tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    path = write_rule(mine, "r.yml", title="Mine", id=SHARED_ID, level="low", event="ListBuckets")
    only = json.loads(hunt(str(folder), "--rules", str(path), "--only", "-f", "json").stdout)
    assert only and {h["rule_id"] for h in only} == {SHARED_ID}
    assert len(json.loads(hunt("--list-rules", "--rules", str(path), "--only", "-f", "json").stdout)) == 1
    trail = "4db60cc0-36fb-42b7-9b58-a5b53019fb74"
    by_id = hunt(
        str(folder), "--rule-id", trail, "--rule-id", SHARED_ID.upper(), "--rules", str(path), "-f", "json"
    )
    assert set(hits_by_rule(by_id.stdout)) == {trail, SHARED_ID}
    assert "2 rules run" in by_id.stderr
    unknown = hunt(str(folder), "--rule-id", "nope")
    assert unknown.exit_code == 2 and "--rule-id nope: no rule has this id" in unknown.stderr
    assert hunt(str(folder), "--only").exit_code == 2


def test_help_shows_the_levels_and_an_example() -> None:
    text = runner.invoke(app, ["hunt", "--help"], env={"COLUMNS": "200"}).stdout
    for option in ("--min-level", "--fail-on"):
        (line,) = [line for line in text.splitlines() if line.lstrip("│ ").startswith(f"{option} ")]
        assert "informational|low|medium|high|critical" in line and "<str>" not in line, line
    assert "Example: audit-trail hunt ./logs" in text


def test_a_catastrophic_regex_and_a_hostile_user_agent_do_not_hang_the_hunt(tmp_path: Path) -> None:
    rule = tmp_path / "redos.yml"
    rule.write_text(
        "title: ReDoS\nid: 0b7c1f8e-1111-4222-8333-944455558888\n"
        "logsource: {product: aws, service: cloudtrail}\nlevel: high\n"
        "detection:\n  sel:\n    userAgent|re: '^(a+)+$'\n  condition: sel\n"
    )
    base = records()[0]
    hostile = [
        {**base, "eventID": "hostile", "userAgent": "a" * 34 + "!"},
        {**base, "eventID": "aaaa", "userAgent": "aaaa"},
    ]
    day = tmp_path / "logs" / DAY
    day.mkdir(parents=True)
    (day / "111111111111_CloudTrail_us-east-1_20240115T0000Z_x.json.gz").write_bytes(
        gzip.compress(json.dumps({"Records": hostile}).encode())
    )
    result = hunt(str(tmp_path / "logs"), "--rules", str(rule), "--only", "--fail-on", "high", "-f", "json")
    assert result.exit_code == 1, result.output  # it finished, and found the one agent that matches
    assert [h["event_id"] for h in json.loads(result.stdout)] == ["aaaa"]


def test_files_without_an_event_inside_the_window_are_not_a_clean_hunt(
    generated_trail: tuple[Path, Any],
) -> None:
    root, _ = generated_trail  # events from 2026-03-02 to 03-05; the day folders hold some past the window
    result = CliRunner().invoke(
        app,
        [
            "hunt",
            str(root),
            "--since",
            "2026-03-05T23:00Z",
            "--until",
            "2026-03-06T00:00Z",
            "--fail-on",
            "high",
        ],
    )
    assert result.exit_code == 3, result.output
    assert "hold no event inside the window" in result.stderr
