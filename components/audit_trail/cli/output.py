"""One output layer for every command: a table, JSON or CSV from the same rows, safe for hostile text.

Values come from the logs, and the logs are written by whoever called AWS: a user agent, a resource name or
an error message can hold terminal escape codes, Rich markup or a spreadsheet formula. So:
- tables and CSV show every value as plain text with control and invisible characters made visible (`\\x1b`,
  `\\u202e`: `visible_text`); nothing is parsed as markup; CSV cells a spreadsheet would evaluate (`=`,
  `+`, `-`, `@`, tab, CR first) get a leading `'` (OWASP, "CSV Injection");
- JSON is exact, and inert: its own escaping covers the C0 controls, and the rest (DEL, C1, bidirectional
  overrides, zero-width characters) are written as `\\uXXXX` escapes, which give back the same value;
- identifiers (ARNs, keys, event ids, IPs, times) are never broken across lines: on a terminal only
  free-text columns wrap, and into a pipe or file a table is plain aligned text at full width;
- tables show at most `TABLE_ROWS` rows unless `--limit` says otherwise, and say how many there were;
  JSON and CSV are never capped unless `--limit` is given, and stream in bounded memory.
"""

from __future__ import annotations

import contextlib
import csv
import itertools
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, TextIO

import orjson
import typer

from .. import json_text
from ..visible_text import inert_json, json_bytes, visible

if TYPE_CHECKING:
    from rich.console import Console

TABLE_ROWS = 200
"""Rows a table shows by default: enough to read, few enough that an unfiltered question cannot flood a
terminal."""
LIST_ITEMS = 5
"""Items of a list shown in a table cell before `(+N more)`."""

# Columns of prose, which may wrap on a terminal; every other column holds identifiers and never wraps.
FREE_TEXT = frozenset(
    {
        "user_agent",
        "error_message",
        "detail",
        "fix",
        "title",
        "note",
        "message",
        "reason",
        "change",
        "actions",
    }
)


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


FormatOption = Annotated[
    OutputFormat,
    typer.Option(
        "--format",
        "-f",
        help="table (readable; at most 200 rows unless --limit), json (a list of rows, exact values) or csv "
        "(control characters shown as \\xNN, spreadsheet formulas neutralised with a leading ').",
    ),
]
MAX_LIMIT = 2**62
"""The largest --limit: more rows than any source holds, and within what Python's slicing takes."""
LimitOption = Annotated[
    int | None,
    typer.Option(
        "--limit",
        min=0,
        max=MAX_LIMIT,
        metavar="N",
        help=f"At most N rows (0: no limit). Default: {TABLE_ROWS} in a table, every row in JSON and CSV.",
        show_default=False,
    ),
]


def stderr_console() -> Console:
    """A Rich console on stderr, for progress bars only (text goes through `note`)."""
    from rich.console import Console

    return Console(stderr=True)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def show_error(first: str, *more: str) -> None:
    """`Error: FIRST` on stderr, then each of MORE on its own line, as plain text (no markup, no wrapping: a
    pipe or log keeps it whole). A line break within one is shown as `\\x0a`: the lines are the caller's."""
    sys.stderr.write("".join(f"{line}\n" for line in (f"Error: {visible(first)}", *map(visible, more))))
    sys.stderr.flush()


def note(message: str, *, style: str = "") -> None:
    """A line on stderr about the run (what was read, skipped, capped): plain text, coloured on a terminal."""
    text = visible(message)
    if style and _is_terminal(sys.stderr):
        from rich.console import Console
        from rich.text import Text

        Console(stderr=True, highlight=False, soft_wrap=True).print(Text(text, style=style))
    else:
        sys.stderr.write(text + "\n")
        sys.stderr.flush()


@contextlib.contextmanager
def progress_line() -> Iterator[Callable[[str], None] | None]:
    """A status line on stderr that long work updates (none when stderr is not a terminal: a pipe or log
    gets only the summary at the end). Text from the work is shown as plain text."""
    if not _is_terminal(sys.stderr):
        yield None
        return
    from rich.console import Console
    from rich.text import Text

    with Console(stderr=True, highlight=False).status("working") as status:
        yield lambda text: status.update(Text(visible(text)))


_JSON_OPTIONS = orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS


def to_json(value: Any) -> str:
    """VALUE as indented JSON, every character a terminal would act on or hide written as an escape: the
    same value (`visible_text.inert_json`)."""
    return inert_json(json_bytes(value, _JSON_OPTIONS)).decode()


