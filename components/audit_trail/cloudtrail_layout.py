"""CloudTrail's key layout in a bucket, written once for the component, the toolkit and `verify`.

`[prefix/]AWSLogs/[o-<org id>/]<account>/CloudTrail[-Digest]/<region>/YYYY/MM/DD/<file>`: an organization
trail adds the organization id (AWS CloudTrail User Guide, "Finding your CloudTrail log files"); log files are
named `<account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<unique>.json.gz`, digests
`<account>_CloudTrail-Digest_<region>_<trail>_<home region>_<YYYYMMDDTHHmmssZ>.json.gz`, and a backfill
digest (delivered when processing delays kept log files out of the hour's original digest) the same with a
`_backfill` suffix before `.json.gz` ("CloudTrail digest file structure"). Pure functions: no AWS SDK, no
file access.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import NamedTuple

AWSLOGS = "AWSLogs"
LOG_FOLDER = "CloudTrail"
DIGEST_FOLDER = "CloudTrail-Digest"
META_SUFFIX = ".meta.json"
"""Beside each fetched digest file: its S3 user metadata (the signature), as `fetch` writes it."""

ACCOUNT_ID = re.compile(r"\d{12}")
ORGANIZATION_ID = re.compile(r"o-[a-z0-9]{10,32}")

LOG_NAME = re.compile(
    r"(?P<account>\d{12})_CloudTrail_(?P<region>[a-z0-9-]+)_(?P<time>\d{8}T\d{4}Z)_\w+\.json\.gz"
)
DIGEST_NAME = re.compile(
    r"(?P<account>\d{12})_CloudTrail-Digest_(?P<region>[a-z0-9-]+)_(?P<trail>[.\w-]+)_"
    r"(?P<home>[a-z0-9-]+)_(?P<end>\d{8}T\d{6}Z)(?P<backfill>_backfill)?\.json\.gz"
)


def join_key(*parts: str) -> str:
    """S3 key (or relative path) of PARTS, empty ones left out."""
    return "/".join(p for p in parts if p)


def logs_root(s3_key_prefix: str = "") -> str:
    """`[prefix/]AWSLogs/`: the folder every account's (and organization's) files are under."""
    prefix = s3_key_prefix.strip("/")
    return f"{prefix}/{AWSLOGS}/" if prefix else f"{AWSLOGS}/"


def account_prefix(s3_key_prefix: str, account: str, organization_id: str | None = None) -> str:
    """Where a trail writes ACCOUNT's files: `[prefix/]AWSLogs/[o-org/]<account>/`."""
    org = f"{organization_id}/" if organization_id else ""
    return f"{logs_root(s3_key_prefix)}{org}{account}/"


def logs_location(bucket: str, s3_key_prefix: str, account: str, organization_id: str | None = None) -> str:
    """`s3://bucket/[prefix/]AWSLogs/[o-org/]<account>/`."""
    return f"s3://{bucket}/{account_prefix(s3_key_prefix, account, organization_id)}"


def table_location(bucket: str, s3_key_prefix: str, organization_id: str | None = None) -> str:
    """`s3://bucket/[prefix/]AWSLogs/[o-org/]`: where a table over the trail's accounts reads."""
    org = f"{organization_id}/" if organization_id else ""
    return f"s3://{bucket}/{logs_root(s3_key_prefix)}{org}"


def parse_s3_url(url: str) -> tuple[str, str]:
    """`s3://bucket/some/prefix/` -> ("bucket", "some/prefix"); ValueError without a bucket."""
    rest = url[len("s3://") :] if url.startswith("s3://") else url
    bucket, _, prefix = rest.partition("/")
    if not bucket:
        raise ValueError(f"{url!r} names no bucket")
    return bucket, prefix.strip("/")


def _is_account_folder(dirs: Callable[[str], list[str]], path: str) -> bool:
    """An account's folder holds CloudTrail's own folders (`CloudTrail`, `CloudTrail-Digest`, ...)."""
    return any(d == LOG_FOLDER or d.startswith(f"{LOG_FOLDER}-") for d in dirs(path))


