"""One output layer for every command: a Rich table, JSON or CSV from the same rows."""

from __future__ import annotations

import csv
import sys
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Annotated, Any, TextIO

import orjson
import typer
from rich.console import Console
from rich.table import Table


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


FormatOption = Annotated[
    OutputFormat,
    typer.Option("--format", "-f", help="Output format: a readable table, JSON (a list of rows) or CSV."),
]

stderr = Console(stderr=True)

_CONTROL = {c: f"\\x{c:02x}" for c in (*range(0x20), 0x7F, *range(0x80, 0xA0))}


def visible(text: str, *, keep_newlines: bool = False) -> str:
    """TEXT with every control character shown as an escape (`\\x1b`), so none can act on a terminal."""
    table = {k: v for k, v in _CONTROL.items() if not (keep_newlines and k == 0x0A)}
    return text.translate(table)


def show_error(message: str) -> None:
    """`Error: MESSAGE` on stderr, as plain text (no markup, no wrapping: a pipe or log keeps it whole)."""
    sys.stderr.write(f"Error: {visible(message, keep_newlines=True)}\n")
    sys.stderr.flush()


def _cell(value: Any) -> str:
    """Flatten a value for a table cell or a CSV field: nested values stay machine-readable JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, (list, dict)):
        return orjson.dumps(value).decode()
    return str(value)


def to_json(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS, default=str).decode()


def render(
    rows: Sequence[Mapping[str, Any]],
    fmt: OutputFormat = OutputFormat.table,
    *,
    columns: Sequence[str] | None = None,
    title: str | None = None,
    out: TextIO | None = None,
) -> None:
    """Write rows in the chosen format; columns default to the keys of the first row, in order."""
    out = out or sys.stdout
    cols = list(columns) if columns is not None else (list(rows[0].keys()) if rows else [])
    if fmt is OutputFormat.json:
        out.write(to_json([{c: row.get(c) for c in cols} for row in rows]) + "\n")
    elif fmt is OutputFormat.csv:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(cols)
        for row in rows:
            writer.writerow([_cell(row.get(c)) for c in cols])
    else:
        table = Table(title=title, show_lines=False, header_style="bold")
        for c in cols:
            table.add_column(c, overflow="fold")
        for row in rows:
            table.add_row(*(_cell(row.get(c)) for c in cols))
        Console(file=out, width=None if out is sys.stdout else 200).print(table)
