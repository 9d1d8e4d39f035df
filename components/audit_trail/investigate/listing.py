"""The local engine's answer to a list of events (`Question.listing`), without a SQL engine.

Such a question is the matched events, one row of chosen columns each, oldest first (then by event id,
a missing one last, as DuckDB and Trino order NULLs), at most `limit` rows. The scanner's workers write the
rows they keep in sorted runs; this module merges the runs while the answer streams, so a broad answer is
written in bounded memory and a selective one never starts DuckDB. A repeated delivery of one event (same
eventID, identical record: `scanner.dedup_key`) sorts next to the first and is dropped, keeping the copy
from the first log file by name, as the SQL engines' `row_number()` does.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from operator import itemgetter
from pathlib import Path
from typing import Any

import orjson

from ..attack_tactics import action_tactics
from ..queries.questions import EVENT_COLUMNS
from .events import EventRow, Getter, event_listing, getter, identity_of, listed_time
from .scanner import RUN_SEPARATOR, ScanReport, as_written, dedup_key

FAN_IN = 128
"""Runs merged at once: more are first merged into fewer (a broad answer over many files has thousands)."""
# Columns the SQL engines return parsed from JSON text: here they are the record's own values.
_DOCUMENTS = {
    "resources": "resources",
    "request_parameters": "requestParameters",
    "response_elements": "responseElements",
}


_SPECIAL = frozenset({"event_time", *_DOCUMENTS})


@dataclass(frozen=True)
class Order:
    """Oldest first, then by event id (none last); copies of one event adjacent, the first file's first."""

    def __call__(self, row: EventRow, mapped: Mapping[str, Any] | None = None) -> list[Any]:
        event_id = row["event_id"]
        key = [row.micros, event_id is None, event_id or ""]
        return [*key, dedup_key(row.record, row.text), row.source_file]


@dataclass(frozen=True)
class Columns:
    """A kept record as the listing's row: COLUMNS of its `events` row (times as the engines give them).

    The columns are read straight from the record, its identity found once: a broad answer builds a row for
    a quarter of the events, and going through the lazy row costs twice as much."""

    columns: tuple[str, ...]
    tactics: bool = False
    """Each row also carries its action's ATT&CK tactics, as a last column `tactics`."""

    @cached_property
    def _direct(self) -> list[tuple[str, Getter | None]]:
        return [(c, None if c in _SPECIAL else getter(c)) for c in self.columns]

    @cached_property
    def _row(self) -> Callable[[dict[str, Any], EventRow], dict[str, Any]]:
        return event_listing if self.columns == EVENT_COLUMNS else self._any_columns

    def __call__(self, record: dict[str, Any], row: EventRow) -> Iterable[dict[str, Any]]:
        out = self._row(record, row)
        if self.tactics:
            out["tactics"] = action_tactics(out["action"] if "action" in out else row["action"])
        return (out,)

    def _any_columns(self, record: dict[str, Any], row: EventRow) -> dict[str, Any]:
        out: dict[str, Any] = {}
        identity = identity_of(record)
        for column, read in self._direct:
            if read is not None:
                out[column] = read(record, identity)
            elif column == "event_time":
                out[column] = listed_time(record, row)
            elif column in _DOCUMENTS:
                out[column] = record.get(_DOCUMENTS[column])
            else:
                out[column] = row[column]
        return out


def _keyed(path: Path) -> Iterator[tuple[Any, bytes, bytes]]:
    """(key, key text, row text) of each line of a sorted run."""
    with open(path, "rb") as fh:
        for line in fh:
            text, _, row = line.partition(RUN_SEPARATOR)
            yield orjson.loads(text), text, row


def _merge_into(runs: Sequence[Path], target: Path) -> Path:
    with open(target, "wb") as fh:
        for _, text, row in heapq.merge(*map(_keyed, runs), key=itemgetter(0)):
            fh.write(text + RUN_SEPARATOR + row)
    for run in runs:
        run.unlink()
    return target


def in_order(runs: Sequence[Path], scratch: Path) -> Iterator[tuple[Any, bytes]]:
    """(key, row text) of the rows of sorted RUNS (a scan's `written`, with `ScanPlan.order`), in key order;
    rows of equal keys in the order of RUNS, then of each run: as the scan read them. At most FAN_IN files
    are open at once (more are merged into fewer first, in SCRATCH)."""
    runs = list(runs)
    level = 0
    while len(runs) > FAN_IN:
        level += 1
        groups = [runs[i : i + FAN_IN] for i in range(0, len(runs), FAN_IN)]
        runs = [_merge_into(g, scratch / f"merged-{level}-{i:05d}") for i, g in enumerate(groups)]
    return ((key, row) for key, _, row in heapq.merge(*map(_keyed, runs), key=itemgetter(0)))


def merged(
    runs: Sequence[Path], scratch: Path, limit: int | None, report: ScanReport
) -> Iterator[dict[str, Any]]:
    """The rows of sorted RUNS in order, each event once (repeats counted in REPORT), at most LIMIT."""
    return map(orjson.loads, _once(runs, scratch, limit, report))


def merged_texts(runs: Sequence[Path], scratch: Path, limit: int | None, report: ScanReport) -> Iterator[Any]:
    """`merged` as the JSON text of each row, when the runs hold indented rows (`ScanPlan.indented`): as a
    JSON answer writes a row, indented by two (`scanner.as_written`)."""
    return map(as_written, _once(runs, scratch, limit, report))


def _once(runs: Sequence[Path], scratch: Path, limit: int | None, report: ScanReport) -> Iterator[bytes]:
    previous = None
    rows = 0
    for key, row in in_order(runs, scratch):
        if key[3] == previous:
            report.duplicates += 1
            continue
        previous = key[3]
        yield row
        rows += 1
        if limit and rows >= limit:
            return