def _text(value: Any) -> str:
    """A value as the text of a table cell or CSV field (nested values as compact JSON)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple, dict)):
        return json_text.dumps(value, option=orjson.OPT_NON_STR_KEYS, default=str).decode()
    return str(value)


def table_cell(value: Any) -> str:
    """A table cell: plain visible text; a long list shows its first items and how many more there are."""
    if isinstance(value, (list, tuple)) and all(not isinstance(v, (list, dict)) for v in value):
        shown = ", ".join(_text(v) for v in value[:LIST_ITEMS])
        more = len(value) - LIST_ITEMS
        return visible(shown + (f" (+{more} more)" if more > 0 else ""))
    return visible(_text(value))


def csv_cell(value: Any) -> Any:
    """A CSV field: numbers as they are; text visible, and never a formula a spreadsheet would run."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    text = visible(_text(value))
    return "'" + text if text.startswith(_FORMULA_START) else text


class Shown:
    """How many rows a render wrote, of how many it was given (MORE: of more than TOTAL, not all read)."""

    def __init__(self, written: int, total: int, more: bool = False) -> None:
        self.written = written
        self.total = total
        self.more = more

    @property
    def capped(self) -> bool:
        return self.written < self.total or self.more

    def of_total(self) -> str:
        return f"more than {self.total}" if self.more else str(self.total)


def render(
    rows: Iterable[Mapping[str, Any]],
    fmt: OutputFormat = OutputFormat.table,
    *,
    columns: Sequence[str] | None = None,
    title: str | None = None,
    count: str | None = None,
    limit: int | None = None,
    counted: int | None = None,
    out: TextIO | None = None,
) -> Shown:
    """Write ROWS in the chosen format; columns default to the keys of the first row, in order.

    COUNT names what a row is ("rows", "hits"): a table's title then ends with how many there were. LIMIT
    caps the rows written (0: none); a table is capped at TABLE_ROWS by default and says so on stderr. A
    table reads the rows past those it shows only to count them: COUNTED bounds the rows it reads in all
    (None: every row), for rows that need not end; past it the table says "more than".
    """
    out = out or sys.stdout
    cap = (TABLE_ROWS if fmt is OutputFormat.table else None) if limit is None else (limit or None)
    iterator = iter(rows)
    first = next(iterator, None)
    cols = list(columns) if columns is not None else (list(first.keys()) if first is not None else [])
    every = iterator if first is None else itertools.chain([first], iterator)
    if fmt is OutputFormat.table:
        shown = _table(every, cols, title, count, cap, counted, out)
        if shown.capped:
            note(
                f"showing {shown.written} of {shown.of_total()} rows - use --limit 0 for all, or -f json / "
                "-f csv",
                style="yellow",
            )
        return shown
    kept = itertools.islice(every, cap) if cap is not None else every
    written = _json(kept, cols, out) if fmt is OutputFormat.json else _csv(kept, cols, out)
    return Shown(written, written)


_JSON_CHUNK = 1 << 20
"""Bytes of written values gathered before one write: a broad answer has a hundred thousand rows, and a write
per row took longer than orjson's writing of it. Each value is still written on its own by orjson, so a row
nested to its limit, or one it refuses, fails alone, and memory holds at most a chunk and one row."""


def _bytes_to(out: TextIO) -> Callable[[bytes], object]:
    """How json_list writes its UTF-8 bytes to OUT: to the binary stream under it when it has one, else
    decoded. JSON is UTF-8 (RFC 8259, section 8.1), whatever encoding the text stream was set to, and orjson
    writes bytes: they need not be decoded for the text stream to encode them again."""
    binary = getattr(out, "buffer", None)
    if binary is None:
        return lambda data: out.write(data.decode())
    out.flush()  # what the text stream holds goes first
    return binary.write


def json_list(values: Iterable[Any], out: TextIO | None = None) -> int:
    """VALUES as one indented JSON list (as `to_json` writes the whole list), written as they come (bounded
    memory); how many there were. The values before one that fails are written before the error. A value
    that is an `orjson.Fragment` (JSON text, indented by two) is written as it is. As `to_json`, characters a
    terminal would act on or hide are written as escapes."""
    out = out or sys.stdout
    write = _bytes_to(out)
    written = flushed = size = 0
    pending: list[bytes] = []

    def flush() -> None:
        nonlocal flushed, size
        if pending:
            write((b"," if flushed else b"") + b"\n  " + b",\n  ".join(pending))
            flushed += len(pending)
            pending.clear()
            size = 0

    write(b"[")
    try:
        for value in values:
            piece = inert_json(
                json_text.dumps(value, option=_JSON_OPTIONS, default=str).replace(b"\n", b"\n  ")
            )
            pending.append(piece)
            size += len(piece)
            written += 1
            if size >= _JSON_CHUNK:
                flush()
    except Exception:
        flush()
        raise
    # not after Ctrl-C or kill: a reader that stopped reading would hold the stopped command in this write
    flush()
    write(b"\n]\n" if written else b"]\n")
    out.flush()  # the rows before what a command writes next to stderr
    return written


