"""A list of events answered from the cache's copy of its files' rows, without reading the files again.

When the term index has taken a file's terms it also keeps the file's `events` rows (`cache.rows`), checked
by the same identity: a broad question over files it knows as they are now is then one DuckDB query over
those rows, not a parse of every record in Python. The answer is the one the scan gives (`listing`): the
filters' SQL is their definition (`queries.filters`), the rows come sorted by the scan's own key, repeated
deliveries are dropped as `listing.merged` drops them, and each row is the JSON text the scan's mapper made of
the record. What the scan would count of the files (records, records without the required fields, rows,
repeats, records without an identity) is counted here too; but a file the scan's prefilter would skip unread
is counted as read here when the terms did not rule it out, and records within the window alone
(`in_window`, which only a hunt reads) are not counted.

A file whose rows were not kept (one with a record the scan cannot read, say) is read as before: unless every
file the question needs has its rows kept, the question is scanned.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import orjson

from ..attack_tactics import with_tactics
from ..errors import CannotRunError, without_traceback
from ..queries.events_view import COLUMNS
from ..queries.filters import sql_str, where_sql
from ..queries.questions import EVENT_COLUMNS, Question
from ..stops import as_stops
from .events import EventRow
from .listing import Columns
from .scanner import ScanReport, dedup_key
from .sources import LogFile

LISTING = EVENT_COLUMNS
"""The columns of the listing kept with each row: the list questions' (`query`, `who-changed`, ...)."""
STORED_COLUMNS: tuple[tuple[str, str], ...] = (
    *((name, kind) for name, kind, _ in COLUMNS if name != "raw"),
    ("dedup_key", "VARCHAR"),
    ("micros", "BIGINT"),
    ("listing", "VARCHAR"),
    ("no_identity", "BOOLEAN"),
    ("file_bit", "SMALLINT"),
)
"""A kept row: the `events` columns the filters' SQL reads (all but the whole record, which none reads), the
scan's sort key, the listing's row, and the file's place in its block (`file_bit`)."""
_LISTED = Columns(LISTING)
_BATCH = 4096


class StoredRow(NamedTuple):
    """The scanner's row mapper for the rows the cache keeps of the file at FILE_BIT in its block: one
    `STORED_COLUMNS` row per record."""

    file_bit: int

    def __call__(self, record: dict[str, Any], row: EventRow) -> Iterable[dict[str, Any]]:
        (listed,) = _LISTED(record, row)
        stored = {name: value for name, value in row.full().items() if name != "raw"}
        stored["dedup_key"] = dedup_key(record, row.text)
        stored["micros"] = row.micros
        stored["listing"] = orjson.dumps(listed, option=orjson.OPT_NON_STR_KEYS).decode()
        stored["no_identity"] = not isinstance(record.get("userIdentity"), dict)
        stored["file_bit"] = self.file_bit
        return (stored,)


class KeptRows(NamedTuple):
    """The cache's copy of a question's files' rows, written for DuckDB to read."""

    parts: list[tuple[Path, tuple[int, ...] | None]]
    """Parquet files of `STORED_COLUMNS` rows, one per block (none for a block without rows), each with the
    places in the block (`file_bit`) of the files to answer from it; None: every file it holds."""
    records: int
    """The files' records with the required fields, as a scan counts them."""
    bad_record_files: Counter[str]
    """Records without the required fields, by file."""


MIN_BYTES = 1 << 20
"""The files a question reads must hold this much (compressed, as listed) for their kept rows to answer:
starting DuckDB costs about a quarter of a second, the time a scan takes for a megabyte of gzip, so a
selective question that reads a few files reads them (and never loads DuckDB)."""


def answers(question: Question | None, read: Sequence[LogFile]) -> bool:
    """Whether this module should answer QUESTION, reading the files READ: a list with the listing the cache
    keeps (no other SQL), over files worth the start of DuckDB."""
    return question is not None and question.listing == LISTING and sum(f.size for f in read) >= MIN_BYTES


SORT_BYTES = 1 << 30
"""The most row text a question sorts from the kept rows: DuckDB sorts within its memory limit, spilling, and
sorted 0.5 GB in the benchmark (1 M events, a third of them kept) but ran out of memory on 1.9 GB. Above
it, the files are scanned (their sorted runs are on disk)."""


