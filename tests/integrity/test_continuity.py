"""The hour-by-hour timeline of a region's digests: covered, missing (named), invalid, restart, pending."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from audit_trail.integrity.continuity import (
    DELIVERY_DELAY,
    Coverage,
    Period,
    Span,
    gaps,
    hours_text,
    timeline,
)

H = timedelta(hours=1)
T0 = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)
LATER = T0 + timedelta(days=30)


def chain(
    first: int, last: int, *, phase: timedelta = timedelta(0), starting_at: int | None = 0
) -> list[Span]:
    """Valid hourly digests for hours FIRST..LAST (hour n covers T0+n h .. T0+n+1 h, shifted by PHASE), each
    linked to the one before, the one at STARTING_AT a starting digest."""
    spans = []
    for n in range(first, last + 1):
        begin = T0 + n * H + phase
        spans.append(
            Span(f"d{n}", begin, begin + H, True, n == starting_at, None if n == starting_at else f"d{n - 1}")
        )
    return spans


def named(name: str) -> str:
    return f"expected:{name}"


def expected(end: datetime) -> str:
    return named(f"{end:%H%M}")


def kinds(periods: list[Period]) -> list[tuple[str, str, str]]:
    return [(f"{p.start:%d %H:%M}", p.coverage.value, p.digest) for p in periods]


def test_contiguous_digests_cover_the_window() -> None:
    periods = timeline(T0, T0 + 4 * H, chain(0, 3), now=LATER)
    assert [p.coverage for p in periods] == [Coverage.COVERED] * 4
    assert [p.digest for p in periods] == ["d0", "d1", "d2", "d3"]
    assert gaps(periods) == []


def test_digests_out_of_phase_with_the_hour_still_cover_it() -> None:
    """CloudTrail's digests end at :01:31 or any such minute; the window need not match."""
    spans = chain(-1, 3, phase=timedelta(minutes=1, seconds=31), starting_at=-1)
    periods = timeline(T0, T0 + 4 * H, spans, now=LATER)
    assert {p.coverage for p in periods} == {Coverage.COVERED}
    assert (periods[0].start, periods[-1].end) == (T0, T0 + 4 * H)


def test_one_and_two_consecutive_deleted_digests_are_each_named() -> None:
    spans = [s for s in chain(0, 7) if s.key not in ("d2", "d4", "d5")]
    periods = timeline(T0, T0 + 8 * H, spans, now=LATER, expected=expected)
    missing = [(p.start, p.end, p.digest) for p in periods if p.coverage is Coverage.MISSING]
    # The newest of a run is the key the next digest links to; the others are named by their hour.
    assert missing == [
        (T0 + 2 * H, T0 + 3 * H, "d2"),
        (T0 + 4 * H, T0 + 5 * H, named("0500")),
        (T0 + 5 * H, T0 + 6 * H, "d5"),
    ]
    assert [(g.start, g.end, g.digests) for g in gaps(periods)] == [
        (T0 + 2 * H, T0 + 3 * H, ("d2",)),
        (T0 + 4 * H, T0 + 6 * H, (named("0500"), "d5")),
    ]


def test_missing_hours_after_the_last_digest_once_due() -> None:
    spans = chain(0, 3)
    until = T0 + 8 * H
    # Long after: every hour after the last digest is missing.
    periods = timeline(T0, until, spans, now=LATER, expected=expected)
    assert [p.digest for p in periods if p.coverage is Coverage.MISSING] == [
        named(f"0{h}00") for h in range(5, 9)
    ]
    # Now is 30 minutes after the window: the last hour's digest is not due yet, the others are.
    periods = timeline(T0, until, spans, now=until + timedelta(minutes=30), expected=expected)
    assert [(p.start.hour, p.coverage) for p in periods[4:]] == [
        (4, Coverage.MISSING),
        (5, Coverage.MISSING),
        (6, Coverage.MISSING),
        (7, Coverage.PENDING),
    ]
    # Exactly the delivery delay after an hour ends, its digest is due.
    periods = timeline(T0, until, spans, now=until + DELIVERY_DELAY)
    assert {p.coverage for p in periods} == {Coverage.COVERED, Coverage.MISSING}


def test_a_digest_delivered_after_the_window_tells_a_tail_gap_was_deleted_or_a_restart() -> None:
    until = T0 + 6 * H
    spans = [*chain(0, 3), *chain(7, 7, starting_at=None)]  # hours 4-6 gone, the digest after links back
    periods = timeline(T0, until, spans, now=until, expected=expected)
    assert [p.coverage for p in periods[4:]] == [Coverage.MISSING, Coverage.MISSING]
    restarted = [*chain(0, 3), *chain(7, 7, starting_at=7)]
    periods = timeline(T0, until, restarted, now=until)
    assert [p.coverage for p in periods[4:]] == [Coverage.RESTART, Coverage.RESTART]


