"""The cache's copy of a block's event rows: what `investigate.warm` answers a list of events from.

The build takes a file's rows from the bytes it took its terms from, with the scanner's own code
(`FileScan` with `warm.StoredRow`), so a kept row is the row a scan makes. A file is kept only when its rows
stand for it whole: a record the scan would skip as unreadable depends on the question (only a kept record is
made a row), so a file holding one is read by every question, as is any file whose terms were not taken. The
rows of a block are one Parquet file (DuckDB reads only the columns a question names), stored in the index's
database beside the block's segment, and checked before a question uses it (`index.TermIndex.rows_of`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..investigate.scanner import MAX_ROW_BYTES, FileScan, KeptLines, ScanPlan, ScanReport
from ..investigate.warm import STORED_COLUMNS, StoredRow
from ..queries.filters import sql_str
from ..stops import as_stops
from .index import FileCounts


def file_rows(location: str, data: bytes, bit: int) -> tuple[list[bytes], FileCounts] | None:
    """The stored rows (JSON lines) of the log file at LOCATION, the BIT-th of its block, whose inflated bytes
    are DATA, and its counts; None when its rows cannot stand for it."""
    report = ScanReport()
    out = KeptLines()
    FileScan(ScanPlan(mapper=StoredRow(bit)), out).data(location, data, report)
    if report.files_read != 1 or report.bad_files or report.digest_files or report.unreadable_records:
        return None
    return out.pending, (report.records, report.bad_records)


class BlockRows:
    """A block's rows, appended to a file in SCRATCH as its files are read (one file's rows in memory at a
    time), then encoded as Parquet. A row names its file by its place in the block (`file_bit`), not its
    location: a question may name the folder otherwise (relative, say), and is answered for its files as
    listed now."""

    def __init__(self, scratch: Path | None) -> None:
        """SCRATCH None: there is no folder to write in (a full disk), so the block keeps no rows."""
        self.lines = (scratch or Path()) / "rows.jsonl"
        self.rows = 0
        self.failed = scratch is None

    def add(self, lines: list[bytes]) -> None:
        if self.failed or not lines:
            return
        try:
            with open(self.lines, "ab") as fh:
                fh.write(b"\n".join(lines) + b"\n")
        except OSError:  # a full scratch disk: the block keeps its terms, not its rows
            self.failed = True
            return
        self.rows += len(lines)

    def encoded(self) -> bytes | None:
        """The rows added as Parquet (empty for none); None if they could not be written."""
        if self.failed:
            return None
        if not self.rows:
            return b""
        try:
            with as_stops():  # a stop is not a failure: it ends the build
                return _parquet(self.lines, self.lines.with_suffix(".parquet"))
        except Exception:  # a full disk, DuckDB out of memory: rows are an optimisation, terms hold
            return None


def _parquet(lines: Path, target: Path) -> bytes:
    import duckdb

    con: Any = duckdb.connect()
    try:
        con.execute("SET threads = 1")
        con.execute("SET preserve_insertion_order = false")
        columns = ", ".join(f"'{name}': '{kind}'" for name, kind in STORED_COLUMNS)
        con.execute(
            f"COPY (SELECT * FROM read_json({sql_str(str(lines))}, columns={{{columns}}}, "
            f"format='newline_delimited', maximum_object_size={2 * MAX_ROW_BYTES})) "
            f"TO {sql_str(str(target))} (FORMAT parquet, COMPRESSION zstd)"
        )
        return target.read_bytes()
    finally:
        con.close()
        target.unlink(missing_ok=True)
