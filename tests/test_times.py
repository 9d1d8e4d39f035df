"""Times: what a user types for a window and what CloudTrail or an export writes, parsed once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from audit_trail.errors import UserError
from audit_trail.times import instant_key, iso, iso_time, parse_instant, parse_time, utc_day

NOW = datetime(2026, 3, 2, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("24h", datetime(2026, 3, 1, 12, tzinfo=UTC)),
        ("2026-03-01T09:30", datetime(2026, 3, 1, 9, 30, tzinfo=UTC)),
        ("3h30m", datetime(2026, 3, 2, 8, 30, tzinfo=UTC)),
        ("1w2d", datetime(2026, 2, 21, 12, tzinfo=UTC)),
        ("now", NOW),
        ("today", datetime(2026, 3, 2, tzinfo=UTC)),
        ("Yesterday", datetime(2026, 3, 1, tzinfo=UTC)),
        # An offset names that instant, whatever zone the reader is in.
        ("2026-03-03T08:00+09:00", datetime(2026, 3, 2, 23, tzinfo=UTC)),
        ("2026-03-03T00:00+14:00", datetime(2026, 3, 2, 10, tzinfo=UTC)),
    ],
)
def test_times_absolute_or_relative(text: str, expected: datetime) -> None:
    assert parse_time(text, "--since", now=NOW) == expected


def test_a_bad_time_names_the_flag_and_the_forms() -> None:
    with pytest.raises(UserError, match=r"--until 'last tuesday'.*ISO 8601.*24h"):
        parse_time("last tuesday", "--until")


@pytest.mark.parametrize(
    "text", ["9999-12-31T23:59Z", "999999d", "99999999999999999999m", "0001-01-01T00:00+01:00"]
)
def test_out_of_range_times_are_refused_not_crashed(text: str) -> None:
    with pytest.raises(UserError, match=r"--since .*out of range"):
        parse_time(text, "--since", now=NOW)


@pytest.mark.parametrize("text", ["", "   "])
def test_an_empty_time_is_refused(text: str) -> None:
    with pytest.raises(UserError, match="--since is empty"):
        parse_time(text, "--since")


@pytest.mark.parametrize(
    "text",
    [
        "2026-03-03T22:00:00Z",
        "2026-03-03T22:00:00.000Z",
        "2026-03-03 22:00:00.000",  # CloudTrail Lake and Athena exports
        "2026-03-04T01:00:00+03:00",
        "20260303T220000Z",  # ISO basic
    ],
)
def test_every_form_of_event_time_is_one_instant(text: str) -> None:
    assert parse_instant(text) == datetime(2026, 3, 3, 22, tzinfo=UTC)


@pytest.mark.parametrize("value", [None, 5, "", "yesterday", "2026-13-01T00:00:00Z", "x" * 100, {"a": 1}])
def test_a_value_that_names_no_moment_is_none(value: object) -> None:
    assert parse_instant(value) is None


def test_formats() -> None:
    tokyo = timezone(timedelta(hours=9))
    assert iso(datetime(2026, 3, 3, 8, tzinfo=tokyo)) == "2026-03-02T23:00:00Z"
    assert utc_day(datetime(2026, 3, 3, 8, tzinfo=tokyo)).isoformat() == "2026-03-02"
    assert iso_time("2026-03-02 09:12:00.000") == "2026-03-02T09:12:00Z"
    assert iso_time(datetime(2026, 3, 2, 9, 12, 0, 500000, tzinfo=UTC)) == "2026-03-02T09:12:00.500Z"


def test_instant_keys_sort_as_the_instants_do() -> None:
    texts = ["2026-03-02T10:00:00.500Z", "2026-03-02T10:00:00Z", "2026-03-02T11:00:00+02:00"]
    texts.append("20260302T100001Z")
    assert sorted(texts, key=instant_key) == [texts[2], texts[1], texts[0], texts[3]]
    naive, aware = datetime(2026, 3, 2, 10), datetime(2026, 3, 2, 10, tzinfo=UTC)
    assert instant_key(naive) == instant_key(aware) == instant_key(texts[1])
    assert instant_key(None) == instant_key("not a time") == 0
