"""Hour by hour, what the digests of one account and region prove over a window, and every gap.

CloudTrail delivers a digest file for every region every hour while log file validation is on, also for an
hour without activity ("CloudTrail digest file structure": 'Empty' digest files), and each digest names the
one before it ("Digest file chaining"). A starting digest (previous-digest fields null) begins a new chain
after validation or logging was off, and CloudTrail writes no digest for the hours in between ("Starting
digest file"). So every moment of a window is covered by a valid digest, or is:

- missing: no digest, though one was due (its hour ended more than the delivery delay ago): deleted — FAIL;
- invalid: only a digest that failed validation covers it — FAIL (reported with that digest);
- restart: after a chain ended and before a starting digest: validation or logging was off — WARN;
- pending: the digest for it is not due yet.

Gaps are cut into digest periods (an hour each, in the phase of the digest next to the gap), so each missing
digest is named by the hour it should cover and, where the chain tells, its key. `verify` builds the timeline
from the digests it judged; a report prints it as it is. Pure functions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from ..times import iso

DIGEST_PERIOD = timedelta(hours=1)
DELIVERY_DELAY = timedelta(hours=1)
"""How long after its hour ends a digest may still arrive. CloudTrail delivers log files "within an average of
about 5 minutes" and does not guarantee it ("Getting and viewing your CloudTrail log files"), and writes the
hour's digest after them; an hour of slack keeps a late but honest delivery from reading as a deletion, while
a deleted newest digest is a FAIL two hours after the hour it covered."""


def hours_text(hours: float) -> str:
    """A number of hours as a person reads it: `3600`, `4.68`, `26556.7` (a window ending now ends within
    an hour), never `2.6e+04`."""
    if 0 < hours < 0.005:  # seconds of a pending hour: not nothing
        return "<0.01"
    text = f"{hours:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


TOLERANCE = timedelta(minutes=5)
"""A sliver between two digests' periods this short is not a gap. CloudTrail starts each digest where the
previous one ended; the slack only absorbs clock jitter. It hides no file: every log file in the window is
checked against the digests whatever the timeline says."""


class Coverage(StrEnum):
    COVERED = "covered"
    MISSING = "missing"
    INVALID = "invalid"
    RESTART = "restart"
    PENDING = "pending"

    @property
    def result(self) -> str:
        """FAIL, WARN, PASS or PENDING, as the verdict counts it."""
        return {
            Coverage.COVERED: "PASS",
            Coverage.MISSING: "FAIL",
            Coverage.INVALID: "FAIL",
            Coverage.RESTART: "WARN",
            Coverage.PENDING: "PENDING",
        }[self]


@dataclass(frozen=True)
class Span:
    """One digest file as the verifier judged it: the period it covers and whether it is valid."""

    key: str
    start: datetime
    end: datetime
    valid: bool
    starting: bool = False
    """A starting digest (previous-digest fields null): a chain begins here. Only believed of a valid one."""
    previous_key: str | None = None


@dataclass(frozen=True)
class Period:
    """A stretch of the window and what covers it; `digest` is the key of the covering digest, or of the one
    expected there when it can be named (empty otherwise)."""

    start: datetime
    end: datetime
    coverage: Coverage
    digest: str = ""

    @property
    def length(self) -> timedelta:
        return self.end - self.start

    def row(self) -> dict[str, Any]:
        return {
            "start": iso(self.start),
            "end": iso(self.end),
            "coverage": self.coverage.value,
            "digest": self.digest,
        }


@dataclass(frozen=True)
class Gap:
    """Consecutive periods no valid digest covers, of one kind."""

    start: datetime
    end: datetime
    coverage: Coverage
    digests: tuple[str, ...]

    @property
    def length(self) -> timedelta:
        return self.end - self.start

    @property
    def hours(self) -> float:
        return self.length / timedelta(hours=1)

    def row(self) -> dict[str, Any]:
        return {
            "start": iso(self.start),
            "end": iso(self.end),
            "hours": round(self.hours, 2),
            "coverage": self.coverage.value,
            "digests": list(self.digests),
        }


def _tile(spans: Iterable[Span], lo: datetime, hi: datetime) -> list[tuple[datetime, datetime, Span]]:
    """SPANS (sorted by start) as non-overlapping pieces clipped to [LO, HI); a sliver up to TOLERANCE
    between two pieces, or at either end, joins the piece beside it."""
    pieces: list[tuple[datetime, datetime, Span]] = []
    for span in spans:
        start = max(span.start, lo, pieces[-1][1] if pieces else lo)
        end = min(span.end, hi)
        if end <= start:
            continue
        if pieces and start - pieces[-1][1] <= TOLERANCE:
            start = pieces[-1][1]
        elif not pieces and start - lo <= TOLERANCE:
            start = lo
        pieces.append((start, end, span))
    if pieces and hi - pieces[-1][1] <= TOLERANCE:
        pieces[-1] = (pieces[-1][0], hi, pieces[-1][2])
    return pieces


def _holes(
    pieces: Sequence[tuple[datetime, datetime, Span]], lo: datetime, hi: datetime
) -> Iterator[tuple[datetime, datetime]]:
    cursor = lo
    for start, end, _ in pieces:
        if start > cursor:
            yield cursor, start
        cursor = max(cursor, end)
    if cursor < hi:
        yield cursor, hi


def _slots_forward(lo: datetime, hi: datetime) -> Iterator[tuple[datetime, datetime, datetime]]:
    """[LO, HI) in digest periods from LO: (start, end, the end the slot's digest would carry)."""
    start = lo
    while start < hi:
        end = start + DIGEST_PERIOD
        yield start, min(end, hi), end
        start = end


def _slots_backward(lo: datetime, hi: datetime) -> Iterator[tuple[datetime, datetime, datetime]]:
    """[LO, HI) in digest periods ending at HI, newest first."""
    end = hi
    while end > lo:
        yield max(end - DIGEST_PERIOD, lo), end, end
        end -= DIGEST_PERIOD


def timeline(
    since: datetime,
    until: datetime,
    spans: Iterable[Span],
    *,
    now: datetime,
    delay: timedelta = DELIVERY_DELAY,
    expected: Callable[[datetime], str] = lambda end: "",
) -> list[Period]:
    """The window [SINCE, UNTIL) as consecutive periods, each covered by a valid digest or in a gap.

    SPANS are the region's digests (any outside the window are used to tell what a gap at its edges is);
    NOW decides what is due; EXPECTED names the digest that would end at a moment (its key)."""
    spans = list(spans)
    valid = sorted((s for s in spans if s.valid), key=lambda s: (s.start, s.end))
    invalid = sorted((s for s in spans if not s.valid), key=lambda s: (s.start, s.end))
    covered = _tile(valid, since, until)
    periods = [Period(a, b, Coverage.COVERED, s.key) for a, b, s in covered]
    for lo, hi in _holes(covered, since, until):
        spoiled = _tile(invalid, lo, hi)
        periods += [Period(a, b, Coverage.INVALID, s.key) for a, b, s in spoiled]
        for h0, h1 in _holes(spoiled, lo, hi):
            periods += _gap(h0, h1, spans, valid, until, now, delay, expected)
    return sorted(periods, key=lambda p: p.start)


def _gap(
    h0: datetime,
    h1: datetime,
    spans: list[Span],
    valid: list[Span],
    until: datetime,
    now: datetime,
    delay: timedelta,
    expected: Callable[[datetime], str],
) -> list[Period]:
    """What no digest covers, [H0, H1): restart, missing or pending, cut into digest periods."""
    if h1 < until:  # something starts where the hole ends: the digest after it
        starting_here = (s for s in spans if abs(s.start - h1) <= TOLERANCE)
        after = min(starting_here, key=lambda s: not s.valid, default=None)
    else:  # the hole runs to the window's end: the next valid digest, if one was delivered after it
        after = min((s for s in valid if s.start >= h1 - TOLERANCE), key=lambda s: s.start, default=None)
    if after is not None and after.valid and after.starting:
        return [Period(a, b, Coverage.RESTART) for a, b, _ in _slots_forward(h0, h1)]
    if after is not None:
        # The chain goes on after the hole, so each of its hours had a digest: name them from the later one.
        # The newest of them is the one the later digest names as its previous.
        linked = after.previous_key if after.valid else None
        return [
            Period(a, b, Coverage.MISSING, (linked if n == 0 and linked else expected(end)))
            for n, (a, b, end) in enumerate(_slots_backward(h0, h1))
        ]
    # Nothing after it: the newest digests are missing once due, pending before.
    return [
        Period(a, b, Coverage.MISSING if end + delay <= now else Coverage.PENDING, expected(end))
        for a, b, end in _slots_forward(h0, h1)
    ]


def gaps(periods: Iterable[Period]) -> list[Gap]:
    """Runs of consecutive periods of one kind that no valid digest covers, in order."""
    found: list[Gap] = []
    for p in periods:
        if p.coverage is Coverage.COVERED:
            continue
        last = found[-1] if found else None
        if last is not None and last.coverage is p.coverage and last.end == p.start:
            found[-1] = Gap(last.start, p.end, p.coverage, (*last.digests, *filter(None, [p.digest])))
        else:
            found.append(Gap(p.start, p.end, p.coverage, tuple(filter(None, [p.digest]))))
    return found
