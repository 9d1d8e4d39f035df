"""What the charts count, in one pass of the investigation scanner: every record of the period as a compact
row (its day, region and actor), so a month of a busy account costs one read of its files, not a query
writing every column of every event.

Counts are of records as delivered: CloudTrail delivers at least once, so a rare repeated delivery counts
twice here (the questions count it once); the charts show proportions, the sections show the answers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from ..investigate.events import EventRow
from ..investigate.scanner import ScanPlan, ScanReport, Tally, scan
from ..investigate.sources import LogFile
from ..queries.filters import window_filters
from ..window import Window
from .evidence import Charts

TOP_ACTORS = 10
EXPECTED_SHARE = 0.01
"""A region holding at least this share of the records is one the account uses (`unusual-regions`'s own
default share)."""
NO_REGION = "(none)"


@dataclass(frozen=True)
class _Compact:
    """The scanner's row mapper: day, region and actor of each record (picklable: runs in the workers)."""

    def __call__(self, record: dict[str, Any], row: EventRow) -> Iterable[dict[str, Any]]:
        return ({"d": row["event_time"][:10], "r": row["aws_region"], "a": row["actor"]},)


@dataclass
class _Counts:
    """The scanner's `Tally` for the charts: the workers count their rows as they map them, so no row is
    written and the parent reads none back (a month of a busy account is millions of rows)."""

    per_day: dict[str, Counter[str]] = field(default_factory=dict)
    actors: Counter[str] = field(default_factory=Counter)
    records: int = 0

    def empty(self) -> _Counts:
        return _Counts()

    def add(self, rows: Sequence[Mapping[str, Any]]) -> None:
        for row in rows:
            self.records += 1
            self.per_day.setdefault(row["d"], Counter())[row["r"] or NO_REGION] += 1
            self.actors[row["a"] or "(unknown)"] += 1

    def merge(self, other: Tally) -> None:
        # In the files' order, so actors first seen earlier come first among equal counts, as one
        # process counting every file would have them.
        later = cast(_Counts, other)
        self.records += later.records
        for day, regions in later.per_day.items():
            self.per_day.setdefault(day, Counter()).update(regions)
        self.actors.update(later.actors)


def tally(files: list[LogFile], window: Window, workers: int | None = None) -> tuple[Charts, ScanReport]:
    plan = ScanPlan(window_filters(window), _Compact(), tally=_Counts())
    report, _ = scan(files, plan, None, workers=workers)
    counts = cast(_Counts, report.tally) if report.tally is not None else _Counts()
    charts = Charts(
        per_day={day: dict(sorted(c.items())) for day, c in sorted(counts.per_day.items())},
        top_actors=counts.actors.most_common(TOP_ACTORS),
        records=counts.records,
    )
    return charts, report


def expected_regions(charts: Charts) -> tuple[str, ...]:
    """The regions holding at least EXPECTED_SHARE of the records."""
    totals: Counter[str] = Counter()
    for regions in charts.per_day.values():
        totals.update(regions)
    total = sum(totals.values())
    return tuple(sorted(r for r, n in totals.items() if r != NO_REGION and n >= EXPECTED_SHARE * total))