def account_folders(dirs: Callable[[str], list[str]], awslogs: str) -> Iterator[tuple[str, str]]:
    """(account id, path of the account folder) under an AWSLogs folder, organization folders included;
    DIRS lists the sub-folder names of a path."""
    for name in dirs(awslogs):
        if ACCOUNT_ID.fullmatch(name) and _is_account_folder(dirs, join_key(awslogs, name)):
            yield name, join_key(awslogs, name)
        elif ORGANIZATION_ID.fullmatch(name):
            for sub in dirs(join_key(awslogs, name)):
                if ACCOUNT_ID.fullmatch(sub) and _is_account_folder(dirs, join_key(awslogs, name, sub)):
                    yield sub, join_key(awslogs, name, sub)


def _last(path: str) -> str:
    return path.rsplit("/", 1)[-1]


def _accounts_at(dirs: Callable[[str], list[str]], path: str) -> list[tuple[str, str]]:
    """The accounts PATH holds if it is an AWSLogs, organization or account folder of the layout."""
    name = _last(path)
    if name == AWSLOGS:
        return list(account_folders(dirs, path))
    parent = _last(path.rsplit("/", 1)[0]) if "/" in path else ""
    if ORGANIZATION_ID.fullmatch(name) and parent == AWSLOGS:
        return [
            (a, join_key(path, a))
            for a in dirs(path)
            if ACCOUNT_ID.fullmatch(a) and _is_account_folder(dirs, join_key(path, a))
        ]
    if ACCOUNT_ID.fullmatch(name) and _is_account_folder(dirs, path):
        return [(name, path)]
    return []


SEARCH_DEPTH = 6
"""How many folder levels below a source are searched for the layout (a key prefix may have several)."""


def find_accounts(dirs: Callable[[str], list[str]], base: str) -> list[tuple[str, str]] | None:
    """The account folders of the layout at or below BASE (a bucket root, a trail's key prefix, or a folder
    inside the layout), nearest first; None if there is no layout within SEARCH_DEPTH levels.

    The first level holding a layout folder wins, so a key prefix that itself looks like part of the layout
    (`AWSLogs`, `x/AWSLogs/123456789012`) still leads to the trail's own `<prefix>/AWSLogs/` below it.
    """
    level = [base]
    for _ in range(SEARCH_DEPTH):
        found: list[tuple[str, str]] = []
        below: list[str] = []
        for path in level:
            accounts = _accounts_at(dirs, path)
            if accounts:
                found.extend(accounts)
            else:
                below.extend(join_key(path, d) for d in dirs(path))
        if found:
            return found
        if not below:
            return None
        level = below
    return None


def _utc(text: str, fmt: str) -> datetime | None:
    try:
        return datetime.strptime(text, fmt).replace(tzinfo=UTC)
    except ValueError:  # a name that matches the pattern but names no real moment (month 99, 25:99)
        return None


# A named tuple, not a frozen dataclass: defining one of those costs about a millisecond at every start.
class DigestName(NamedTuple):
    account: str
    region: str
    trail: str
    home_region: str
    end: datetime
    backfill: bool = False
    """A backfill digest (`..._backfill.json.gz`): log files the hour's original digest could not list."""


def parse_digest_name(key: str) -> DigestName | None:
    """The parts of a digest file's name, or None if it is not one (or names an impossible time)."""
    m = DIGEST_NAME.fullmatch(_last(key))
    end = _utc(m["end"], "%Y%m%dT%H%M%SZ") if m else None
    if m is None or end is None:
        return None
    return DigestName(m["account"], m["region"], m["trail"], m["home"], end, m["backfill"] is not None)


def digest_name(name: DigestName) -> str:
    """The file name CloudTrail gives the digest NAME describes (the inverse of `parse_digest_name`)."""
    suffix = "_backfill" if name.backfill else ""
    return (
        f"{name.account}_{DIGEST_FOLDER}_{name.region}_{name.trail}_{name.home_region}_"
        f"{name.end:%Y%m%dT%H%M%SZ}{suffix}.json.gz"
    )


def log_file_time(key: str) -> datetime | None:
    """The minute in a log file's name (CloudTrail delivers the file at or after it), or None."""
    m = LOG_NAME.fullmatch(_last(key))
    return _utc(m["time"], "%Y%m%dT%H%MZ") if m else None
