"""The Athena side of every question: the shared question SQL over the Glue table, as Athena runs it.

`question_sql` and `raw_sql` are what the CLI's `--engine athena` sends; `named_queries` are saved in the
workgroup by the component's `athena` option. Pure functions: tested without AWS, and parsed as Trino SQL.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC

from ..window import DELIVERY_DELAY, Window
from . import questions as q
from .events_view import COLUMN_NAMES, athena_events_select
from .filters import Filter, sql_list, sql_str, where_sql, window_filters
from .glue_table import DEFAULT_TABLE

_DATE_FORMAT = "%Y/%m/%d"


def partition_where(window: Window) -> str:
    """Partition predicates for the window, so Athena reads only the folders the local engine would."""
    parts = []
    if window.since:
        parts.append(f'"date" >= {sql_str(window.since.astimezone(UTC).strftime(_DATE_FORMAT))}')
    if window.until:
        last = (window.until.astimezone(UTC) + DELIVERY_DELAY).strftime(_DATE_FORMAT)
        parts.append(f'"date" <= {sql_str(last)}')
    if window.regions is not None:
        parts.append(f"region IN {sql_list(sorted(window.regions))}")
    if window.accounts is not None:
        parts.append(f"account IN {sql_list(sorted(window.accounts))}")
    return " AND ".join(parts) or "true"


# CloudTrail delivers at least once: a re-delivered event has the same eventID and the same content. The local
# engine compares whole records; Athena compares what identifies one (the view has no raw record there).
_SAME_EVENT = ("event_id", "event_time", "action", "principal_arn", "request_parameters", "response_elements",
               "error_code")  # fmt: skip


def _with_events(table: str, partitions: str, where: str = "true") -> str:
    select = athena_events_select(table, partitions)
    once = (
        f"SELECT {', '.join(COLUMN_NAMES)} FROM (\n  SELECT *, row_number() OVER (PARTITION BY "
        f"{', '.join(_SAME_EVENT)} ORDER BY source_file) AS delivery\n  FROM (\n{select}\n  )\n) "
        "WHERE delivery = 1"
    )
    if where != "true":
        once = f"SELECT * FROM (\n{once}\n) WHERE {where}"
    return "WITH events AS (\n  " + once.replace("\n", "\n  ") + "\n)"


def question_sql(question: q.Question, window: Window, table: str = DEFAULT_TABLE) -> str:
    """The full Athena query of a question: the shared question SQL over the Athena `events` CTE."""
    question = question.with_filters(*window_filters(window))
    return f"{_with_events(table, partition_where(window))},\n{question.sql()}"


def raw_sql(sql: str, window: Window, row_filters: Sequence[Filter] = (), table: str = DEFAULT_TABLE) -> str:
    """A user's SQL over `events` (window and filters applied to the view), as an Athena query."""
    head = _with_events(table, partition_where(window), where_sql((*window_filters(window), *row_filters)))
    body = sql.strip().rstrip(";")
    if re.match(r"(?is)with\s", body):
        return f"{head},\n{body[4:].lstrip()}"
    return f"{head}\n{body}"


# --- named queries (one per canned question) ---

_PARAM = "\x00param\x00"
NAMED_QUERY_DAYS = 30


def _placeholders(sql: str, parameter: str = "?") -> str:
    return sql.replace(sql_str(_PARAM), parameter)


def named_queries(table: str = DEFAULT_TABLE) -> dict[str, tuple[str, str]]:
    """{question: (description, SQL)}: the canned questions over the last 30 days, `?` where a value goes."""
    recent = f"\"date\" >= date_format(current_date - interval '{NAMED_QUERY_DAYS}' day, '%Y/%m/%d')"
    head = _with_events(table, recent)
    # The console's `?` is plain text: the resource as a substring (an ARN is not taken apart), the actor in
    # any case but without globs (the CLI's matching needs the value before the SQL is written).
    canned: dict[str, tuple[q.Question, str]] = {
        "who-changed": (
            q.who_changed(_PARAM),
            "Who changed a resource (? = id or name, e.g. sg-0123..., as text)",
        ),
        "activity": (
            q.activity(_PARAM),
            "Everything an actor did (? = user, role or session name, ARN, key id)",
        ),
        "root-usage": (q.root_usage(), "Root user activity"),
        "failed-logins": (q.failed_logins(), "Failed console sign-ins and IAM user sign-ins without MFA"),
        "denied": (q.denied(), "AccessDenied / UnauthorizedOperation calls"),
        "unusual-regions": (q.unusual_regions(), "Activity in regions with under 1% of the events"),
        "deletions": (q.deletions(), "Delete*/Terminate*/Remove* calls"),
    }
    parameters = {"activity": "lower(?)"}  # the actor is compared lower-cased
    return {
        name: (
            f"{text} — last {NAMED_QUERY_DAYS} days",
            _placeholders(f"{head},\n{question.sql()}", parameters.get(name, "?")),
        )
        for name, (question, text) in canned.items()
    }
