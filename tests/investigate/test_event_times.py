"""An event's time in a row: the record's own text when CloudTrail wrote it in its whole-second form (taken
as it is, for speed), otherwise written from the parsed instant; either way the same text as before."""

from __future__ import annotations

from datetime import UTC, datetime

from audit_trail.investigate.events import EventRow, event_time_text, flatten, whole_second_text
from audit_trail.investigate.listing import Columns
from audit_trail.times import iso_time, parse_instant
from hypothesis import given
from hypothesis import strategies as st

_RECORD = {"eventSource": "s3.amazonaws.com", "eventName": "GetObject"}


@given(st.datetimes(min_value=datetime(1000, 1, 1), max_value=datetime(9999, 12, 31)))
def test_cloudtrails_own_form_is_what_both_writers_give(moment: datetime) -> None:
    moment = moment.replace(microsecond=0, tzinfo=UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    parsed = parse_instant(text)
    assert parsed == moment
    assert whole_second_text({"eventTime": text}) == text == event_time_text(parsed) == iso_time(parsed)


def test_any_other_form_is_written_from_the_instant() -> None:
    cases = {
        "2026-03-02T09:12:00.5Z": ("2026-03-02T09:12:00.500000Z", "2026-03-02T09:12:00.500Z"),
        "2026-03-02T18:12:00+09:00": ("2026-03-02T09:12:00Z", "2026-03-02T09:12:00Z"),
        "2026-03-02 09:12:00Z": ("2026-03-02T09:12:00Z", "2026-03-02T09:12:00Z"),
        "20260302T091200Z": ("2026-03-02T09:12:00Z", "2026-03-02T09:12:00Z"),
    }
    for text, (view, listing) in cases.items():
        record = {**_RECORD, "eventTime": text}
        moment = parse_instant(text)
        assert whole_second_text(record) is None
        assert (
            EventRow(record, "f", moment)["event_time"] == flatten(record, "f", moment)["event_time"] == view
        )
        (row,) = Columns(("event_time",))(record, EventRow(record, "f", moment))
        assert row["event_time"] == listing


def test_digits_of_other_scripts_are_not_taken_as_they_are() -> None:
    for text in (
        "\uff12\uff10\uff12\uff16-03-02T09:12:00Z",
        "2026-03-02T09:12:00Z\n",
        "0999-03-02T09:12:00Z",
    ):
        assert whole_second_text({"eventTime": text}) is None
