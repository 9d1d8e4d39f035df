"""The scanner: read log files in parallel, decompress, prefilter, parse and filter their records.

CloudTrail writes many small gzip files, so per-file cost dominates: files are shared out in chunks to
worker processes, each file is decompressed once, files that provably cannot hold a match are dropped
before parsing, and records are parsed with orjson. Filters and row mappers see each record as a lazy
`EventRow`, so the whole `events` row is built only for the records kept (or a column that needs it).
Matching rows are written by the workers as JSON lines into a scratch folder (nothing large crosses
process boundaries) for DuckDB to read with an explicit schema.

The files and records are attacker-written, so nothing in them may stop a scan: an unreadable or
oversized file, a FIFO, a file that is not CloudTrail's, a record whose fields have the wrong JSON types,
a record nested too deeply or too large for the engine, a time that names no moment - each is skipped,
counted and named in the `ScanReport`, and the rest is answered. A worker that dies (as under the OOM
killer) ends the scan with an error, never a hang.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple, Protocol

import orjson

from .. import json_text
from ..errors import CannotRunError
from ..queries.filters import Filter, TimeRange, accepts
from ..queries.prefilter import Needles
from ..times import parse_instant, utc
from ..visible_text import as_unicode
from .events import EventRow
from .log_bytes import fetch_all, fresh_worker, inflate, looks_whole
from .sources import LogFile

REQUIRED_FIELDS = ("eventTime", "eventSource", "eventName")
MAX_ROW_BYTES = 1 << 20
"""What one record's row may take as JSON: a CloudTrail event holds at most 256 KB, and its row repeats the
request and response beside the whole record. One larger record is skipped and counted, so it can neither
fail the engine's reader nor make it reserve room for rows that size."""
_FLUSH_BYTES = 4 << 20
_IN_PROCESS_BELOW = 64  # files; fewer than this are not worth starting worker processes for


# A named tuple, not a frozen dataclass: defining one of those costs about a millisecond at every start.
class BadFile(NamedTuple):
    location: str
    reason: str