def test_a_restart_is_a_gap_before_a_starting_digest() -> None:
    spans = [*chain(0, 2), *chain(5, 7, starting_at=5)]
    periods = timeline(T0, T0 + 8 * H, spans, now=LATER)
    assert kinds(periods)[3:5] == [("20 03:00", "restart", ""), ("20 04:00", "restart", "")]
    (gap,) = gaps(periods)
    assert (gap.start, gap.end, gap.hours, gap.coverage) == (T0 + 3 * H, T0 + 5 * H, 2.0, Coverage.RESTART)


def test_hours_before_the_first_digest_need_digests_when_it_links_back() -> None:
    linked = chain(3, 5, starting_at=None)
    periods = timeline(T0, T0 + 6 * H, linked, now=LATER, expected=expected)
    assert kinds(periods)[:3] == [
        ("20 00:00", "missing", named("0100")),
        ("20 01:00", "missing", named("0200")),
        ("20 02:00", "missing", "d2"),
    ]
    started = chain(3, 5, starting_at=3)
    periods = timeline(T0, T0 + 6 * H, started, now=LATER)
    assert [p.coverage for p in periods[:3]] == [Coverage.RESTART] * 3


def test_an_invalid_digest_spoils_its_hour_only() -> None:
    spans = chain(0, 3)
    spans[1] = Span("d1", spans[1].start, spans[1].end, valid=False)
    periods = timeline(T0, T0 + 4 * H, spans, now=LATER)
    assert kinds(periods) == [
        ("20 00:00", "covered", "d0"),
        ("20 01:00", "invalid", "d1"),
        ("20 02:00", "covered", "d2"),
        ("20 03:00", "covered", "d3"),
    ]


def test_a_valid_digest_wins_over_an_invalid_one_for_the_same_hour() -> None:
    """Another trail's digest (or a planted one) in the same hour does not spoil a valid digest."""
    spans = [*chain(0, 1), Span("planted", T0, T0 + H, valid=False)]
    assert {p.coverage for p in timeline(T0, T0 + 2 * H, spans, now=LATER)} == {Coverage.COVERED}


def test_a_sliver_between_digests_is_no_gap_but_a_longer_hole_is() -> None:
    jitter = [Span("a", T0, T0 + H, True, True), Span("b", T0 + H + timedelta(minutes=2), T0 + 2 * H, True)]
    assert {p.coverage for p in timeline(T0, T0 + 2 * H, jitter, now=LATER)} == {Coverage.COVERED}
    hole = [Span("a", T0, T0 + H, True, True), Span("b", T0 + H + timedelta(minutes=20), T0 + 2 * H, True)]
    periods = timeline(T0, T0 + 2 * H, hole, now=LATER)
    assert [(p.coverage, p.length) for p in periods] == [
        (Coverage.COVERED, H),
        (Coverage.MISSING, timedelta(minutes=20)),
        (Coverage.COVERED, timedelta(minutes=40)),
    ]


def test_no_digest_at_all() -> None:
    until = T0 + 3 * H
    periods = timeline(T0, until, [], now=until + timedelta(minutes=30))
    assert [p.coverage for p in periods] == [Coverage.MISSING, Coverage.MISSING, Coverage.PENDING]
    assert sum((p.length for p in periods), timedelta()) == 3 * H


def test_the_timeline_tiles_the_window_exactly() -> None:
    spans = [*chain(0, 2), *chain(5, 6, starting_at=5), Span("bad", T0 + 8 * H, T0 + 9 * H, False)]
    since, until = T0 + timedelta(minutes=30), T0 + 10 * H + timedelta(minutes=15)
    periods = timeline(since, until, spans, now=LATER)
    assert periods[0].start == since and periods[-1].end == until
    assert all(a.end == b.start for a, b in itertools.pairwise(periods))
    assert [p.row()["coverage"] for p in periods] == [
        "covered",
        "covered",
        "covered",
        "restart",
        "restart",
        "covered",
        "covered",
        "missing",
        "invalid",
        "missing",
        "missing",
    ]


@pytest.mark.parametrize(
    ("hours", "text"),
    [
        (3600.0, "3600"),
        (4.68, "4.68"),
        (26556.7, "26556.7"),
        (0.0, "0"),
        (1051200.0, "1051200"),
        (0.5, "0.5"),
        (-0.0, "0"),
        (10 / 3600, "<0.01"),
    ],
)
def test_hours_read_as_a_person_reads_them(hours: float, text: str) -> None:
    """Never `1.0512e+06` for an organization's years of region-hours, nor a float's tail."""
    assert hours_text(hours) == text
