"""The canned questions, each defined once as SQL over the `events` view, run as-is by DuckDB and by Athena.

A question is row filters (rendered into the `matched` CTE, and applied early by the scanner) plus a body that
selects from `matched`. The SQL sticks to what both dialects share (standard SQL, `strpos`, `count_if`,
`array_agg` with `FILTER`, `array_distinct`, `array_sort`). Lists come back as lists from both engines.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from . import filters as f

# Row shape of every list-of-events answer: who, what, when, where, outcome.
EVENT_COLUMNS = (
    "event_time",
    "actor",
    "identity_type",
    "principal_arn",
    "session_issuer_arn",
    "action",
    "resource",
    "aws_region",
    "source_ip",
    "user_agent",
    "error_code",
    "error_message",
    "request_parameters",
    "response_elements",
    "event_id",
)
# What fits a terminal table (`change`: a short reading of the request); json/csv carry all EVENT_COLUMNS.
EVENT_TABLE_COLUMNS = (
    "event_time",
    "actor",
    "identity_type",
    "action",
    "resource",
    "aws_region",
    "source_ip",
    "error_code",
    "change",
)


def _listing(columns: tuple[str, ...]) -> str:
    return f"SELECT {', '.join(columns)}\nFROM matched\nORDER BY event_time, event_id"


_EVENTS_BODY = _listing(EVENT_COLUMNS)


@dataclass(frozen=True)
class Question:
    name: str
    title: str
    body: str
    filters: tuple[f.Filter, ...] = ()
    table_columns: tuple[str, ...] | None = None
    ctes: str = ""  # further CTEs after `matched`, for bodies that need intermediate steps
    listing: tuple[str, ...] | None = None
    """For a list of events (the body is `SELECT <these columns> FROM matched ORDER BY event_time, event_id`):
    the columns. The local engine answers such a question by sorting and merging rows itself, without SQL."""
    limit: int | None = None
    tactics: bool = False
    """For a list of events: each row also carries its action's ATT&CK tactics, as a last column `tactics`,
    which no SQL computes (the engines add them, from `attack_tactics`)."""

    def with_filters(self, *extra: f.Filter) -> Question:
        return replace(self, filters=(*self.filters, *extra))

    def with_tactics(self) -> Question:
        """The list question whose rows also carry their ATT&CK tactics (`tactics`)."""
        return replace(self, tactics=True)

    def limited(self, rows: int | None) -> Question:
        """The question answering with at most ROWS rows (None: every row)."""
        return replace(self, limit=int(rows)) if rows else self

    def sql(self) -> str:
        """`matched AS (...) <body>`; engines prefix `WITH events AS (...),` (Athena) or `WITH` (DuckDB)."""
        matched = f"matched AS (\n  SELECT * FROM events WHERE {f.where_sql(self.filters)}\n)"
        limit = f"\nLIMIT {self.limit}" if self.limit else ""
        return matched + (f",\n{self.ctes}" if self.ctes else "") + f"\n{self.body}{limit}"


def events(limit: int | None = None) -> Question:
    question = Question(
        "query", "Events", _EVENTS_BODY, table_columns=EVENT_TABLE_COLUMNS, listing=EVENT_COLUMNS
    )
    return question.limited(limit)


def records() -> Question:
    """The matching events as CloudTrail wrote them: the whole record, oldest first (local engine only)."""
    return Question("query", "Records", _listing(("raw",)), listing=("raw",))


def who_changed(resource: str) -> Question:
    return Question(
        "who-changed",
        f"Changes to {resource}",
        _EVENTS_BODY,
        (f.Resource(resource), f.WriteOnly()),
        EVENT_TABLE_COLUMNS,
        listing=EVENT_COLUMNS,
    )


def activity(actor: str) -> Question:
    body = """SELECT
  split_part(action, ':', 1) AS service,
  action,
  resource,
  count(*) AS events,
  count_if(error_code IS NOT NULL) AS errors,
  min(event_time) AS first_seen,
  max(event_time) AS last_seen,
  array_sort(array_distinct(array_agg(source_ip) FILTER (WHERE source_ip IS NOT NULL))) AS source_ips,
  array_sort(array_distinct(array_agg(aws_region) FILTER (WHERE aws_region IS NOT NULL))) AS regions
FROM matched
GROUP BY split_part(action, ':', 1), action, resource
ORDER BY service, first_seen, action, resource"""
    return Question("activity", f"Activity of {actor}", body, (f.Actor(actor),))


def root_usage() -> Question:
    return Question(
        "root-usage",
        "Root user activity",
        _EVENTS_BODY,
        (f.RootUsage(),),
        EVENT_TABLE_COLUMNS,
        listing=EVENT_COLUMNS,
    )


def failed_logins() -> Question:
    body = """SELECT
  event_time,
  CASE WHEN console_login = 'Failure' OR error_code IS NOT NULL THEN 'failed sign-in'
       ELSE 'signed in without MFA' END AS finding,
  actor,
  identity_type,
  principal_arn,
  source_ip,
  user_agent,
  error_message,
  event_id
FROM matched
ORDER BY event_time, event_id"""
    columns = ("event_time", "finding", "actor", "identity_type", "source_ip", "error_message")
    title = "Failed console sign-ins and sign-ins without MFA"
    return Question("failed-logins", title, body, (f.RiskySignIn(),), columns)


def denied() -> Question:
    columns = ("event_time", "actor", "action", "resource", "aws_region", "source_ip", "error_code")
    title = "Denied calls (AccessDenied / UnauthorizedOperation)"
    return Question("denied", title, _EVENTS_BODY, (f.Denied(),), columns, listing=EVENT_COLUMNS)


def deletions() -> Question:
    return Question("deletions", "Delete / Terminate / Remove calls", _EVENTS_BODY, (f.Deletions(),),
                    EVENT_TABLE_COLUMNS, listing=EVENT_COLUMNS)  # fmt: skip


def unusual_regions(expected: tuple[str, ...] = (), min_share: float = 0.01) -> Question:
    """Activity outside EXPECTED regions, or (none named) in regions holding under MIN_SHARE of the events."""
    grouped = """SELECT
  aws_region,
  actor,
  count(*) AS events,
  min(event_time) AS first_seen,
  max(event_time) AS last_seen,
  array_sort(array_distinct(array_agg(action) FILTER (WHERE action IS NOT NULL))) AS actions,
  array_sort(array_distinct(array_agg(source_ip) FILTER (WHERE source_ip IS NOT NULL))) AS source_ips
FROM {source}
GROUP BY aws_region, actor
ORDER BY events, first_seen, aws_region, actor"""
    if expected:
        title = f"Activity outside {', '.join(expected)}"
        return Question(
            "unusual-regions", title, grouped.format(source="matched"), (f.Regions(expected, True),)
        )
    share = float(min_share)
    ctes = (
        "region_counts AS (SELECT aws_region, count(*) AS n FROM matched GROUP BY aws_region),\n"
        "rare AS (\n  SELECT * FROM matched WHERE aws_region IN (\n"
        f"    SELECT aws_region FROM region_counts WHERE n < {share!r} * (SELECT sum(n) FROM region_counts)))"
    )
    title = f"Activity in regions with under {share:.1%} of the events"
    return Question("unusual-regions", title, grouped.format(source="rare"), ctes=ctes)
