"""The local engine: scan a folder or s3:// prefix, then answer with DuckDB over the `events` view.

DuckDB runs in a sandbox, because `--sql` may come from a pasted runbook: once the view is built it may read
only the scan's own scratch folder, load no extension, change no setting, and only one read-only SELECT runs.
Results stream from DuckDB in batches, so an answer of any size is written in bounded memory.
"""

from __future__ import annotations

import contextlib
import tempfile
import threading
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import orjson

from ..errors import CannotRunError, UserError
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
"""How long one query may run before it is stopped: a pasted query must not hang a responder's shell."""
_BATCH = 2048
_Row = TypeVar("_Row")


def _duckdb(scratch: Path) -> Any:
    """A DuckDB connection within the engine's bounds, spilling into SCRATCH."""
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    con.execute(f"SET temp_directory = {sql_str(str(scratch / 'spill'))}")
    con.execute("SET threads = 2")
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


def check_select(sql: str, flag: str = "--sql") -> None:
    """SQL must be one read-only SELECT (WITH ... SELECT, FROM ..., VALUES): UserError otherwise."""
    import duckdb

    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise UserError(f"{flag}: DuckDB rejected the query: {exc}".strip()) from None
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


def _execute(con: Any, sql: str, flag: str) -> Any:
    import duckdb

    timer = threading.Timer(QUERY_SECONDS, _interrupt, (con,))
    timer.daemon = True  # never what holds a stopping command's exit, if a second signal skips `cancel`
    timer.start()
    try:
        with as_stops(con):
            return con.execute(sql)
    except duckdb.InterruptException:
        raise CannotRunError(
            f"{flag}: stopped after {QUERY_SECONDS} s. Narrow the window (--since/--until, --region) or the "
            "query."
        ) from None
    except duckdb.Error as exc:
        raise _resources_error(exc, flag) or UserError(
            f"{flag}: DuckDB rejected the query: {exc}".strip()
        ) from None
    finally:
        timer.cancel()
        # Its thread holds the connection until it has run out: still running as the interpreter exits (a
        # stop exits at once), it kept the connection's objects alive, and DuckDB's binding printed "leaked
        # instance" lines for them.
        timer.join()


def run_sql(con: Any, sql: str, *, flag: str = "--sql") -> tuple[list[str], list[dict[str, Any]]]:
    """Run SQL on CON and return every row (for small answers and tests; `answer` streams)."""
    cur = _execute(con, sql, flag)
    columns = [d[0] for d in cur.description or ()]
    kinds = [str(d[1]) for d in cur.description or ()]
    return columns, [_convert(columns, kinds, r) for r in cur.fetchall()]


def _stream(
    cur: Any, columns: list[str], con: Any, scratch: tempfile.TemporaryDirectory[str]
) -> Iterator[dict[str, Any]]:
    """The rows of an executed query in batches; the connection and scratch folder go when the rows do."""
    import duckdb

    kinds = [str(d[1]) for d in cur.description or ()]
    try:
        while True:
            try:
                with as_stops(cur):
                    batch = cur.fetchmany(_BATCH)
            except duckdb.Error as exc:
                raise _resources_error(exc, "the answer") or CannotRunError(
                    f"the answer could not be read to its end: {exc}"
                ) from None
            if not batch:
                break
            for row in batch:
                yield _convert(columns, kinds, row)
    finally:
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
            cur, con = _run(written, report, Path(scratch.name), question, sql)
            columns = [d[0] for d in cur.description or ()]
            rows = _stream(cur, columns, con, scratch)
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
) -> tuple[Any, Any]:
    # A stop while DuckDB opens the connection or sets it up (quick statements, not watched) comes out of
    # DuckDB as `Query interrupted`: it ended the command as an error (exit 1, a traceback), not as the stop.
    with as_stops():
        con = _connect(written, scratch)
        try:
            with as_stops(con):  # counting the repeats reads every row
                report.duplicates = _events_view(con)
            _sandbox(con, scratch)
            if question is not None:
                cur = _execute(con, "WITH " + question.sql(), question.name)
            else:
                cur = _execute(con, sql or "", "--sql")
        except BaseException:
            con.close()
            raise
    return cur, con
