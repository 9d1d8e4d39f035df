"""The part of a trail a command reads: a time range and, optionally, some regions and accounts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from .times import utc_day

DELIVERY_DELAY = timedelta(days=1)
"""Events are filed under the UTC day their file was delivered, which can be after the event's own day."""


@dataclass(frozen=True)
class Window:
    """Instants are aware datetimes (any zone); None means open-ended, or every region / account."""

    since: datetime | None = None
    until: datetime | None = None
    regions: frozenset[str] | None = None
    accounts: frozenset[str] | None = None

    def day_range(self) -> tuple[date | None, date | None]:
        """The UTC day folders that can hold the window's events (one more at the end for late delivery)."""
        first = utc_day(self.since) if self.since else None
        last = utc_day(self.until + DELIVERY_DELAY) if self.until else None
        return first, last
