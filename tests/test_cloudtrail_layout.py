"""The key layout, written once: prefixes, locations, file names and finding the layout in a listing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from audit_trail.cloudtrail_layout import (
    account_prefix,
    find_accounts,
    log_file_time,
    logs_location,
    parse_digest_name,
    table_location,
)

ACCOUNT = "123456789012"


def test_logs_location() -> None:
    assert logs_location("b", "", "1") == "s3://b/AWSLogs/1/"
    assert logs_location("b", "x/y", "1") == "s3://b/x/y/AWSLogs/1/"
    assert account_prefix("p", ACCOUNT, "o-abcdefghij") == f"p/AWSLogs/o-abcdefghij/{ACCOUNT}/"
    assert table_location("b", "", "o-abcdefghij") == "s3://b/AWSLogs/o-abcdefghij/"


def _dirs(keys: list[str]):
    """DIRS over a bucket holding KEYS (sub-folder names of a path)."""

    def dirs(path: str) -> list[str]:
        prefix = f"{path}/" if path else ""
        return sorted(
            {
                k[len(prefix) :].split("/", 1)[0]
                for k in keys
                if k.startswith(prefix) and "/" in k[len(prefix) :]
            }
        )

    return dirs


@pytest.mark.parametrize(
    ("prefix", "base"),
    [
        ("", ""),
        ("audit", ""),
        ("audit", "audit"),
        ("a/b/c", ""),
        # Key prefixes that look like part of the layout themselves.
        ("AWSLogs", ""),
        ("AWSLogs", "AWSLogs"),
        (f"x/AWSLogs/{ACCOUNT}", ""),
        (f"x/AWSLogs/{ACCOUNT}", f"x/AWSLogs/{ACCOUNT}"),
    ],
)
def test_the_layout_is_found_below_any_key_prefix(prefix: str, base: str) -> None:
    root = f"{prefix}/AWSLogs" if prefix else "AWSLogs"
    keys = [f"{root}/{ACCOUNT}/CloudTrail/us-east-1/2026/03/02/{ACCOUNT}_CloudTrail_us-east-1_x.json.gz"]
    assert find_accounts(_dirs(keys), base) == [(ACCOUNT, f"{root}/{ACCOUNT}")]


def test_inside_the_layout_and_organization_folders() -> None:
    org = "o-abcdefghij"
    keys = [f"AWSLogs/{org}/{a}/CloudTrail/r/f" for a in (ACCOUNT, "210987654321")]
    dirs = _dirs(keys)
    assert find_accounts(dirs, "") == [
        (ACCOUNT, f"AWSLogs/{org}/{ACCOUNT}"),
        ("210987654321", f"AWSLogs/{org}/210987654321"),
    ]
    assert find_accounts(dirs, f"AWSLogs/{org}/{ACCOUNT}") == [(ACCOUNT, f"AWSLogs/{org}/{ACCOUNT}")]
    assert find_accounts(_dirs(["exports/2026/a.json"]), "") is None


def test_names_that_match_but_name_no_real_time_are_not_log_or_digest_files() -> None:
    assert (
        parse_digest_name(f"{ACCOUNT}_CloudTrail-Digest_us-east-1_t_us-east-1_20261199T000000Z.json.gz")
        is None
    )
    assert log_file_time(f"{ACCOUNT}_CloudTrail_us-east-1_20261124T2599Z_x.json.gz") is None
    name = parse_digest_name(
        f"a/{ACCOUNT}_CloudTrail-Digest_eu-west-1_t.1_us-east-1_20261124T030000Z.json.gz"
    )
    assert name is not None and (name.region, name.trail, name.home_region) == (
        "eu-west-1",
        "t.1",
        "us-east-1",
    )
    assert name.end == datetime(2026, 11, 24, 3, tzinfo=UTC)
