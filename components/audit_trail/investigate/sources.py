"""Where log files are: a local folder or an `s3://` prefix, listed through CloudTrail's key layout.

The layout `[prefix/]AWSLogs/[o-org/]<account>/CloudTrail/<region>/YYYY/MM/DD/` is the index: only the
account, region and day folders a question needs are listed, digest and Insights folders never are. A folder
that does not follow the layout (any other export) is walked whole for `*.json.gz` / `*.json` files.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from ..errors import UserError

# Events are filed under the day their file was delivered, which can be after the event's own day.
DELIVERY_SLACK = timedelta(days=1)
_ACCOUNT = re.compile(r"\d{12}")
_ORG = re.compile(r"o-[a-z0-9]{10,32}")
_LOG_SUFFIXES = (".json.gz", ".json")


@dataclass(frozen=True, slots=True)
class LogFile:
    """One log file: `location` is a local path or an `s3://bucket/key` URL."""

    location: str
    size: int
    account: str | None = None
    region: str | None = None
    day: date | None = None


@dataclass(frozen=True)
class Window:
    """What part of a trail a question needs: a time range and optional regions / accounts (None = all)."""

    since: datetime | None = None
    until: datetime | None = None
    regions: frozenset[str] | None = None
    accounts: frozenset[str] | None = None

    def day_range(self) -> tuple[date | None, date | None]:
        first = self.since.date() if self.since else None
        last = (self.until + DELIVERY_SLACK).date() if self.until else None
        return first, last


class _Tree(Protocol):
    """Directory-like listing shared by local folders and S3 prefixes (paths end without '/')."""

    def dirs(self, path: str) -> list[str]: ...
    def files(self, path: str) -> list[tuple[str, int]]: ...
    def walk(self, path: str) -> Iterator[tuple[str, int]]: ...
    def location(self, path: str) -> str: ...


class _LocalTree:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _scan(self, path: str) -> list[os.DirEntry[str]]:
        try:
            with os.scandir(self.root / path) as it:
                return list(it)
        except (FileNotFoundError, NotADirectoryError):
            return []

    def dirs(self, path: str) -> list[str]:
        return sorted(e.name for e in self._scan(path) if e.is_dir())

    def files(self, path: str) -> list[tuple[str, int]]:
        return sorted((e.name, e.stat().st_size) for e in self._scan(path) if e.is_file())

    def walk(self, path: str) -> Iterator[tuple[str, int]]:
        for folder, dirnames, filenames in os.walk(self.root / path):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("CloudTrail-"))
            rel = Path(folder).relative_to(self.root)
            for name in sorted(filenames):
                yield (rel / name).as_posix(), (Path(folder) / name).stat().st_size

    def location(self, path: str) -> str:
        return str(self.root / path)


class _S3Tree:
    def __init__(self, bucket: str, client: Any) -> None:
        self.bucket = bucket
        self.client = client

    def _pages(self, prefix: str, delimiter: bool) -> Iterator[dict[str, Any]]:
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": prefix}
        if delimiter:
            kwargs["Delimiter"] = "/"
        yield from self.client.get_paginator("list_objects_v2").paginate(**kwargs)

    @staticmethod
    def _prefix(path: str) -> str:
        return f"{path}/" if path else ""

    def dirs(self, path: str) -> list[str]:
        p = self._prefix(path)
        return sorted(
            cp["Prefix"][len(p) :].rstrip("/")
            for page in self._pages(p, True)
            for cp in page.get("CommonPrefixes", ())
        )

    def files(self, path: str) -> list[tuple[str, int]]:
        p = self._prefix(path)
        return [
            (o["Key"][len(p) :], o["Size"]) for page in self._pages(p, True) for o in page.get("Contents", ())
        ]

    def walk(self, path: str) -> Iterator[tuple[str, int]]:
        for page in self._pages(self._prefix(path), False):
            for o in page.get("Contents", ()):
                if "/CloudTrail-" not in f"/{o['Key']}":
                    yield o["Key"], o["Size"]

    def location(self, path: str) -> str:
        return f"s3://{self.bucket}/{path}"


def s3_client() -> Any:
    import boto3  # type: ignore[import-untyped]

    return boto3.client("s3")


def parse_s3_url(url: str) -> tuple[str, str]:
    """`s3://bucket/some/prefix/` -> ("bucket", "some/prefix")."""
    rest = url[len("s3://") :]
    bucket, _, prefix = rest.partition("/")
    if not bucket:
        raise UserError(f"SOURCE {url!r}: an S3 source needs a bucket, e.g. s3://my-trail-bucket/AWSLogs/.")
    return bucket, prefix.strip("/")


def join_key(*parts: str) -> str:
    """S3 key (or relative path) of PARTS, empty ones left out."""
    return "/".join(p for p in parts if p)


def _in_range(value: int, lo: int | None, hi: int | None) -> bool:
    return (lo is None or value >= lo) and (hi is None or value <= hi)


def _days(tree: _Tree, region_path: str, window: Window) -> Iterator[tuple[str, date]]:
    """Day folders under a region that the window needs, listed year -> month -> day."""
    first, last = window.day_range()
    for year in tree.dirs(region_path):
        if not (
            year.isdigit()
            and _in_range(int(year), first.year if first else None, last.year if last else None)
        ):
            continue
        for month in tree.dirs(join_key(region_path, year)):
            if not month.isdigit():
                continue
            ym = int(year) * 100 + int(month)
            lo = first.year * 100 + first.month if first else None
            hi = last.year * 100 + last.month if last else None
            if not _in_range(ym, lo, hi):
                continue
            for day in tree.dirs(join_key(region_path, year, month)):
                try:
                    d = date(int(year), int(month), int(day))
                except ValueError:
                    continue
                if (first is None or d >= first) and (last is None or d <= last):
                    yield join_key(region_path, year, month, day), d


def account_folders(dirs: Callable[[str], list[str]], awslogs: str) -> Iterator[tuple[str, str]]:
    """(account id, path of the account folder) under an AWSLogs folder, organization folders included;
    DIRS lists the sub-folder names of a path."""
    for name in dirs(awslogs):
        if _ACCOUNT.fullmatch(name):
            yield name, join_key(awslogs, name)
        elif _ORG.fullmatch(name):
            for sub in dirs(join_key(awslogs, name)):
                if _ACCOUNT.fullmatch(sub):
                    yield sub, join_key(awslogs, name, sub)


def _layout_files(
    tree: _Tree, accounts: Iterable[tuple[str, str]], window: Window, folder: str
) -> Iterator[LogFile]:
    for account, account_path in accounts:
        if window.accounts is not None and account not in window.accounts:
            continue
        trail = join_key(account_path, folder)
        for region in tree.dirs(trail):
            if window.regions is not None and region not in window.regions:
                continue
            for day_path, day in _days(tree, join_key(trail, region), window):
                for name, size in tree.files(day_path):
                    if name.endswith(_LOG_SUFFIXES):
                        yield LogFile(tree.location(join_key(day_path, name)), size, account, region, day)


def _find_layout(tree: _Tree, base: str) -> list[tuple[str, str]] | None:
    """Accounts to read if BASE is (inside) the CloudTrail layout, else None."""
    parts = base.split("/") if base else []
    if "AWSLogs" in parts:
        i = len(parts) - 1 - parts[::-1].index("AWSLogs")
        awslogs, below = "/".join(parts[: i + 1]), parts[i + 1 :]
        if not below:
            return list(account_folders(tree.dirs, awslogs))
        if _ACCOUNT.fullmatch(below[-1]) and len(below) <= 2:
            return [(below[-1], base)]
        if len(below) == 1 and _ORG.fullmatch(below[0]):
            return [(a, join_key(base, a)) for a in tree.dirs(base) if _ACCOUNT.fullmatch(a)]
        return None
    found = _find_awslogs(tree, base)
    return [a for awslogs in found for a in account_folders(tree.dirs, awslogs)] if found else None


def _find_awslogs(tree: _Tree, base: str, depth: int = 4) -> list[str]:
    """AWSLogs folders at or below BASE (a trail's key prefix may have several segments)."""
    found: list[str] = []
    level = [base]
    for _ in range(depth):
        below: list[str] = []
        for path in level:
            for name in tree.dirs(path):
                (found if name == "AWSLogs" else below).append(join_key(path, name))
        if found:
            return found
        level = below
    return found


def list_log_files(
    source: str, window: Window | None = None, *, client: Any = None, digests: bool = False
) -> list[LogFile]:
    """Log files of SOURCE (folder or s3:// URL) the window needs; with DIGESTS, the digest files instead."""
    window = window or Window()
    tree: _Tree
    if source.startswith("s3://"):
        bucket, base = parse_s3_url(source)
        tree = _S3Tree(bucket, client or s3_client())
    else:
        root = Path(source).expanduser()
        if not root.is_dir():
            raise UserError(
                f"SOURCE {source!r}: no such folder. Give a folder of CloudTrail logs "
                "(as written by `audit-trail fetch`) or an s3:// prefix, e.g. s3://my-trail-bucket/AWSLogs/."
            )
        # Inside the layout (e.g. .../AWSLogs/<account>): list from the folder holding AWSLogs.
        if "AWSLogs" in root.parts:
            i = len(root.parts) - 1 - root.parts[::-1].index("AWSLogs")
            tree, base = _LocalTree(Path(*root.parts[:i])), "/".join(root.parts[i:])
        else:
            tree, base = _LocalTree(root), ""
    accounts = _find_layout(tree, base)
    if accounts is not None:
        return list(_layout_files(tree, accounts, window, "CloudTrail-Digest" if digests else "CloudTrail"))
    if digests:
        return []
    # Not the CloudTrail layout: any export; the scanner applies the window to the records themselves.
    return [
        LogFile(tree.location(path), size) for path, size in tree.walk(base) if path.endswith(_LOG_SUFFIXES)
    ]
