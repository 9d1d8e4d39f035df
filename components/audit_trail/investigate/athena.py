"""The Athena engine: the same questions over the Glue table of the trail's bucket (start, poll, fetch).

The SQL comes from `queries.athena`; this module only runs it.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import orjson

from ..attack_tactics import with_tactics
from ..aws_errors import explain, is_aws_error
from ..errors import CannotRunError
from ..queries import questions as q
from ..queries.athena import question_sql, raw_sql
from ..queries.filters import Filter
from ..queries.glue_table import DEFAULT_DATABASE, DEFAULT_TABLE, DEFAULT_WORKGROUP
from ..times import iso_time
from ..window import Window
from .answer import Answer
from .local import JSON_COLUMNS


def _cell_value(column: str, kind: str, cell: dict[str, Any]) -> Any:
    if "VarCharValue" not in cell:
        return None
    text = cell["VarCharValue"]
    if kind == "json" or column in JSON_COLUMNS:
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            return text
    if kind in ("tinyint", "smallint", "integer", "bigint"):
        return int(text)
    if kind in ("double", "float", "real", "decimal"):
        return float(text)
    if kind.startswith("array"):  # Trino prints an array as `[a, b]`: the questions' lists hold no ", "
        inner = text[1:-1] if text.startswith("[") and text.endswith("]") else text
        return inner.split(", ") if inner else []
    if kind == "boolean":
        return text == "true"
    if kind.startswith("timestamp"):
        return iso_time(text)
    return text


Progress = Callable[[str], None]
"""Told how a running query is doing, in a line a person reads."""


def _client_region(client: Any) -> str | None:
    return getattr(getattr(client, "meta", None), "region_name", None)


def _start(client: Any, sql: str, database: str, workgroup: str) -> str:
    try:
        qid: str = client.start_query_execution(
            QueryString=sql, QueryExecutionContext={"Database": database}, WorkGroup=workgroup
        )["QueryExecutionId"]
    except Exception as exc:
        if not is_aws_error(exc):
            raise
        message = str(getattr(exc, "response", {}).get("Error", {}).get("Message", ""))
        if "orkgroup" in message or "WorkGroup" in message:
            raise CannotRunError(
                f"Athena workgroup {workgroup!r} in {_client_region(client)}: {message}. Deploy the "
                "stack with `audit-trail:athena true`, then pass --stack STACK (its outputs name the "
                "workgroup, database and table) or --workgroup, and the stack's region (AWS_REGION)."
            ) from None
        raise explain(
            exc,
            action="starting an Athena query in workgroup",
            resource=workgroup,
            region=_client_region(client),
            need="athena:StartQueryExecution, glue:GetTable, and s3 access to the logs and results buckets",
        ) from None
    return qid


def _failed(qid: str, state: str, reason: str, database: str) -> CannotRunError:
    hint = ""
    if "does not exist" in reason or "not found" in reason.lower():
        hint = (
            f" The database or table is missing: pass --database / --table (now {database!r}), or --stack "
            "STACK to read them from the stack's outputs."
        )
    return CannotRunError(f"Athena query {qid} {state.lower()}: {reason}.{hint}")


def query_rows(
    sql: str,
    *,
    database: str = DEFAULT_DATABASE,
    workgroup: str = DEFAULT_WORKGROUP,
    client: Any = None,
    timeout: float = 600.0,
    sleep: Callable[[float], None] = time.sleep,
    progress: Progress | None = None,
) -> tuple[list[str], Iterator[dict[str, Any]]]:
    """Run SQL on Athena: its columns, and its rows (typed by the result metadata) page by page."""
    if client is None:
        import boto3  # type: ignore[import-untyped]

        client = boto3.client("athena")
    qid = _start(client, sql, database, workgroup)
    deadline = time.monotonic() + timeout
    delay = 0.25
    while True:
        try:
            execution = client.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
        except Exception as exc:
            if not is_aws_error(exc):
                raise
            region = _client_region(client)
            raise explain(exc, action="reading Athena query", resource=qid, region=region) from None
        status = execution["Status"]
        state = status["State"]
        if progress is not None:
            scanned = int(execution.get("Statistics", {}).get("DataScannedInBytes") or 0)
            progress(f"Athena query {qid}: {state.lower()}, {scanned / 1e6:.1f} MB scanned")
        if state == "SUCCEEDED":
            break
        if state in ("FAILED", "CANCELLED"):
            raise _failed(qid, state, status.get("StateChangeReason", "no reason given"), database)
        if time.monotonic() > deadline:
            client.stop_query_execution(QueryExecutionId=qid)
            raise CannotRunError(
                f"Athena query {qid} still {state.lower()} after {timeout:.0f}s; stopped it. Narrow the "
                "window."
            )
        sleep(delay)
        delay = min(delay * 2, 5.0)
    pages = iter(client.get_paginator("get_query_results").paginate(QueryExecutionId=qid))
    first = next(pages, None)
    info = first["ResultSet"]["ResultSetMetadata"]["ColumnInfo"] if first else []
    columns = [c["Name"] for c in info]
    kinds = [c["Type"].lower() for c in info]

    def rows() -> Iterator[dict[str, Any]]:
        if first is None:
            return
        # The first row of a SELECT's results repeats the column names.
        batches = itertools.chain([first["ResultSet"]["Rows"][1:]], (p["ResultSet"]["Rows"] for p in pages))
        for batch in batches:
            for r in batch:
                cells = zip(columns, kinds, r["Data"], strict=True)
                yield {c: _cell_value(c, k, cell) for c, k, cell in cells}

    return columns, rows()


def run_query(sql: str, **kw: Any) -> tuple[list[str], list[dict[str, Any]]]:
    """`query_rows`, every row in a list."""
    columns, rows = query_rows(sql, **kw)
    return columns, list(rows)


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
    progress: Progress | None = None,
) -> Answer:
    """Answer a question (or raw SQL over `events`) on Athena; same rows as the local engine."""
    if question is not None:
        text = question_sql(question, window, table)
    else:
        text = raw_sql(sql or "SELECT * FROM events", window, row_filters, table)
    columns, rows = query_rows(text, database=database, workgroup=workgroup, client=client, progress=progress)
    if question is not None and question.tactics:
        return Answer([*columns, "tactics"], with_tactics(rows))
    return Answer(columns, rows)
