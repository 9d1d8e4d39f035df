"""The Athena engine: the same questions over the Glue table of the trail's bucket (start, poll, fetch).

The SQL comes from `queries.athena`; this module only runs it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from ..errors import UserError
from ..queries import questions as q
from ..queries.athena import question_sql, raw_sql
from ..queries.filters import Filter
from ..queries.glue_table import DEFAULT_DATABASE, DEFAULT_TABLE, DEFAULT_WORKGROUP
from ..times import iso_time
from ..window import Window
from .answer import Answer


def _cell_value(kind: str, cell: dict[str, Any]) -> Any:
    if "VarCharValue" not in cell:
        return None
    text = cell["VarCharValue"]
    if kind in ("tinyint", "smallint", "integer", "bigint"):
        return int(text)
    if kind in ("double", "float", "real", "decimal"):
        return float(text)
    if kind == "boolean":
        return text == "true"
    if kind.startswith("timestamp"):
        return iso_time(text)
    return text


def run_query(
    sql: str,
    *,
    database: str = DEFAULT_DATABASE,
    workgroup: str = DEFAULT_WORKGROUP,
    client: Any = None,
    timeout: float = 600.0,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[list[str], list[dict[str, Any]]]:
    """Run SQL on Athena and return (columns, rows), typed by the result metadata."""
    if client is None:
        import boto3  # type: ignore[import-untyped]

        client = boto3.client("athena")
    qid = client.start_query_execution(
        QueryString=sql, QueryExecutionContext={"Database": database}, WorkGroup=workgroup
    )["QueryExecutionId"]
    deadline = time.monotonic() + timeout
    delay = 0.25
    while True:
        status = client.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]
        state = status["State"]
        if state == "SUCCEEDED":
            break
        if state in ("FAILED", "CANCELLED"):
            reason = status.get("StateChangeReason", "no reason given")
            raise UserError(f"Athena query {qid} {state.lower()}: {reason}")
        if time.monotonic() > deadline:
            client.stop_query_execution(QueryExecutionId=qid)
            raise UserError(f"Athena query {qid} still {state.lower()} after {timeout:.0f}s; stopped it.")
        sleep(delay)
        delay = min(delay * 2, 5.0)
    columns: list[str] = []
    kinds: list[str] = []
    rows: list[dict[str, Any]] = []
    first = True
    for page in client.get_paginator("get_query_results").paginate(QueryExecutionId=qid):
        info = page["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]
        if not columns:
            columns = [c["Name"] for c in info]
            kinds = [c["Type"].lower() for c in info]
        data = page["ResultSet"]["Rows"]
        if first:  # the first row of a SELECT's results repeats the column names
            data = data[1:]
            first = False
        rows.extend(
            {c: _cell_value(k, cell) for c, k, cell in zip(columns, kinds, r["Data"], strict=True)}
            for r in data
        )
    return columns, rows


def answer(
    question: q.Question | None,
    window: Window,
    *,
    sql: str | None = None,
    row_filters: Sequence[Filter] = (),
    database: str = DEFAULT_DATABASE,
    table: str = DEFAULT_TABLE,
    workgroup: str = DEFAULT_WORKGROUP,
    client: Any = None,
) -> Answer:
    """Answer a question (or raw SQL over `events`) on Athena; same rows as the local engine."""
    if question is not None:
        text = question_sql(question, window, table)
    else:
        text = raw_sql(sql or "SELECT * FROM events", window, row_filters, table)
    columns, rows = run_query(text, database=database, workgroup=workgroup, client=client)
    return Answer(columns, rows)
