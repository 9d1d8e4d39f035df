"""Which log files a question reads: a local folder or an `s3://` prefix, listed through CloudTrail's key
layout.

The layout `[prefix/]AWSLogs/[o-org/]<account>/CloudTrail/<region>/YYYY/MM/DD/` is the index: only the
account, region and (UTC) day folders a question needs are listed, digest and Insights folders never are. A
folder that does not follow the layout (any other export) is walked whole for `*.json.gz` / `*.json` files.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from ..cloudtrail_layout import AWSLOGS, DIGEST_FOLDER, LOG_FOLDER, find_accounts, join_key, parse_s3_url
from ..errors import UserError
from ..store import FolderStore, S3Store, Store, version_of
from ..window import Window

if TYPE_CHECKING:
    from .warm import KeptRows

LOG_SUFFIXES = (".json.gz", ".json", ".jsonl", ".jsonl.gz")


class LogFile(NamedTuple):
    """One log file: `location` is a local path or an `s3://bucket/key` URL. A named tuple: a listing makes
    one per file, and a frozen dataclass costs four times as much to make."""

    location: str
    size: int
    account: str | None = None
    region: str | None = None
    day: date | None = None
    problem: str = ""
    """Why the file cannot be read (listed so the scan names it), or empty."""
    version: str = ""
    """What identifies this version of the file with its size: mtime and ctime in ns, or the S3 ETag."""
    copy: str = ""
    """A private local copy of an S3 object's bytes, downloaded once for every step of a command
    (`spool.spooled`): read instead of the object. Empty: read the location."""


class FileLookup(Protocol):
    """What an index knows of one question's files."""

    def cannot_match(self, groups: Sequence[Sequence[bytes]]) -> frozenset[str]:
        """Locations of files proven to hold no record with, for every group, one of its needles."""
        ...

    def unindexed(self) -> list[LogFile]:
        """The files it does not know as they are now."""
        ...

    def kept_rows(self, read: Sequence[LogFile], folder: Path) -> KeptRows | None:
        """The rows it keeps of the files READ (`warm`), written to FOLDER; None unless it keeps them all."""
        ...


class FileIndex(Protocol):
    """An index of log files' contents that lets a scan skip files (the term index, `cache.index`)."""

    def look_up(self, files: Sequence[LogFile]) -> FileLookup: ...


def _in_range(value: int, lo: int | None, hi: int | None) -> bool:
    return (lo is None or value >= lo) and (hi is None or value <= hi)


def _digits(name: str, width: int) -> bool:
    """NAME is a number as CloudTrail writes it in a day folder's path: WIDTH ASCII digits (`2026/03/04`). A
    folder `3`, `03 ` or in other scripts' digits is none of CloudTrail's, and `verify` never lists it: a
    question must not read what no check covers."""
    return len(name) == width and name.isascii() and name.isdigit()


def _days(store: Store, region_path: str, window: Window) -> Iterator[tuple[str, date]]:
    """Day folders under a region that the window needs, listed year -> month -> day."""
    first, last = window.day_range()
    for year in store.listdir(region_path)[0]:
        if not (
            _digits(year, 4)
            and _in_range(int(year), first.year if first else None, last.year if last else None)
        ):
            continue
        for month in store.listdir(join_key(region_path, year))[0]:
            if not _digits(month, 2):
                continue
            ym = int(year) * 100 + int(month)
            lo = first.year * 100 + first.month if first else None
            hi = last.year * 100 + last.month if last else None
            if not _in_range(ym, lo, hi):
                continue
            for day in store.listdir(join_key(region_path, year, month))[0]:
                if not _digits(day, 2):
                    continue
                try:
                    d = date(int(year), int(month), int(day))
                except ValueError:
                    continue
                if (first is None or d >= first) and (last is None or d <= last):
                    yield join_key(region_path, year, month, day), d


def _layout_files(
    store: Store, accounts: Iterable[tuple[str, str]], window: Window, folder: str
) -> Iterator[LogFile]:
    for account, account_path in accounts:
        if window.accounts is not None and account not in window.accounts:
            continue
        trail = join_key(account_path, folder)
        for region in store.listdir(trail)[0]:
            if window.regions is not None and region not in window.regions:
                continue
            for day_path, day in _days(store, join_key(trail, region), window):
                where = store.location(day_path)  # a day folder is never the root: joined as text
                for f in store.listdir(day_path)[1]:
                    if f.name.endswith(LOG_SUFFIXES):
                        location = f"{where}/{f.name}"
                        yield LogFile(location, f.size, account, region, day, f.problem, f.version)


