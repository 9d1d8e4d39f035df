"""The local engine: scan a folder or s3:// prefix, then answer with DuckDB over the `events` view.

DuckDB runs in a sandbox, because `--sql` may come from a pasted runbook: once the view is built it may read
only the scan's own scratch folder, load no extension, change no setting, and only one read-only SELECT runs.
Results stream from DuckDB in batches of a bounded size, so an answer of any length, and of rows of any
width, is written in bounded memory.
"""

from __future__ import annotations

import contextlib
import re
import tempfile
import threading
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import orjson

from ..errors import CannotRunError, UserError, without_traceback
from ..queries.events_view import COLUMNS
from ..queries.filters import Filter, sql_str, window_filters
from ..queries.questions import Question
from ..stops import as_stops
from ..times import iso_time
from ..window import Window
from . import warm
from .answer import Answer
from .listing import Columns, Order, merged, merged_texts
from .scanner import MAX_ROW_BYTES, Progress, ScanPlan, ScanReport, scan
from .sources import FileIndex, FileLookup, LogFile, list_log_files

# Trino names the shared SQL may use that DuckDB spells otherwise (a user's --sql may use them too).
_MACROS = ("CREATE MACRO array_join(l, sep) AS array_to_string(l, sep)",)
_TIME_COLUMNS = frozenset({"event_time", "first_seen", "last_seen"})
JSON_COLUMNS = frozenset({"raw", "resources", "request_parameters", "response_elements"})
"""Columns holding a JSON document: an answer gives them as JSON values, not as escaped text."""
MEMORY_LIMIT = "600MB"
"""DuckDB's own ceiling; larger intermediate results spill to the scratch folder. Sorting two million wide
event rows on two threads needs about this much even when spilling (512MB failed); with the scanner's own
memory the whole process stays under 1 GiB (bench/memory.py)."""
QUERY_SECONDS = 600
"""How long one answer may take, its query run and its rows read, before it is stopped: a pasted query must
not hang a responder's shell."""
_BATCH = 2048
"""Rows at most in one batch read from DuckDB (its own vectors' size)."""
_BATCH_BYTES = 4 << 20
"""The text a batch may hold: a row of a query may be of any size (a record with a 400 KB request,
`repeat('x', 1000000)`), and 2,048 such rows made a batch of gigabytes. 2,048 rows of the `events` view
take about this much: a batch of 16 MiB of wide rows added 90 MB to the process's peak."""
_PART = 64
"""Rows at most fetched at once within a batch (fewer as the widest row seen so far allows): a batch ends once
it holds _BATCH_BYTES, so it may exceed it by one part, 64 rows. The watch of a stop (`as_stops`) costs a
thread, so it is set once a batch, not once a part."""
_Row = TypeVar("_Row")


def _duckdb(scratch: Path) -> Any:
    """A DuckDB connection within the engine's bounds, spilling into SCRATCH."""
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    con.execute(f"SET temp_directory = {sql_str(str(scratch / 'spill'))}")
    con.execute("SET threads = 2")
    # Instants in UTC, as everywhere in the toolkit, whatever the machine's zone: `event_time` (UTC, without a
    # zone) compared with now() or cast to TIMESTAMPTZ is not taken as local time, and a TIMESTAMPTZ comes to
    # Python in UTC, which has no summer time for pytz to get wrong past 2038.
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET preserve_insertion_order = false")  # lets more operators stream; ORDER BY still orders
    for macro in _MACROS:
        con.execute(macro)
    return con


def _connect(files: Sequence[Path], scratch: Path) -> Any:
    con = _duckdb(scratch)
    columns = [*((name, kind) for name, kind, _ in COLUMNS), ("dedup_key", "VARCHAR")]
    if files:
        cols = ", ".join(f"'{name}': '{kind}'" for name, kind in columns)
        paths = ", ".join(sql_str(str(p)) for p in files)
        con.execute(
            f"CREATE VIEW scanned AS SELECT * FROM read_json([{paths}], columns={{{cols}}}, "
            f"format='newline_delimited', maximum_object_size={2 * MAX_ROW_BYTES})"
        )
    else:
        con.execute(f"CREATE TABLE scanned ({', '.join(f'{n} {k}' for n, k in columns)})")
    return con


