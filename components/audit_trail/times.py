"""Times, parsed once: what a user types for a window, what CloudTrail (or an export of it) writes.

Every instant inside the toolkit is an aware UTC `datetime`; text is parsed here and only here.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from .errors import UserError

_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_DURATION = re.compile(r"(?:\d+[smhdw])+")
_DURATION_PART = re.compile(r"(\d+)([smhdw])")
_DAY_WORDS = {"today": 0, "yesterday": 1}

ACCEPTED_FORMS = (
    "ISO 8601 (2026-03-02, 2026-03-02T09:00Z, 2026-03-02T18:00+09:00; no zone means UTC), "
    "a duration before now (90m, 24h, 7d, 2w, 3h30m), now, today or yesterday (midnight UTC)"
)


def utc(moment: datetime) -> datetime:
    """MOMENT as an aware UTC datetime (a naive one is taken as UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)  # made once: building it took twice as long as the division


def epoch_micros(moment: datetime) -> int:
    """MOMENT (aware) as whole microseconds since 1970: instants that sort as numbers, whatever the text they
    were written as (`...:00.5Z` sorts after `...:00Z`, not before it as text would)."""
    return (moment - _EPOCH) // _MICROSECOND


def instant_key(value: datetime | str | None) -> int:
    """VALUE (an instant, naive ones taken as UTC, or a time text such as an eventTime) as a number that sorts
    as its instant does; 0 for one that names no instant, so a key stays total. Time texts do not sort as
    text: `...:00.5Z` comes before `...:00Z`."""
    if isinstance(value, datetime):
        return epoch_micros(value if value.tzinfo is not None else utc(value))
    moment = parse_instant(value)
    return epoch_micros(moment) if moment is not None else 0


def iso(moment: datetime) -> str:
    """CloudTrail's own eventTime format: `2026-03-02T09:12:00Z`."""
    return utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def utc_day(moment: datetime) -> date:
    """The UTC date of MOMENT: CloudTrail files logs under UTC day folders, whatever the reader's zone."""
    return utc(moment).date()


EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2999, 12, 31, 23, 59, 59, tzinfo=UTC)
"""The moments a window may name: far wider than any trail, narrow enough that no arithmetic overflows."""


def parse_time(value: str, flag: str, now: datetime | None = None) -> datetime:
    """A moment as a user gives it on the command line; UserError naming FLAG and the accepted forms."""
    text = value.strip()
    now = utc(now or datetime.now(UTC))
    if not text:
        raise UserError(f"{flag} is empty: give a time. Accepted: {ACCEPTED_FORMS}.")
    lowered = text.lower()
    try:
        if lowered == "now":
            moment = now
        elif lowered in _DAY_WORDS:
            moment = datetime.combine(now.date() - timedelta(days=_DAY_WORDS[lowered]), time(), UTC)
        elif _DURATION.fullmatch(lowered):
            span = sum(
                (timedelta(**{_UNITS[unit]: int(n)}) for n, unit in _DURATION_PART.findall(lowered)),
                timedelta(),
            )
            moment = now - span
        else:
            moment = utc(datetime.fromisoformat(text))
    except ValueError:
        raise UserError(f"{flag} {value!r}: not a time. Accepted: {ACCEPTED_FORMS}.") from None
    except OverflowError:
        moment = LATEST + timedelta(seconds=1)  # beyond the range: refused just below
    if not EARLIEST <= moment <= LATEST:
        raise UserError(
            f"{flag} {value!r}: out of range; give a time from {EARLIEST:%Y-%m-%d} to {LATEST:%Y-%m-%d}."
        )
    return moment


# Forms of eventTime seen in the wild: CloudTrail's own (`2026-03-03T10:30:00Z`), with fractional seconds or
# an offset (exporters), space-separated (CloudTrail Lake, Athena), and ISO basic (`20260303T220000Z`).
_BASIC = re.compile(r"(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(?:\.\d+)?Z")


def parse_instant(value: Any) -> datetime | None:
    """An eventTime (or any CloudTrail time field) as an aware UTC datetime, or None if it names no moment."""
    if not isinstance(value, str) or not 8 <= len(value) <= 64:
        return None
    # This runs for every record a scan reads: the basic form (a digit where the others have a dash) is tried
    # only when it can match, and an instant already in UTC, CloudTrail's own, is not converted again.
    basic = _BASIC.fullmatch(value) if value[4].isdigit() else None
    try:
        if basic:
            y, mo, d, h, mi, s = (int(g) for g in basic.groups())
            return datetime(y, mo, d, h, mi, s, tzinfo=UTC)
        moment = datetime.fromisoformat(value)
        return moment if moment.tzinfo is UTC else utc(moment)
    except (ValueError, OverflowError):
        return None


def iso_time(value: Any) -> Any:
    """A timestamp from either engine (a datetime, or Trino's `2026-03-02 09:12:00.000` text) as
    `2026-03-02T09:12:00Z`, milliseconds kept when there are any; other values unchanged."""
    if isinstance(value, datetime):
        value = utc(value).replace(tzinfo=None)
        text = value.isoformat(timespec="milliseconds" if value.microsecond else "seconds")
        return text + "Z"
    if isinstance(value, str) and len(value) >= 19 and value[10] == " ":
        text = value[:10] + "T" + value[11:]
        return (text[:-4] if text.endswith(".000") else text) + "Z"
    return value