def json_document(value: Any, out: TextIO | None = None) -> None:
    """VALUE as one indented JSON document (`to_json`), written as UTF-8 bytes as `json_list` writes."""
    out = out or sys.stdout
    _bytes_to(out)(inert_json(json_bytes(value, _JSON_OPTIONS)) + b"\n")
    out.flush()


def json_lines(values: Iterable[Any], out: TextIO | None = None) -> int:
    """VALUES as JSON lines (one compact value a line), inert and UTF-8 as in `json_list`; how many."""
    out = out or sys.stdout
    write = _bytes_to(out)
    written = 0
    for value in values:
        write(inert_json(json_text.dumps(value, option=orjson.OPT_NON_STR_KEYS, default=str)) + b"\n")
        written += 1
    out.flush()
    return written


def _json(rows: Iterator[Mapping[str, Any]], cols: list[str], out: TextIO) -> int:
    # A row already holding the columns in order is written as it is: a broad answer has a hundred thousand.
    return json_list(
        (row if type(row) is dict and list(row) == cols else {c: row.get(c) for c in cols} for row in rows),
        out,
    )


def _csv(rows: Iterator[Mapping[str, Any]], cols: list[str], out: TextIO) -> int:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([csv_cell(c) for c in cols])
    written = 0
    for row in rows:
        writer.writerow([csv_cell(row.get(c)) for c in cols])
        written += 1
    return written


def _table(
    rows: Iterator[Mapping[str, Any]],
    cols: list[str],
    title: str | None,
    count: str | None,
    cap: int | None,
    counted: int | None,
    out: TextIO,
) -> Shown:
    kept = [[table_cell(row.get(c)) for c in cols] for row in itertools.islice(rows, cap)]
    rest = rows if counted is None else itertools.islice(rows, max(counted - len(kept), 0))
    total = len(kept) + sum(1 for _ in rest)  # the rest is only counted
    shown = Shown(len(kept), total, more=counted is not None and next(rows, None) is not None)
    heading = visible(title) if title else ""
    if count is not None:
        heading = f"{heading} — {shown.of_total()} {count}" if heading else f"{shown.of_total()} {count}"
    if _is_terminal(out):
        _rich_table(kept, cols, heading, out)
    else:
        _plain_table(kept, cols, heading, out)
    return shown


def _plain_table(cells: list[list[str]], cols: list[str], heading: str, out: TextIO) -> None:
    """Aligned columns at full width, nothing wrapped or cut: what a pipe, a file or `grep` wants."""
    names = [visible(c) for c in cols]  # a column's name may be a --sql alias: as hostile as a value
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(names)]
    if heading:
        out.write(heading + "\n")
    for line in [names, *cells]:
        out.write("  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip() + "\n")


def _rich_table(cells: list[list[str]], cols: list[str], heading: str, out: TextIO) -> None:
    from rich.cells import cell_len
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(file=out, highlight=False, markup=False, emoji=False)
    table = Table(title=Text(heading) if heading else None, header_style="bold", show_lines=False)
    needed = 1  # the left border; each column adds its padding (2) and a border (1)
    for i, column in enumerate(cols):
        name = visible(column)  # a column's name may be a --sql alias: as hostile as a value
        # Widths on screen, not characters: a CJK or full-width character takes two columns.
        widest = max([cell_len(name), *(cell_len(r[i]) for r in cells)])
        if column in FREE_TEXT:
            # Prose wraps between words, and no narrower than its longest word: a word may be an identifier
            # (`groupId=sg-0a1b2c3d4e5f60789,` in a change, an ARN in an error message), never folded. A
            # word wider than the terminal is folded: no line could show it, and one hostile value must not
            # make every row of the table thousands of columns wide.
            word = max((cell_len(w) for r in cells for w in r[i].split()), default=0)
            least = max(min(widest, max(cell_len(name), 24)), min(word, console.width))
            table.add_column(Text(name), overflow="fold", min_width=least)
        else:
            least = widest
            table.add_column(Text(name), no_wrap=True, min_width=least)
        needed += least + 3
    for row in cells:
        table.add_row(*(Text(v) for v in row))
    if needed > console.width:  # wider than the terminal: let lines run long rather than cut an identifier
        console = Console(file=out, highlight=False, markup=False, emoji=False, width=needed)
    console.print(table)