def open_store(source: str, client: Any = None) -> tuple[Store, str]:
    """The store SOURCE (a folder, a file or an s3:// URL) is in, and the key of SOURCE inside it."""
    if source.startswith("s3://"):
        try:
            bucket, base = parse_s3_url(source)
        except ValueError:
            raise UserError(
                f"SOURCE {source!r}: an S3 source needs a bucket, e.g. s3://my-trail-bucket/AWSLogs/."
            ) from None
        return S3Store(bucket, client), base
    root = Path(source).expanduser()
    if root.is_file():  # one exported file: the store is its folder
        return FolderStore(root.parent), root.name
    if not root.is_dir():
        what = (
            "not a folder or a plain file (a FIFO or a device)" if root.exists() else "no such folder or file"
        )
        raise UserError(
            f"SOURCE {source!r}: {what}. Give a folder of CloudTrail logs "
            "(as written by `audit-trail fetch`) or an s3:// prefix, e.g. s3://my-trail-bucket/AWSLogs/."
        )
    # Inside the layout (e.g. .../AWSLogs/<account>): list from the folder holding AWSLogs.
    if AWSLOGS in root.parts:
        i = len(root.parts) - 1 - root.parts[::-1].index(AWSLOGS)
        return FolderStore(Path(*root.parts[:i])), "/".join(root.parts[i:])
    return FolderStore(root), ""


def _is_trail_folder(key: str) -> bool:
    """Digest and Insights folders (`CloudTrail-Digest`, `CloudTrail-Insight`) hold no events."""
    return any(part.startswith(f"{LOG_FOLDER}-") for part in key.split("/")[:-1])


def list_log_files(
    source: str, window: Window | None = None, *, client: Any = None, digests: bool = False
) -> list[LogFile]:
    """Log files of SOURCE (folder or s3:// URL) the window needs; with DIGESTS, the digest files instead."""
    window = window or Window()
    store, base = open_store(source, client)
    if isinstance(store, FolderStore) and (store.root / base).is_file():
        st = (store.root / base).stat()
        return [LogFile(store.location(base), st.st_size, version=version_of(st))]
    accounts = find_accounts(lambda path: store.listdir(path)[0], base)
    if accounts is not None:
        folder = DIGEST_FOLDER if digests else LOG_FOLDER
        files = list(_layout_files(store, accounts, window, folder))
    elif digests:
        files = []
    else:
        # Not the CloudTrail layout: any export; the scanner applies the window to the records themselves.
        files = [
            LogFile(store.location(f.name), f.size, problem=f.problem, version=f.version)
            for f in store.walk(base)
            if f.name.endswith(LOG_SUFFIXES) and not _is_trail_folder(f.name)
        ]
    if isinstance(store, FolderStore):  # folders that could not be listed are named in the scan report
        files += [LogFile(path, 0, problem=why) for path, why in store.problems]
    return files


# A named tuple, not a frozen dataclass: defining one of those costs about a millisecond at every start.
class HeldDays(NamedTuple):
    """The day folders one account and region of a source hold: first, last and how many."""

    account: str
    region: str
    first: date
    last: date
    days: int


def held_days(source: str, *, client: Any = None) -> list[HeldDays] | None:
    """Per account and region of SOURCE's CloudTrail layout, the day folders it holds (any window), for
    saying what a source does hold when a question found nothing; None if SOURCE does not follow the layout.

    Only folder names are listed (year -> month -> day), never files: on a bucket that is one list call per
    folder. Folders that are not dates are left out.
    """
    store, base = open_store(source, client)
    accounts = find_accounts(lambda path: store.listdir(path)[0], base)
    if accounts is None:
        return None
    held: list[HeldDays] = []
    for account, account_path in accounts:
        trail = join_key(account_path, LOG_FOLDER)
        for region in sorted(store.listdir(trail)[0]):
            days = sorted(day for _, day in _days(store, join_key(trail, region), Window()))
            if days:
                held.append(HeldDays(account, region, days[0], days[-1], len(days)))
    return held