@dataclass
class ScanReport:
    """What a scan read and what it had to skip; merged across workers."""

    files_listed: int = 0
    files_read: int = 0
    files_prefiltered: int = 0
    files_indexed: int = 0
    """Of the files skipped, those the term index ruled out without reading them."""
    files_cached: int = 0
    """Of the files read, those answered from the cache's copy of their rows (`warm`), not their bytes."""
    records: int = 0
    in_window: int = 0
    """Records inside the time window (before any other filter): none means the window holds no event."""
    rows: int = 0
    """Records kept: those the plan wrote a row for (a hunt's record firing two rules is one, two hits)."""
    bad_files: list[BadFile] = field(default_factory=list)
    digest_files: int = 0
    bad_records: int = 0
    records_without_identity: int = 0
    bad_record_files: Counter[str] = field(default_factory=Counter)
    unreadable_records: Counter[str] = field(default_factory=Counter)
    """Records with the required fields that still could not be read, by why (nesting, size, types)."""
    duplicates: int = 0
    """Records CloudTrail delivered more than once (same eventID, identical record), counted once."""
    tally: Tally | None = None
    """What the plan's `tally` counted of the rows kept, over every chunk."""

    @classmethod
    def of_listing(cls, files: Sequence[LogFile], skip: frozenset[str]) -> ScanReport:
        """A report's start for the FILES listed, SKIP among them ruled out by the term index unread: the
        files that cannot be read are named, whatever then reads the others (a scan, or kept rows)."""
        report = cls(files_listed=len(files))
        report.bad_files.extend(BadFile(f.location, f.problem) for f in files if f.problem)
        report.files_prefiltered = report.files_indexed = sum(f.location in skip for f in files)
        return report

    def merge(self, other: ScanReport) -> None:
        self.files_read += other.files_read
        self.files_prefiltered += other.files_prefiltered
        self.files_indexed += other.files_indexed
        self.files_cached += other.files_cached
        self.records += other.records
        self.in_window += other.in_window
        self.rows += other.rows
        self.bad_files.extend(other.bad_files)
        self.digest_files += other.digest_files
        self.bad_records += other.bad_records
        self.records_without_identity += other.records_without_identity
        self.bad_record_files.update(other.bad_record_files)
        self.unreadable_records.update(other.unreadable_records)
        self.duplicates += other.duplicates
        if other.tally is not None:
            if self.tally is None:
                self.tally = other.tally
            else:
                self.tally.merge(other.tally)

    def summary(self) -> list[str]:
        """Lines for the end of a report: what was read and everything that was skipped."""
        indexed = f", {self.files_indexed} of them known from the cache" if self.files_indexed else ""
        cached = f"{self.files_cached} of them from the cache's copy of their events; "
        cached = cached if self.files_cached else ""
        lines = [
            f"{self.files_read} of {self.files_listed} log files read "
            f"({cached}{self.files_prefiltered} skipped by the prefilter: they cannot match{indexed}), "
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
        for why, n in sorted(self.unreadable_records.items()):
            lines.append(f"skipped {n} records that could not be read: {why}")
        if self.duplicates:
            lines.append(
                f"{self.duplicates} duplicate records dropped (CloudTrail delivers at least once: same "
                "eventID, identical record)."
            )
        if self.records_without_identity:
            lines.append(
                f"{self.records_without_identity} records have no userIdentity (kept; who is unknown)."
            )
        return lines


class SortKey(Protocol):
    """The place of one written row (MAPPED, made of the kept record ROW) in the answer's order: a JSON-able
    value compared as Python compares it; picklable."""

    def __call__(self, row: EventRow, mapped: Mapping[str, Any]) -> Any: ...


class Tally(Protocol):
    """Counts of the rows a scan keeps, made in the workers while they write them (so the parent need not
    read them back): each chunk of files counts into an `empty()` copy, and the copies are merged in the
    order of the files, as if one process had counted them all. Picklable."""

    def empty(self) -> Tally: ...

    def add(self, rows: Sequence[Mapping[str, Any]]) -> None: ...

    def merge(self, other: Tally) -> None: ...


class RowMapper(Protocol):
    """Turns a kept record (and its lazy `events` row) into the rows to write; runs in the workers:
    picklable."""

    def __call__(self, record: dict[str, Any], row: EventRow) -> Iterable[dict[str, Any]]: ...


@dataclass(frozen=True)
class ScanPlan:
    """What to keep: rows passing every filter, written as they are or as MAPPER turns them.

    Needle groups: a file must contain one needle of each filter's group to be parsed at all. With ORDER,
    the rows are written in runs sorted by it (`RUN_SEPARATOR` between each line's key and row), each run
    cut to the rows of its first LIMIT events when a limit is given (ORDER's keys are then lists whose last
    element tells copies of one event apart, as `listing.Order`'s): merging the runs gives the rows in
    order.
    """

    filters: tuple[Filter, ...] = ()
    mapper: RowMapper | None = None
    order: SortKey | None = None
    limit: int | None = None
    tally: Tally | None = None
    indented: bool = False
    """Rows written as orjson writes them indented by two, each of their newlines as a tab (JSON text holds
    no raw tab, so a row stays one line): the text a JSON answer shows, which the parent then writes as it
    is. Only in sorted runs (with ORDER), whose lines part at their first tab."""

    def __post_init__(self) -> None:
        if self.indented and self.order is None:
            raise ValueError("indented rows are written in sorted runs only: give an order")

    def needle_groups(self) -> tuple[tuple[bytes, ...], ...]:
        return tuple(n for n in (f.needles() for f in self.filters) if n)

    def needle_field(self) -> str | None:
        """The record field the record-level prefilter searches (`Filter.needle_field`), when every filter
        with needles names the same one; None: the record's whole text."""
        fields = {f.needle_field() for f in self.filters if f.needles()}
        return fields.pop() if len(fields) == 1 else None

    def time_bounds(self) -> tuple[datetime | None, datetime | None]:
        """The tightest eventTime bounds among the filters, as UTC instants."""
        lo = [utc(f.since) for f in self.filters if isinstance(f, TimeRange) and f.since]
        hi = [utc(f.until) for f in self.filters if isinstance(f, TimeRange) and f.until]
        return (max(lo) if lo else None), (min(hi) if hi else None)

    def row_filters(self) -> tuple[Filter, ...]:
        """The filters tested per row: the time range is already checked, on the parsed instant."""
        return tuple(f for f in self.filters if not isinstance(f, TimeRange))


# --- one chunk of files (runs in a worker) ---


def _lines(data: bytes) -> tuple[list[Any], int]:
    """The records of a JSON-lines file (one record per line), and how many lines were not JSON objects."""
    records: list[Any] = []
    bad = 0
    for line in data.splitlines():
        if not line.strip():
            continue
        try:
            records.append(orjson.loads(line))
        except orjson.JSONDecodeError:
            bad += 1
    return records, bad


def _lookup_events(doc: dict[str, Any]) -> list[Any] | None:
    """The records of `aws cloudtrail lookup-events` output (each `CloudTrailEvent` is a JSON string)."""
    events = doc.get("Events")
    if not isinstance(events, list) or not all(
        isinstance(e, dict) and "CloudTrailEvent" in e for e in events
    ):
        return None
    records: list[Any] = []
    for event in events:
        text = event["CloudTrailEvent"]
        try:
            records.append(orjson.loads(text) if isinstance(text, str) else text)
        except orjson.JSONDecodeError:
            records.append(None)  # counted as a bad record
    return records


def _records(doc: Any) -> tuple[list[Any] | None, str]:
    """The records of a parsed file, or None and why it is not a log file ("digest" for a digest)."""
    if isinstance(doc, dict):
        records = doc.get("Records")
        if isinstance(records, list):
            return records, ""
        if "digestStartTime" in doc:
            return None, "digest"
        from_lookup = _lookup_events(doc)
        if from_lookup is not None:
            return from_lookup, ""
    elif isinstance(doc, list) and all(isinstance(r, dict) for r in doc):
        return doc, ""  # a plain list of records, as some exports write them
    return None, "no Records list: not a CloudTrail log file"


def dedup_key(record: Mapping[str, Any], text: bytes | None = None) -> str:
    """Same eventID, identical record: one event delivered twice (CloudTrail delivers at least once). TEXT:
    the record's JSON text, when the caller has it. Identical means written alike, keys in the same order: a
    copy with its keys reordered is a different record, shown, never hidden as a repeat."""
    digest = hashlib.blake2b(text or json_text.dumps(record), digest_size=10).hexdigest()
    return f"{record.get('eventID')}|{digest}"


class _Writer:
    """Rows to a JSON-lines file, flushed in batches so a broad answer never sits in a worker's memory."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self.pending: list[bytes] = []
        self.size = 0

    def add(self, line: bytes, key: Any = None) -> None:
        if self.path is None:
            return
        self.pending.append(line)
        self.size += len(line)
        if self.size >= _FLUSH_BYTES:
            self.flush()

    def flush(self) -> None:
        if self.pending and self.path is not None:
            self._write(self.path, "ab", (line + b"\n" for line in self.pending))
        self.pending, self.size = [], 0

    @staticmethod
    def _write(path: str, mode: str, lines: Iterable[bytes]) -> None:
        with open(path, mode) as fh:
            fh.writelines(lines)


RUN_SEPARATOR = b"\t"
"""Between a sorted run's key and row: JSON text never holds a raw tab."""


class _RunWriter(_Writer):
    """Rows in sorted runs: each flush sorts what it holds and writes it to a file of its own."""

    def __init__(self, path: str, limit: int | None) -> None:
        super().__init__(path)
        self.limit = limit
        self.keyed: list[tuple[Any, bytes]] = []
        self.runs = 0

    def add(self, line: bytes, key: Any = None) -> None:
        self.keyed.append((key, line))
        self.size += len(line)
        if self.size >= _FLUSH_BYTES:
            self.flush()

    def flush(self) -> None:
        if self.keyed:
            self.keyed.sort(key=lambda pair: pair[0])
            kept = _first_events(self.keyed, self.limit) if self.limit else self.keyed
            self._write(
                f"{self.path}.run{self.runs:04d}",
                "wb",
                (orjson.dumps(k) + RUN_SEPARATOR + line + b"\n" for k, line in kept),
            )
            self.runs += 1
        self.keyed, self.size = [], 0


class KeptLines(_Writer):
    """Rows held in memory, for a caller that takes one file's rows whole (the cache's build)."""

    def __init__(self) -> None:
        super().__init__("")

    def flush(self) -> None:
        pass


class FileScan:
    """PLAN's work on one file's inflated bytes: prefilter, parse, test and keep its records into OUT."""

    def __init__(self, plan: ScanPlan, out: _Writer) -> None:
        groups = plan.needle_groups()
        self.plan = plan
        self.out = out
        self.needles = Needles(groups) if groups else None
        self.needle_field = plan.needle_field()
        self.lo, self.hi = plan.time_bounds()
        self.filters = plan.row_filters()

    def data(self, loc: str, data: bytes, report: ScanReport) -> None:
        """Scan the file at LOC, whose inflated bytes are DATA; what it met goes to REPORT."""
        needles, needle_field, lo, hi = self.needles, self.needle_field, self.lo, self.hi
        filters, plan, out = self.filters, self.plan, self.out  # locals: the record loop below is hot
        if needles is not None and not needles(data) and looks_whole(data):
            report.files_prefiltered += 1
            return
        bad_lines = 0
        records: list[Any] | None
        if loc.endswith((".jsonl", ".jsonl.gz")):
            records, bad_lines = _lines(data)
            kind = ""
        else:
            try:
                doc = orjson.loads(data)
            except orjson.JSONDecodeError as exc:
                report.bad_files.append(BadFile(loc, f"not JSON ({exc})"))
                return
            records, kind = _records(doc)
        if records is None:
            if kind == "digest":
                report.digest_files += 1
            else:
                report.bad_files.append(BadFile(loc, kind))
            return
        report.files_read += 1
        shown = as_unicode(loc)  # the rows' `source_file`
        if bad_lines:
            report.bad_records += bad_lines
            report.bad_record_files[loc] += bad_lines
        for rec in records:
            # REQUIRED_FIELDS, spelled out: this loop runs for every record of every file read
            moment = parse_instant(rec.get("eventTime")) if type(rec) is dict else None
            if not (
                moment is not None
                and isinstance(rec.get("eventSource"), str)
                and isinstance(rec.get("eventName"), str)
            ):
                report.bad_records += 1
                report.bad_record_files[loc] += 1
                continue
            report.records += 1
            if (lo is not None and moment < lo) or (hi is not None and moment >= hi):
                continue
            report.in_window += 1
            try:
                row = EventRow(rec, shown, moment)
                if needles is not None and not needles(
                    row.text if needle_field is None else json_text.dumps(rec.get(needle_field))
                ):
                    continue  # the prefilter on the record's own text: most records of a file lack the needle
                _keep(rec, row, filters, plan, report, out)
            except Exception as exc:  # one record, whatever its shape, never stops the scan
                report.unreadable_records[_why(exc)] += 1


def _first_events(keyed: list[tuple[Any, bytes]], limit: int) -> list[tuple[Any, bytes]]:
    """The sorted rows of KEYED's first LIMIT events: copies of one event (keys alike but for their last
    element, the file: `listing.Order`) count once, as the merge drops them, so a run cut here still holds
    LIMIT events when it holds repeats."""
    events = 0
    previous = None
    for end, (key, _) in enumerate(keyed):
        if key[:-1] != previous:
            if events == limit:
                return keyed[:end]
            events += 1
            previous = key[:-1]
    return keyed


def scan_chunk(files: Sequence[LogFile], plan: ScanPlan, out_path: str | None) -> ScanReport:
    """Scan some files; append matching rows as JSON lines to OUT_PATH (None: count only)."""
    report = ScanReport()
    out = _RunWriter(out_path, plan.limit) if plan.order is not None and out_path else _Writer(out_path)
    if plan.tally is not None:
        report.tally = plan.tally.empty()
    scanner = FileScan(plan, out)
    for file, payload in fetch_all([f for f in files if not f.problem]):
        loc = file.location
        if isinstance(payload, Exception):
            report.bad_files.append(BadFile(loc, f"cannot read ({payload})"))
            continue
        data, problem = inflate(loc, payload)
        if data is None:
            report.bad_files.append(BadFile(loc, problem or "unreadable"))
            continue
        scanner.data(loc, data, report)
    out.flush()
    return report


def _keep(
    rec: dict[str, Any],
    row: EventRow,
    filters: tuple[Filter, ...],
    plan: ScanPlan,
    report: ScanReport,
    out: _Writer,
) -> None:
    if filters and not accepts(filters, row):
        return
    if not isinstance(rec.get("userIdentity"), dict):
        report.records_without_identity += 1
    if plan.mapper is None and out.path is None:  # counting only: no row to build
        report.rows += 1
        return
    if plan.mapper is None:
        rows: Sequence[dict[str, Any]] = ({**row.full(), "dedup_key": dedup_key(rec, row.text)},)
    else:
        rows = tuple(plan.mapper(rec, row))
        if not rows:  # a hunt's record that fires no rule: most of them
            return
    lines = [_line(r, plan.indented) for r in rows]  # all or nothing per record
    if report.tally is not None:
        report.tally.add(rows)
    keys = [plan.order(row, r) for r in rows] if plan.order is not None else [None] * len(lines)
    if lines:
        report.rows += 1
    for line, key in zip(lines, keys, strict=True):
        out.add(line, key)


_INDENTED = orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS


def _line(row: dict[str, Any], indented: bool) -> bytes:
    """ROW as a line of JSON text: indented (`ScanPlan.indented`, newlines as tabs) when that fits in
    MAX_ROW_BYTES, else compact; a row whose compact text does not fit is refused. A row's size is its
    compact text's: nesting inflates the indented text (a 100 KB request of arrays nested 200 deep is
    megabytes indented), and an intruder's record must not be dropped from a cold answer that the cache's
    compact copy of it would show."""
    if indented:
        line = json_text.dumps(row, option=_INDENTED)
        if len(line) <= MAX_ROW_BYTES:
            return line.replace(b"\n", b"\t")
    line = json_text.dumps(row, option=orjson.OPT_NON_STR_KEYS)
    if len(line) > MAX_ROW_BYTES:
        raise _TooLargeRecord
    return line


def as_written(row: bytes) -> Any:
    """A sorted run's row of an indented plan as a JSON answer writes it: its indented text (an
    `orjson.Fragment`), or the row decoded when it was kept compact (`_line`), to be indented as any."""
    if b"\t" in row:  # the indented text of an object always has a newline; compact text never a tab
        return orjson.Fragment(row.rstrip(b"\n").replace(b"\t", b"\n"))
    return orjson.loads(row)


class _TooLargeRecord(Exception):
    pass


def _why(exc: Exception) -> str:
    if isinstance(exc, _TooLargeRecord):
        return f"larger than {MAX_ROW_BYTES >> 20} MiB as a row"
    if isinstance(exc, (orjson.JSONEncodeError, RecursionError)):
        return "nested too deeply"
    return f"fields of an unexpected type ({type(exc).__name__})"


GC_THRESHOLD = 100_000
"""Allocations between two passes of the cycle collector while a chunk is scanned (Python's default: 700).
Parsed records are trees, so the collector finds nothing in them, yet its passes over each file's thousands
of new dicts cost a tenth of a scan; it still runs, so whatever cycles there are stay bounded."""


@contextlib.contextmanager
def _rare_collections() -> Iterator[None]:
    before = gc.get_threshold()
    gc.set_threshold(GC_THRESHOLD, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _chunk_task(args: tuple[Sequence[LogFile], ScanPlan, str | None]) -> ScanReport:
    with _rare_collections():
        return scan_chunk(*args)


def _chunks(files: Sequence[LogFile], workers: int) -> list[list[LogFile]]:
    # Threads fetch the S3 objects of a chunk, so S3 chunks are large; local ones balance the workers.
    remote = bool(files) and files[0].location.startswith("s3://")
    size = 64 if remote else max(1, min(64, len(files) // (workers * 8)))
    return [list(files[i : i + size]) for i in range(0, len(files), size)]


Progress = Callable[[str], None]
"""Told how far a long task has got, in a line a person reads ("1200 of 6050 log files read")."""


def scan(
    files: Sequence[LogFile],
    plan: ScanPlan,
    out_dir: Path | None,
    *,
    workers: int | None = None,
    progress: Progress | None = None,
    skip: frozenset[str] = frozenset(),
) -> tuple[ScanReport, list[Path]]:
    """Scan FILES with PLAN; rows go to JSON-lines files in OUT_DIR (returned). Parallel unless few files.

    SKIP: files the term index proves hold no match (`cache.index`); they are not read, and counted with
    the prefilter's."""
    workers = workers or os.cpu_count() or 1
    report = ScanReport.of_listing(files, skip)
    if skip:
        files = [f for f in files if f.location not in skip]
    chunks = _chunks(files, workers)
    outputs = [None if out_dir is None else str(out_dir / f"rows-{i:05d}.jsonl") for i in range(len(chunks))]
    tasks = [(chunk, plan, out) for chunk, out in zip(chunks, outputs, strict=True)]
    done = 0

    def merge(part: ScanReport, chunk: Sequence[LogFile]) -> None:
        nonlocal done
        report.merge(part)
        done += len(chunk)
        if progress is not None:
            progress(f"{done} of {len(files)} log files read, {report.rows} matching")

    if workers == 1 or len(files) < _IN_PROCESS_BELOW:
        for task in tasks:
            merge(_chunk_task(task), task[0])
    else:
        # Only a scan of many files starts workers: a selective question on few files never loads these.
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor
        from concurrent.futures.process import BrokenProcessPool

        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        context = multiprocessing.get_context(method)
        try:
            with ProcessPoolExecutor(workers, mp_context=context, initializer=fresh_worker) as pool:
                for part, task in zip(pool.map(_chunk_task, tasks), tasks, strict=True):
                    merge(part, task[0])
        except BrokenProcessPool:
            raise CannotRunError(
                "a scanner worker process died (killed by the system, perhaps for memory): the answer "
                "would be incomplete, so there is none. Narrow the window or --region, or free memory, and "
                "ask again."
            ) from None
    written = sorted(out_dir.glob("rows-*")) if out_dir is not None else []
    return report, written


def read_rows(paths: Iterable[Path]) -> Iterator[dict[str, Any]]:
    """The rows a scan wrote, in file order (for consumers that do not need DuckDB); the lines of sorted
    runs without their keys (no JSON text holds a raw tab, so a plain row has no RUN_SEPARATOR, and a key
    ends at the first)."""
    for path in paths:
        with open(path, "rb") as fh:
            for line in fh:
                key, separator, row = line.partition(RUN_SEPARATOR)
                yield orjson.loads(row if separator else key)
