"""What the charts count, in one pass of the investigation scanner: every record of the period as a compact
row (its day, region and actor), so a month of a busy account costs one read of its files, not a query
writing every column of every event.

Counts are of records as delivered: CloudTrail delivers at least once, so a rare repeated delivery counts
twice here (the questions count it once); the charts show proportions, the sections show the answers.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..investigate.events import EventRow
from ..investigate.scanner import ScanPlan, ScanReport, read_rows, scan
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


def tally(files: list[LogFile], window: Window, workers: int | None = None) -> tuple[Charts, ScanReport]:
    per_day: dict[str, Counter[str]] = {}
    actors: Counter[str] = Counter()
    records = 0
    with tempfile.TemporaryDirectory(prefix="audit-trail-report-") as scratch:
        report, written = scan(
            files, ScanPlan(window_filters(window), _Compact()), Path(scratch), workers=workers
        )
        for row in read_rows(written):
            records += 1
            per_day.setdefault(row["d"], Counter())[row["r"] or NO_REGION] += 1
            actors[row["a"] or "(unknown)"] += 1
    charts = Charts(
        per_day={day: dict(sorted(c.items())) for day, c in sorted(per_day.items())},
        top_actors=actors.most_common(TOP_ACTORS),
        records=records,
    )
    return charts, report


def expected_regions(charts: Charts) -> tuple[str, ...]:
    """The regions holding at least EXPECTED_SHARE of the records."""
    totals: Counter[str] = Counter()
    for regions in charts.per_day.values():
        totals.update(regions)
    total = sum(totals.values())
    return tuple(sorted(r for r, n in totals.items() if r != NO_REGION and n >= EXPECTED_SHARE * total))
