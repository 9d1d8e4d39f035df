"""The scanner: read log files in parallel, decompress, prefilter, parse and filter their records.

CloudTrail writes many small gzip files, so per-file cost dominates: files are shared out in chunks to
worker processes, each file is decompressed once, files that lack every needle of a filter are dropped
before parsing, and records are parsed with orjson. Filters and row mappers see each record as a lazy
`EventRow`, so the whole `events` row is built only for the records kept (or a column that needs it).
Matching rows are written by the workers as JSON lines into a scratch folder (nothing large crosses process
boundaries) for DuckDB to read with an explicit schema.

One bad file never stops a scan: unreadable gzip, non-JSON, a file without `Records`, a record without the
fields every question needs — each is skipped and counted in the `ScanReport`.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import orjson

from ..cloudtrail_layout import parse_s3_url
from ..compressed import GzipError, gunzip
from ..queries.filters import Filter, TimeRange, accepts
from ..queries.prefilter import may_hold
from ..store import s3_client
from ..times import iso
from .events import EventRow
from .sources import LogFile

REQUIRED_FIELDS = ("eventTime", "eventSource", "eventName")
MAX_FILE_BYTES = 1 << 30
"""What one log file may inflate to (the bound is revisited with the hostile-input limits)."""
_IN_PROCESS_BELOW = 64  # files; fewer than this are not worth starting worker processes for


@dataclass
class BadFile:
    location: str
    reason: str


@dataclass
class ScanReport:
    """What a scan read and what it had to skip; merged across workers."""

    files_listed: int = 0
    files_read: int = 0
    files_prefiltered: int = 0
    records: int = 0
    rows: int = 0
    bad_files: list[BadFile] = field(default_factory=list)
    digest_files: int = 0
    bad_records: int = 0
    records_without_identity: int = 0
    bad_record_files: Counter[str] = field(default_factory=Counter)

    def merge(self, other: ScanReport) -> None:
        self.files_read += other.files_read
        self.files_prefiltered += other.files_prefiltered
        self.records += other.records
        self.rows += other.rows
        self.bad_files.extend(other.bad_files)
        self.digest_files += other.digest_files
        self.bad_records += other.bad_records
        self.records_without_identity += other.records_without_identity
        self.bad_record_files.update(other.bad_record_files)

    def summary(self) -> list[str]:
        """Lines for the end of a report: what was read and everything that was skipped."""
        lines = [
            f"{self.files_read} of {self.files_listed} log files read "
            f"({self.files_prefiltered} skipped by the prefilter: they cannot match), "
            f"{self.records} records, {self.rows} matching."
        ]
        if self.digest_files:
            lines.append(f"{self.digest_files} digest files skipped (they hold no events).")
        for bad in self.bad_files:
            lines.append(f"skipped file {bad.location}: {bad.reason}")
        if self.bad_records:
            where = ", ".join(f"{loc} ({n})" for loc, n in sorted(self.bad_record_files.items()))
            lines.append(
                f"skipped {self.bad_records} records without a valid {'/'.join(REQUIRED_FIELDS)}: {where}"
            )
        if self.records_without_identity:
            lines.append(
                f"{self.records_without_identity} records have no userIdentity (kept; who is unknown)."
            )
        return lines


class RowMapper(Protocol):
    """Turns a kept record (and its lazy `events` row) into the rows to write; runs in the workers:
    picklable."""

    def __call__(self, record: dict[str, Any], row: EventRow) -> Iterable[dict[str, Any]]: ...


@dataclass(frozen=True)
class ScanPlan:
    """What to keep: rows passing every filter, written as they are or as MAPPER turns them.

    Needle groups: a file must contain one needle of each filter's group to be parsed at all.
    """

    filters: tuple[Filter, ...] = ()
    mapper: RowMapper | None = None

    def needle_groups(self) -> tuple[tuple[bytes, ...], ...]:
        return tuple(n for n in (f.needles() for f in self.filters) if n)

    def time_bounds(self) -> tuple[str | None, str | None]:
        """The tightest eventTime bounds among the filters, as strings comparable with eventTime."""
        lo = [iso(f.since) for f in self.filters if isinstance(f, TimeRange) and f.since]
        hi = [iso(f.until) for f in self.filters if isinstance(f, TimeRange) and f.until]
        return (max(lo) if lo else None), (min(hi) if hi else None)


# --- reading bytes ---

_client: Any = None


def _s3() -> Any:
    global _client  # one client per worker process, made after the fork
    if _client is None:
        _client = s3_client()
    return _client


def _read(location: str) -> bytes:
    if location.startswith("s3://"):
        bucket, key = parse_s3_url(location)
        body: bytes = _s3().get_object(Bucket=bucket, Key=key)["Body"].read()
        return body
    return Path(location).read_bytes()


def _fetch_all(locations: Sequence[str]) -> Iterator[tuple[str, bytes | Exception]]:
    """Bytes of each location, S3 objects fetched concurrently (network latency, not CPU, bounds them)."""

    def one(loc: str) -> tuple[str, bytes | Exception]:
        try:
            return loc, _read(loc)
        except Exception as exc:  # any read failure is reported per file, never fatal
            return loc, exc

    if locations and locations[0].startswith("s3://"):
        with ThreadPoolExecutor(max_workers=16) as pool:
            yield from pool.map(one, locations)
    else:
        for loc in locations:
            yield one(loc)


# --- one chunk of files (runs in a worker) ---


def _looks_whole(data: bytes) -> bool:
    """Cheap check that a JSON object of Records was not cut: files the prefilter skips are still vetted."""
    head, tail = data[:64].lstrip(), data[-64:].rstrip()
    return head[:1] == b"{" and tail[-1:] == b"}" and b'"Records"' in data


def _decode(loc: str, data: bytes) -> tuple[bytes | None, str | None]:
    if data[:2] == b"\x1f\x8b":
        try:
            return gunzip(data, MAX_FILE_BYTES), None
        except GzipError as exc:
            return None, f"unreadable gzip ({exc})"
    if loc.endswith(".gz"):
        return None, "not gzip data"
    return data, None


def _valid_time(text: str) -> bool:
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def _classify(doc: Any) -> str | None:
    """Why a parsed document is not a log file, or None if it is."""
    if isinstance(doc, dict) and isinstance(doc.get("Records"), list):
        return None
    if isinstance(doc, dict) and "digestStartTime" in doc:
        return "digest"
    return "no Records list: not a CloudTrail log file"


def scan_chunk(locations: Sequence[str], plan: ScanPlan, out_path: str | None) -> ScanReport:
    """Scan some files; append matching rows as JSON lines to OUT_PATH (None: count only)."""
    report = ScanReport()
    groups = plan.needle_groups()
    lo, hi = plan.time_bounds()
    filters = plan.filters
    lines: list[bytes] = []
    for loc, payload in _fetch_all(locations):
        if isinstance(payload, Exception):
            report.bad_files.append(BadFile(loc, f"cannot read ({payload})"))
            continue
        data, problem = _decode(loc, payload)
        if data is None:
            report.bad_files.append(BadFile(loc, problem or "unreadable"))
            continue
        if groups and not may_hold(data, groups) and _looks_whole(data):
            report.files_prefiltered += 1
            continue
        try:
            doc = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            report.bad_files.append(BadFile(loc, f"not JSON ({exc})"))
            continue
        kind = _classify(doc)
        if kind == "digest":
            report.digest_files += 1
            continue
        if kind:
            report.bad_files.append(BadFile(loc, kind))
            continue
        report.files_read += 1
        for rec in doc["Records"]:
            # REQUIRED_FIELDS, spelled out: this loop runs for every record of every file read
            t = rec.get("eventTime") if isinstance(rec, dict) else None
            if not (
                isinstance(t, str)
                and isinstance(rec.get("eventSource"), str)
                and isinstance(rec.get("eventName"), str)
                and _valid_time(t)
            ):
                report.bad_records += 1
                report.bad_record_files[loc] += 1
                continue
            report.records += 1
            if (lo is not None and t < lo) or (hi is not None and t >= hi):
                continue
            if not isinstance(rec.get("userIdentity"), dict):
                report.records_without_identity += 1
            row = EventRow(rec, loc)
            if filters and not accepts(filters, row):
                continue
            for out in (row.full(),) if plan.mapper is None else plan.mapper(rec, row):
                report.rows += 1
                if out_path is not None:
                    lines.append(orjson.dumps(out))
    if lines and out_path is not None:
        with open(out_path, "ab") as fh:
            fh.write(b"\n".join(lines) + b"\n")
    return report


def _fresh_worker() -> None:
    global _client  # a forked child must not share the parent's HTTP connections
    _client = None


def _chunk_task(args: tuple[Sequence[str], ScanPlan, str | None]) -> ScanReport:
    return scan_chunk(*args)


def _chunks(files: Sequence[LogFile], workers: int) -> list[list[str]]:
    # Threads fetch the S3 objects of a chunk, so S3 chunks are large; local ones balance the workers.
    remote = bool(files) and files[0].location.startswith("s3://")
    size = 64 if remote else max(1, min(64, len(files) // (workers * 8)))
    locs = [f.location for f in files]
    return [locs[i : i + size] for i in range(0, len(locs), size)]


def scan(
    files: Sequence[LogFile], plan: ScanPlan, out_dir: Path | None, *, workers: int | None = None
) -> tuple[ScanReport, list[Path]]:
    """Scan FILES with PLAN; rows go to JSON-lines files in OUT_DIR (returned). Parallel unless few files."""
    workers = workers or os.cpu_count() or 1
    report = ScanReport(files_listed=len(files))
    chunks = _chunks(files, workers)
    outputs = [None if out_dir is None else str(out_dir / f"rows-{i:05d}.jsonl") for i in range(len(chunks))]
    tasks = [(chunk, plan, out) for chunk, out in zip(chunks, outputs, strict=True)]
    if workers == 1 or len(files) < _IN_PROCESS_BELOW:
        for part in map(_chunk_task, tasks):
            report.merge(part)
    else:
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        with multiprocessing.get_context(method).Pool(workers, initializer=_fresh_worker) as pool:
            for part in pool.imap_unordered(_chunk_task, tasks):
                report.merge(part)
    written = [Path(p) for p in outputs if p is not None and Path(p).exists()]
    return report, written


def read_rows(paths: Iterable[Path]) -> Iterator[dict[str, Any]]:
    """The rows a scan wrote, in file order (for consumers that do not need DuckDB)."""
    for path in paths:
        with open(path, "rb") as fh:
            for line in fh:
                yield orjson.loads(line)