def _events_view(con: Any) -> int:
    """Create `events` over the scanned rows, each event once; how many repeated deliveries were dropped."""
    total, distinct = con.execute("SELECT count(*), count(DISTINCT dedup_key) FROM scanned").fetchone()
    duplicates = int(total) - int(distinct)
    once = "QUALIFY row_number() OVER (PARTITION BY dedup_key ORDER BY source_file) = 1"
    once = once if duplicates else ""
    con.execute(f"CREATE VIEW events AS SELECT * EXCLUDE (dedup_key) FROM scanned {once}")
    return duplicates


def _sandbox(con: Any, scratch: Path) -> None:
    """From here on, SQL reads only the scratch folder, loads nothing, and cannot change these settings."""
    con.execute(f"SET allowed_directories = [{sql_str(str(scratch) + '/')}]")
    con.execute("SET enable_external_access = false")
    con.execute("SET autoinstall_known_extensions = false")
    con.execute("SET autoload_known_extensions = false")
    con.execute("SET lock_configuration = true")


_POINTER = re.compile(r"\n\nLINE (\d+): (.*)\n( *\^+)\Z")
"""The end of DuckDB's error about a place in the query: the query's line there, and a caret under it."""


def rejected(exc: Exception, sql: str, flag: str) -> UserError:
    """DuckDB's error about SQL: its message as one line (a conversion error quotes the value it could not
    convert, a value of the logs, line breaks and all), then DuckDB's pointer into the query on lines of
    its own, only when the line it quotes is one of SQL's: a value can spell a pointer, not the query."""
    text = without_traceback(str(exc)).strip()
    pointer = _POINTER.search(text)
    if pointer:
        number, quoted = int(pointer[1]), pointer[2]
        lines = sql.split("\n")  # DuckDB counts lines at each line feed
        if 0 < number <= len(lines) and quoted.removeprefix("...").removesuffix("...") in lines[number - 1]:
            message = f"{flag}: DuckDB rejected the query: {text[: pointer.start()]}"
            return UserError(message, "", f"LINE {number}: {quoted}", pointer[3])
    return UserError(f"{flag}: DuckDB rejected the query: {text}")


def check_select(sql: str, flag: str = "--sql") -> None:
    """SQL must be one read-only SELECT (WITH ... SELECT, FROM ..., VALUES): UserError otherwise."""
    import duckdb

    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise rejected(exc, sql, flag) from None
    kinds = [s.type.name for s in statements]
    if kinds != ["SELECT"]:
        what = "no statement" if not kinds else ", ".join(k for k in kinds)
        raise UserError(
            f"{flag}: runs one read-only SELECT (or WITH ... SELECT) over the `events` view; this is "
            f"{what}. Statements that write, attach, load or configure are refused."
        )


