"""The local engine: scan a folder or s3:// prefix, then answer with DuckDB over the `events` view."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from ..errors import UserError
from ..queries.events_view import COLUMNS
from ..queries.filters import Filter, sql_str, window_filters
from ..queries.questions import Question
from ..times import iso_time
from ..window import Window
from .answer import Answer
from .scanner import ScanPlan, scan
from .sources import list_log_files

# DuckDB lacks this Trino function the shared question SQL uses.
_MACROS = ("CREATE MACRO array_join(l, sep) AS array_to_string(l, sep)",)
_TIME_COLUMNS = frozenset({"event_time", "first_seen", "last_seen"})


def _connect(files: Sequence[Path], scratch: Path) -> Any:
    import duckdb

    con = duckdb.connect()
    # Bounded memory: larger intermediate results spill to the scratch folder instead of growing the process.
    con.execute("SET memory_limit = '512MB'")
    con.execute(f"SET temp_directory = {sql_str(str(scratch / 'spill'))}")
    con.execute("SET threads = 2")
    for macro in _MACROS:
        con.execute(macro)
    if files:
        cols = ", ".join(f"'{name}': '{kind}'" for name, kind, _ in COLUMNS)
        paths = ", ".join(sql_str(str(p)) for p in files)
        con.execute(
            f"CREATE VIEW events AS SELECT * FROM read_json([{paths}], columns={{{cols}}}, "
            "format='newline_delimited')"
        )
    else:
        con.execute(f"CREATE TABLE events ({', '.join(f'{n} {k}' for n, k, _ in COLUMNS)})")
    return con


def run_sql(con: Any, sql: str, *, flag: str = "--sql") -> tuple[list[str], list[dict[str, Any]]]:
    import duckdb

    try:
        cur = con.execute(sql)
    except duckdb.Error as exc:
        raise UserError(f"{flag}: DuckDB rejected the query: {exc}".strip()) from None
    columns = [d[0] for d in cur.description or ()]
    rows = [
        {
            c: (iso_time(v) if c in _TIME_COLUMNS or isinstance(v, datetime) else v)
            for c, v in zip(columns, r, strict=True)
        }
        for r in cur.fetchall()
    ]
    return columns, rows


def answer(
    source: str,
    question: Question | None,
    window: Window,
    *,
    sql: str | None = None,
    row_filters: Sequence[Filter] = (),
    workers: int | None = None,
) -> Answer:
    """Answer QUESTION (or the raw SQL over `events`) from the logs of SOURCE within WINDOW.

    For raw SQL, ROW_FILTERS decide which records make up the `events` view.
    """
    files = list_log_files(source, window)
    base = window_filters(window)
    if question is not None:
        question = question.with_filters(*base)
        plan = ScanPlan(question.filters)
    else:
        plan = ScanPlan((*base, *row_filters))
    with tempfile.TemporaryDirectory(prefix="audit-trail-") as scratch:
        report, written = scan(files, plan, Path(scratch), workers=workers)
        con = _connect(written, Path(scratch))
        try:
            if question is not None:
                columns, rows = run_sql(con, "WITH " + question.sql(), flag=question.name)
            else:
                columns, rows = run_sql(con, sql or "SELECT * FROM events")
        finally:
            con.close()
    return Answer(columns, rows, report)
