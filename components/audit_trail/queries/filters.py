"""Row filters: each is one condition written twice over the same `events` columns — as SQL (DuckDB and
Athena run it, and it decides the answer) and as a Python test on a flattened row (the scanner applies it
first so only candidate rows reach DuckDB) — plus the byte strings a file must contain to hold a match.

The SQL is the definition; the Python test must accept every row the SQL accepts (tests check both agree).
Needles are only ever values that appear literally in a log file's JSON, case-sensitively.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..times import parse_instant, utc
from ..window import Window

Row = Mapping[str, Any]


def sql_str(value: str) -> str:
    """A SQL string literal (standard quoting, valid in DuckDB and Trino)."""
    return "'" + value.replace("'", "''") + "'"


def sql_list(values: Sequence[str]) -> str:
    return "(" + ", ".join(sql_str(v) for v in values) + ")"


def _needle(value: str) -> bytes | None:
    """VALUE as it appears inside a JSON string, or None when JSON could escape it (then no prefilter)."""
    if len(value) < 3 or not value.isascii() or any(c in value for c in '"\\') or not value.isprintable():
        return None
    return value.encode()


def _glob_like(pattern: str) -> str:
    """A `*`/`?` glob as a SQL LIKE pattern (escape character backslash)."""
    out = []
    for ch in pattern:
        out.append({"*": "%", "?": "_", "%": "\\%", "_": "\\_", "\\": "\\\\"}.get(ch, ch))
    return "".join(out)


def _glob_regex(pattern: str) -> re.Pattern[str]:
    return re.compile("".join({"*": ".*", "?": "."}.get(ch, re.escape(ch)) for ch in pattern), re.DOTALL)


class Filter:
    """A condition on `events` rows."""

    def sql(self) -> str:
        raise NotImplementedError

    def test(self, row: Row) -> bool:
        raise NotImplementedError

    def needles(self) -> tuple[bytes, ...]:
        """A file holds a match only if it contains one of these (empty: no prefilter)."""
        return ()


@dataclass(frozen=True)
class TimeRange(Filter):
    since: datetime | None = None
    until: datetime | None = None

    def sql(self) -> str:
        parts = []
        if self.since:
            parts.append(f"event_time >= TIMESTAMP '{self.since.astimezone(UTC):%Y-%m-%d %H:%M:%S}'")
        if self.until:
            parts.append(f"event_time < TIMESTAMP '{self.until.astimezone(UTC):%Y-%m-%d %H:%M:%S}'")
        return " AND ".join(parts) or "true"

    def test(self, row: Row) -> bool:
        t = parse_instant(row["event_time"])
        if t is None:
            return False
        return (self.since is None or t >= utc(self.since)) and (self.until is None or t < utc(self.until))


_ACTOR_COLUMNS = (
    "actor",
    "principal_arn",
    "user_name",
    "access_key_id",
    "session_name",
    "principal_id",
    "session_issuer_arn",
)


@dataclass(frozen=True)
class Actor(Filter):
    """Exact match on any identity field: ARN, user name, access key id, role session, role ARN."""

    value: str

    def sql(self) -> str:
        return f"{sql_str(self.value)} IN ({', '.join(_ACTOR_COLUMNS)})"

    def test(self, row: Row) -> bool:
        return any(row.get(c) == self.value for c in _ACTOR_COLUMNS)

    def needles(self) -> tuple[bytes, ...]:
        n = _needle(self.value)
        return (n,) if n else ()


@dataclass(frozen=True)
class Action(Filter):
    """Case-insensitive glob on `eventSource:eventName`, `service:eventName` or (no colon) `eventName`."""

    pattern: str

    def sql(self) -> str:
        like = sql_str(_glob_like(self.pattern.lower()))
        if ":" in self.pattern:
            return (
                f"(lower(action) LIKE {like} ESCAPE '\\' "
                f"OR lower(event_source || ':' || event_name) LIKE {like} ESCAPE '\\')"
            )
        return f"lower(event_name) LIKE {like} ESCAPE '\\'"

    def test(self, row: Row) -> bool:
        rx = _glob_regex(self.pattern.lower())
        if ":" in self.pattern:
            return bool(
                rx.fullmatch(row["action"].lower())
                or rx.fullmatch(f"{row['event_source']}:{row['event_name']}".lower())
            )
        return bool(rx.fullmatch(row["event_name"].lower()))


_RESOURCE_TEXT = ("resources", "request_parameters", "response_elements")


@dataclass(frozen=True)
class Resource(Filter):
    """ARN or id substring, searched in resources, request parameters and response elements."""

    value: str

    def sql(self) -> str:
        # One concatenated text (newline-separated) so the value appears once: named queries take it as `?`.
        text = " || chr(10) || ".join(f"coalesce({c}, '')" for c in _RESOURCE_TEXT)
        return f"strpos({text}, {sql_str(self.value)}) > 0"

    def test(self, row: Row) -> bool:
        return self.value in "\n".join(row.get(c) or "" for c in _RESOURCE_TEXT)

    def needles(self) -> tuple[bytes, ...]:
        n = _needle(self.value)
        return (n,) if n else ()


@dataclass(frozen=True)
class SourceIp(Filter):
    """Exact IP, or a glob such as `203.0.113.*`."""

    pattern: str

    def sql(self) -> str:
        return f"source_ip LIKE {sql_str(_glob_like(self.pattern))} ESCAPE '\\'"

    def test(self, row: Row) -> bool:
        return bool(
            row.get("source_ip") is not None and _glob_regex(self.pattern).fullmatch(row["source_ip"])
        )

    def needles(self) -> tuple[bytes, ...]:
        n = _needle(re.split(r"[*?]", self.pattern, maxsplit=1)[0])
        return (n,) if n else ()


@dataclass(frozen=True)
class Regions(Filter):
    regions: tuple[str, ...]
    exclude: bool = False

    def sql(self) -> str:
        return f"aws_region {'NOT IN' if self.exclude else 'IN'} {sql_list(self.regions)}"

    def test(self, row: Row) -> bool:
        return (row.get("aws_region") in self.regions) != self.exclude


@dataclass(frozen=True)
class Errors(Filter):
    def sql(self) -> str:
        return "error_code IS NOT NULL"

    def test(self, row: Row) -> bool:
        return row.get("error_code") is not None

    def needles(self) -> tuple[bytes, ...]:
        return (b'"errorCode"',)


@dataclass(frozen=True)
class WriteOnly(Filter):
    """Calls that are not read-only (a record without readOnly counts as a write: never hide a change)."""

    def sql(self) -> str:
        return "coalesce(read_only, false) = false"

    def test(self, row: Row) -> bool:
        return not row.get("read_only")


@dataclass(frozen=True)
class RootUsage(Filter):
    """The root user acting itself (CIS 4.3: not a service acting for it, not a service event)."""

    def sql(self) -> str:
        return (
            "identity_type = 'Root' AND invoked_by IS NULL AND coalesce(event_type, '') <> 'AwsServiceEvent'"
        )

    def test(self, row: Row) -> bool:
        return (
            row.get("identity_type") == "Root"
            and row.get("invoked_by") is None
            and row.get("event_type") != "AwsServiceEvent"
        )

    def needles(self) -> tuple[bytes, ...]:
        return (b'"Root"',)


@dataclass(frozen=True)
class RiskySignIn(Filter):
    """Failed console sign-ins, and IAM users' successful sign-ins without MFA (CIS 4.2 and 4.6)."""

    def sql(self) -> str:
        return (
            "event_name = 'ConsoleLogin' AND (coalesce(console_login, '') = 'Failure' "
            "OR error_code IS NOT NULL OR (identity_type = 'IAMUser' AND console_login = 'Success' "
            "AND coalesce(mfa_used, '') <> 'Yes'))"
        )

    def test(self, row: Row) -> bool:
        if row.get("event_name") != "ConsoleLogin":
            return False
        if row.get("console_login") == "Failure" or row.get("error_code") is not None:
            return True
        return (
            row.get("identity_type") == "IAMUser"
            and row.get("console_login") == "Success"
            and row.get("mfa_used") != "Yes"
        )

    def needles(self) -> tuple[bytes, ...]:
        return (b"ConsoleLogin",)