def _convert(columns: list[str], kinds: list[str], row: tuple[Any, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for c, kind, v in zip(columns, kinds, row, strict=True):
        if isinstance(v, datetime) or (c in _TIME_COLUMNS and v is not None):
            v = iso_time(v)
        elif isinstance(v, str) and (kind == "JSON" or c in JSON_COLUMNS):
            with contextlib.suppress(orjson.JSONDecodeError):  # a user's text column named like ours
                v = orjson.loads(v)
        out[c] = v
    return out


def _size(value: Any) -> int:
    """About how many bytes VALUE (a row, or a value in one) holds: its text, nested values summed. Types as
    DuckDB gives them, compared exactly: this runs for every row."""
    kind = type(value)
    if kind is str or kind is bytes:
        return len(value)
    if kind is tuple or kind is list:
        return sum(map(_size, value)) + 8 * len(value)
    if kind is dict:
        return sum(_size(k) + _size(v) for k, v in value.items())
    return 8


class _Batches:
    """The rows of an executed query in batches of at most _BATCH rows and about _BATCH_BYTES."""

    def __init__(self, cur: Any) -> None:
        self.cur = cur
        self.part = 1  # nothing is known yet of how large a row is
        self.largest = 8

    def next(self) -> list[Any]:
        """The next batch; empty at the end."""
        batch: list[Any] = []
        held = 0
        with as_stops(self.cur):
            while len(batch) < _BATCH and held < _BATCH_BYTES:
                rows = self.cur.fetchmany(min(self.part, _BATCH - len(batch)))
                if not rows:
                    break
                sizes = list(map(_size, rows))
                held += sum(sizes)
                self.largest = max(self.largest, *sizes)
                self.part = max(1, min(_PART, _BATCH_BYTES // self.largest))
                batch += rows
        return batch


def _resources_error(exc: Exception, flag: str) -> CannotRunError | None:
    """DuckDB running out of scratch disk or memory: the machine's limit, not the query's fault."""
    text = str(exc)
    if "No space left" in text or ("disk" in text.lower() and "full" in text.lower()):
        return CannotRunError(
            f"{flag}: no space left for DuckDB's scratch files: free disk space, or point TMPDIR at a larger "
            "disk, or narrow the window."
        )
    if "Out of Memory" in text:
        return CannotRunError(
            f"{flag}: the answer needs more than DuckDB's {MEMORY_LIMIT} even with spilling to disk: narrow "
            "the window or the query."
        )
    return None


def _interrupt(con: Any) -> None:
    with contextlib.suppress(Exception):  # the query and its connection may have ended meanwhile
        con.interrupt()


class _Deadline:
    """QUERY_SECONDS for one answer, from the start of its query to its last row: then DuckDB is interrupted,
    whether it is running the query or making the next batch of rows. The rows are the costly part of a
    query that never ends (`SELECT * FROM range(10^12)` starts at once), and a consumer between two batches
    (a pipe, a table counting the rest) is inside the answer's time too: the next batch is refused."""

    def __init__(self, con: Any, flag: str) -> None:
        self.flag = flag
        self._timer = threading.Timer(QUERY_SECONDS, _interrupt, (con,))
        # never what holds a stopping command's exit, if a second signal skips `cancel`
        self._timer.daemon = True
        self._timer.start()

    def passed(self) -> CannotRunError:
        return CannotRunError(
            f"{self.flag}: stopped after {QUERY_SECONDS} s, the time one answer may take (running the query "
            "and reading its rows); rows already written are not the whole answer. Narrow the window "
            "(--since/--until, --region) or the query, or give --limit."
        )

    def cancel(self) -> None:
        self._timer.cancel()
        # Its thread holds the connection until it has run out: still running as the interpreter exits (a
        # stop exits at once), it kept the connection's objects alive, and DuckDB's binding printed "leaked
        # instance" lines for them.
        self._timer.join()


def _execute(con: Any, sql: str, flag: str) -> tuple[Any, _Deadline]:
    """SQL run on CON: its cursor, and the deadline its rows are read within (the caller cancels it)."""
    import duckdb

    deadline = _Deadline(con, flag)
    try:
        try:
            with as_stops(con):
                return con.execute(sql), deadline
        except duckdb.InterruptException:
            raise deadline.passed() from None
        except duckdb.Error as exc:
            raise _resources_error(exc, flag) or rejected(exc, sql, flag) from None
    except BaseException:
        deadline.cancel()
        raise


def run_sql(con: Any, sql: str, *, flag: str = "--sql") -> tuple[list[str], list[dict[str, Any]]]:
    """Run SQL on CON and return every row (for small answers and tests; `answer` streams)."""
    cur, deadline = _execute(con, sql, flag)
    try:
        columns = [d[0] for d in cur.description or ()]
        kinds = [str(d[1]) for d in cur.description or ()]
        return columns, [_convert(columns, kinds, r) for r in cur.fetchall()]
    finally:
        deadline.cancel()


def _stream(
    cur: Any, columns: list[str], con: Any, deadline: _Deadline, scratch: tempfile.TemporaryDirectory[str]
) -> Iterator[dict[str, Any]]:
    """The rows of an executed query in batches, within its DEADLINE; the connection and scratch folder go
    when the rows do."""
    import duckdb

    kinds = [str(d[1]) for d in cur.description or ()]
    batches = _Batches(cur)
    try:
        while True:
            try:
                batch = batches.next()
            except duckdb.InterruptException:
                raise deadline.passed() from None
            except duckdb.Error as exc:
                raise _resources_error(exc, "the answer") or CannotRunError(
                    f"the answer could not be read to its end: {without_traceback(str(exc))}"
                ) from None
            if not batch:
                break
            for row in batch:
                yield _convert(columns, kinds, row)
    finally:
        deadline.cancel()
        con.close()
        scratch.cleanup()


def answer(
    source: str,
    question: Question | None,
    window: Window,
    *,
    sql: str | None = None,
    row_filters: Sequence[Filter] = (),
    workers: int | None = None,
    progress: Progress | None = None,
    index: FileIndex | None = None,
    files: Sequence[LogFile] | None = None,
) -> Answer:
    """Answer QUESTION (or the raw SQL over `events`) from the logs of SOURCE within WINDOW.

    For raw SQL, ROW_FILTERS decide which records make up the `events` view. The rows stream: read them
    once. INDEX: the term index, to skip the files it proves hold no match (the answer lists the files it
    does not know, for building it later). FILES: SOURCE's files in WINDOW when the caller listed them
    already (a command asking several questions lists once).
    """
    if question is None:
        sql = "SELECT * FROM events" if sql is None else sql
        check_select(sql)
    files = list(files) if files is not None else list_log_files(source, window)
    lookup = index.look_up(files) if index is not None else None
    base = window_filters(window)
    if question is not None:
        question = question.with_filters(*base)
        plan = ScanPlan(question.filters)
        if question.listing is not None:
            # Indented: each row's text is what a JSON answer writes for it (`Answer.texts`)
            mapper = Columns(question.listing, question.tactics)
            plan = replace(plan, mapper=mapper, order=Order(), limit=question.limit, indented=True)
    else:
        plan = ScanPlan((*base, *row_filters))
    skip = lookup.cannot_match(plan.needle_groups()) if lookup is not None else frozenset()
    scratch = tempfile.TemporaryDirectory(prefix="audit-trail-")
    read = [f for f in files if not f.problem and f.location not in skip] if lookup is not None else []
    if question is not None and lookup is not None and warm.answers(question, read):
        try:
            kept = _warm(question, files, read, lookup, skip, scratch)
        except BaseException:
            scratch.cleanup()
            raise
        if kept is not None:
            return Answer(_listed(question), kept[0], kept[1], index=index)
    texts = None
    try:
        report, written = scan(files, plan, Path(scratch.name), workers=workers, progress=progress, skip=skip)
        if question is not None and question.listing is not None:
            columns = _listed(question)
            # two readings of one stream: a caller reads one of them, which removes the scratch folder
            rows = _cleaned(merged(written, Path(scratch.name), question.limit, report), scratch)
            texts = _cleaned(merged_texts(written, Path(scratch.name), question.limit, report), scratch)
        else:
            cur, deadline, con = _run(written, report, Path(scratch.name), question, sql)
            columns = [d[0] for d in cur.description or ()]
            rows = _stream(cur, columns, con, deadline, scratch)
    except BaseException:
        scratch.cleanup()
        raise
    unindexed = lookup.unindexed() if lookup is not None else []
    return Answer(columns, rows, report, unindexed=unindexed, index=index, texts=texts)


def _listed(question: Question) -> list[str]:
    """The columns of a list question's rows."""
    return [*(question.listing or ()), *(["tactics"] if question.tactics else [])]


def _warm(
    question: Question,
    files: Sequence[LogFile],
    read: Sequence[LogFile],
    lookup: FileLookup,
    skip: frozenset[str],
    scratch: tempfile.TemporaryDirectory[str],
) -> tuple[Iterator[dict[str, Any]], ScanReport] | None:
    """QUESTION answered from the rows the cache keeps of FILES (`warm`), when it keeps those of every file
    to READ (the others it rules out, SKIP, or cannot be read); None otherwise."""
    kept = lookup.kept_rows(read, Path(scratch.name))
    if kept is None:
        return None
    report = ScanReport.of_listing(files, skip)
    rows = warm.answer(lambda: _duckdb(Path(scratch.name)), question, len(read), kept, report, scratch)
    if rows is None:  # the files are scanned: their copies would only take the scan's disk
        for path, _ in kept.parts:
            path.unlink(missing_ok=True)
        return None
    return rows, report


def _cleaned(rows: Iterator[_Row], scratch: tempfile.TemporaryDirectory[str]) -> Iterator[_Row]:
    try:
        yield from rows
    finally:
        scratch.cleanup()


def _run(
    written: Sequence[Path], report: ScanReport, scratch: Path, question: Question | None, sql: str | None
) -> tuple[Any, _Deadline, Any]:
    # A stop while DuckDB opens the connection or sets it up (quick statements, not watched) comes out of
    # DuckDB as `Query interrupted`: it ended the command as an error (exit 1, a traceback), not as the stop.
    with as_stops():
        con = _connect(written, scratch)
        try:
            with as_stops(con):  # counting the repeats reads every row
                report.duplicates = _events_view(con)
            _sandbox(con, scratch)
            if question is not None:
                cur, deadline = _execute(con, "WITH " + question.sql(), question.name)
            else:
                cur, deadline = _execute(con, sql or "", "--sql")
        except BaseException:
            con.close()
            raise
    return cur, deadline, con