def answer(
    connect: Callable[[], Any],
    question: Question,
    read: int,
    kept: KeptRows,
    report: ScanReport,
    scratch: tempfile.TemporaryDirectory[str],
) -> Iterator[dict[str, Any]] | None:
    """QUESTION's rows from KEPT, the rows of the READ files, queried on a DuckDB connection from CONNECT;
    REPORT counts what a scan of them would have. The connection and the scratch folder go when the rows do.
    None if DuckDB cannot run the query (out of memory or scratch space, say) or the rows to sort are more
    than SORT_BYTES: the files are then scanned."""
    import duckdb

    con = None
    try:
        con = connect()
        source = f"({_source(kept.parts)}) AS events WHERE {where_sql(question.filters)}"
        # As a scan counts them: every matching row, repeats and rows without an identity too, however many
        # the answer shows (`--limit`, or a reader that stops).
        with as_stops(con):
            counted = con.execute(
                "SELECT count(*), count(*) FILTER (no_identity), coalesce(sum(strlen(listing)), 0) "
                f"FROM {source}"
            ).fetchone()
        if counted[2] > SORT_BYTES:
            con.close()
            return None
        with as_stops(con):
            cur = con.execute(
                f"SELECT listing, dedup_key FROM {source} "
                # the scan's sort key (`listing.Order`): oldest first, then the event id (none last), copies
                "ORDER BY micros, event_id IS NULL, coalesce(event_id, ''), dedup_key, source_file"
            )
    except BaseException as exc:
        if con is not None:
            con.close()
        if isinstance(exc, duckdb.Error):
            return None
        scratch.cleanup()
        with as_stops():  # the error again, as the stop it may stand for
            raise
    report.files_read = report.files_cached = read
    report.records = kept.records
    report.bad_records = sum(kept.bad_record_files.values())
    report.bad_record_files.update(kept.bad_record_files)
    report.rows, report.records_without_identity = int(counted[0]), int(counted[1])
    rows = _rows(cur, con, scratch, report, question.limit)
    return with_tactics(rows) if question.tactics else rows


def _source(parts: Sequence[tuple[Path, tuple[int, ...] | None]]) -> str:
    """The rows of PARTS as one relation: the blocks read whole at once, the others cut to their files."""
    whole = [sql_str(str(path)) for path, bits in parts if bits is None]
    selects = [f"SELECT * FROM read_parquet([{', '.join(whole)}])"] if whole else []
    selects += [
        f"SELECT * FROM read_parquet({sql_str(str(path))}) WHERE file_bit IN ({', '.join(map(str, bits))})"
        for path, bits in parts
        if bits is not None
    ]
    return " UNION ALL ".join(selects) or _EMPTY


_EMPTY = "SELECT " + ", ".join(f"NULL::{k} AS {name}" for name, k in STORED_COLUMNS) + " LIMIT 0"


def _fetch(cur: Any, error: type[Exception]) -> list[Any]:
    try:
        with as_stops(cur):
            return list(cur.fetchmany(_BATCH))
    except error as exc:  # once rows were written, the answer cannot be finished
        raise CannotRunError(
            "the answer could not be read to its end from the cache's copy of the events "
            f"({without_traceback(str(exc))}): ask "
            "again with --no-cache, or free memory or scratch space (TMPDIR)."
        ) from None


def _rows(
    cur: Any, con: Any, scratch: tempfile.TemporaryDirectory[str], report: ScanReport, limit: int | None
) -> Iterator[dict[str, Any]]:
    """The rows as `listing.merged` gives a scan's: each event once (repeats counted), at most LIMIT."""
    import duckdb

    previous = None
    shown = 0
    try:
        while batch := _fetch(cur, duckdb.Error):
            for listed, key in batch:
                if key == previous:
                    report.duplicates += 1
                    continue
                previous = key
                yield orjson.loads(listed)
                shown += 1
                if limit and shown >= limit:
                    return
    finally:
        with contextlib.suppress(Exception):
            con.close()
        scratch.cleanup()