@dataclass(frozen=True)
class Denied(Filter):
    """Unauthorized calls, as CIS 4.1 defines them: `*UnauthorizedOperation` or `AccessDenied*`."""

    def sql(self) -> str:
        return "(error_code LIKE '%UnauthorizedOperation' OR error_code LIKE 'AccessDenied%')"

    def test(self, row: Row) -> bool:
        code = row.get("error_code") or ""
        return code.endswith("UnauthorizedOperation") or code.startswith("AccessDenied")

    def needles(self) -> tuple[bytes, ...]:
        return (b"UnauthorizedOperation", b"AccessDenied")


DELETION_PREFIXES = ("Delete", "Terminate", "Remove")


@dataclass(frozen=True)
class Deletions(Filter):
    def sql(self) -> str:
        return "(" + " OR ".join(f"event_name LIKE '{p}%'" for p in DELETION_PREFIXES) + ")"

    def test(self, row: Row) -> bool:
        return row["event_name"].startswith(DELETION_PREFIXES)

    def needles(self) -> tuple[bytes, ...]:
        return tuple(p.encode() for p in DELETION_PREFIXES)


def where_sql(filters: Sequence[Filter]) -> str:
    return " AND ".join(f"({f.sql()})" for f in filters) or "true"


def accepts(filters: Sequence[Filter], row: Row) -> bool:
    return all(f.test(row) for f in filters)


def window_filters(window: Window) -> tuple[Filter, ...]:
    """The window as row filters: the key layout narrows files, these narrow records (and other exports)."""
    out: list[Filter] = []
    if window.since or window.until:
        out.append(TimeRange(window.since, window.until))
    if window.regions is not None:
        out.append(Regions(tuple(sorted(window.regions))))
    return tuple(out)
