"""The Athena engine: the same questions over the Glue table of the trail's bucket (start, poll, fetch).

Also the table's shape (CloudTrail's record schema, partition projection on account/region/date) and the named
queries, which the component's `athena` option creates; pure functions, so they are tested without AWS.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from datetime import UTC
from typing import Any

from ..errors import UserError
from . import questions as q
from .events import athena_events_select
from .filters import Filter, sql_list, sql_str, where_sql
from .local import Answer, iso_time, window_filters
from .sources import DELIVERY_SLACK, Window

DEFAULT_DATABASE = "audit_trail"
DEFAULT_TABLE = "cloudtrail_logs"
DEFAULT_WORKGROUP = "audit-trail"

# CloudTrail's record schema as the Athena documentation's CloudTrail table declares it (lower-case names).
_IDENTITY = (
    "struct<type:string,principalid:string,arn:string,accountid:string,invokedby:string,accesskeyid:string,"
    "username:string,onbehalfof:struct<userid:string,identitystorearn:string>,"
    "sessioncontext:struct<attributes:struct<mfaauthenticated:string,creationdate:string>,"
    "sessionissuer:struct<type:string,principalid:string,arn:string,accountid:string,username:string>,"
    "ec2roledelivery:string,webidfederationdata:struct<federatedprovider:string,attributes:map<string,string>>>>"
)
TABLE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("eventversion", "string"),
    ("useridentity", _IDENTITY),
    ("eventtime", "string"),
    ("eventsource", "string"),
    ("eventname", "string"),
    ("awsregion", "string"),
    ("sourceipaddress", "string"),
    ("useragent", "string"),
    ("errorcode", "string"),
    ("errormessage", "string"),
    ("requestparameters", "string"),
    ("responseelements", "string"),
    ("additionaleventdata", "string"),
    ("requestid", "string"),
    ("eventid", "string"),
    ("readonly", "string"),
    ("resources", "array<struct<arn:string,accountid:string,type:string>>"),
    ("eventtype", "string"),
    ("apiversion", "string"),
    ("recipientaccountid", "string"),
    ("serviceeventdetails", "string"),
    ("sharedeventid", "string"),
    ("vpcendpointid", "string"),
    ("vpcendpointaccountid", "string"),
    ("eventcategory", "string"),
    (
        "addendum",
        "struct<reason:string,updatedfields:string,originalrequestid:string,originaleventid:string>",
    ),
    ("sessioncredentialfromconsole", "string"),
    ("edgedevicedetails", "string"),
    ("tlsdetails", "struct<tlsversion:string,ciphersuite:string,clientprovidedhostheader:string>"),
)
PARTITION_KEYS: tuple[tuple[str, str], ...] = (
    ("account", "string"),
    ("region", "string"),
    ("date", "string"),
)
SERDE = "org.apache.hive.hcatalog.data.JsonSerDe"
INPUT_FORMAT = "com.amazon.emr.cloudtrail.CloudTrailInputFormat"
OUTPUT_FORMAT = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"
_DATE_FORMAT = "%Y/%m/%d"


def logs_root(bucket: str, prefix: str = "") -> str:
    """`s3://bucket/[prefix/]AWSLogs/`: the table's location."""
    return f"s3://{bucket}/{prefix.strip('/') + '/' if prefix.strip('/') else ''}AWSLogs/"


def projection_parameters(
    bucket: str, prefix: str, accounts: Sequence[str], regions: Sequence[str], start: str = "NOW-7YEARS"
) -> dict[str, str]:
    """Glue table parameters: partition projection over the trail's key layout (no crawler, no MSCK REPAIR).

    START is the first projected day (`yyyy/MM/dd` or relative, e.g. `NOW-7YEARS`); queries name their days.
    """
    return {
        "EXTERNAL": "TRUE",
        "classification": "cloudtrail",
        "projection.enabled": "true",
        "projection.account.type": "enum",
        "projection.account.values": ",".join(accounts),
        "projection.region.type": "enum",
        "projection.region.values": ",".join(regions),
        "projection.date.type": "date",
        "projection.date.format": "yyyy/MM/dd",
        "projection.date.range": f"{start},NOW",
        "projection.date.interval": "1",
        "projection.date.interval.unit": "DAYS",
        "storage.location.template": logs_root(bucket, prefix) + "${account}/CloudTrail/${region}/${date}",
    }


def partition_where(window: Window) -> str:
    """Partition predicates for the window, so Athena reads only the folders the local engine would."""
    parts = []
    if window.since:
        parts.append(f'"date" >= {sql_str(window.since.astimezone(UTC).strftime(_DATE_FORMAT))}')
    if window.until:
        last = (window.until.astimezone(UTC) + DELIVERY_SLACK).strftime(_DATE_FORMAT)
        parts.append(f'"date" <= {sql_str(last)}')
    if window.regions is not None:
        parts.append(f"region IN {sql_list(sorted(window.regions))}")
    if window.accounts is not None:
        parts.append(f"account IN {sql_list(sorted(window.accounts))}")
    return " AND ".join(parts) or "true"


def _with_events(table: str, partitions: str, where: str = "true") -> str:
    select = athena_events_select(table, partitions)
    if where != "true":
        select = f"SELECT * FROM (\n{select}\n) WHERE {where}"
    return "WITH events AS (\n  " + select.replace("\n", "\n  ") + "\n)"


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


def _placeholders(sql: str) -> str:
    return sql.replace(sql_str(_PARAM), "?")


def named_queries(table: str = DEFAULT_TABLE) -> dict[str, tuple[str, str]]:
    """{question: (description, SQL)}: the canned questions over the last 30 days, `?` where a value goes."""
    recent = f"\"date\" >= date_format(current_date - interval '{NAMED_QUERY_DAYS}' day, '%Y/%m/%d')"
    head = _with_events(table, recent)
    canned: dict[str, tuple[q.Question, str]] = {
        "who-changed": (q.who_changed(_PARAM), "Who changed a resource (? = ARN or id, e.g. sg-0123...)"),
        "activity": (q.activity(_PARAM), "Everything an actor did (? = ARN, user, access key id or session)"),
        "root-usage": (q.root_usage(), "Root user activity"),
        "failed-logins": (q.failed_logins(), "Failed console sign-ins and IAM user sign-ins without MFA"),
        "denied": (q.denied(), "AccessDenied / UnauthorizedOperation calls"),
        "unusual-regions": (q.unusual_regions(), "Activity in regions with under 1% of the events"),
        "deletions": (q.deletions(), "Delete*/Terminate*/Remove* calls"),
    }
    return {
        name: (f"{text} — last {NAMED_QUERY_DAYS} days", _placeholders(f"{head},\n{question.sql()}"))
        for name, (question, text) in canned.items()
    }


# --- running a query: start, poll, fetch ---


def _value(kind: str, cell: dict[str, Any]) -> Any:
    if "VarCharValue" not in cell:
        return None
    text = cell["VarCharValue"]
    if kind in ("tinyint", "smallint", "integer", "bigint"):
        return int(text)
    if kind in ("double", "float", "real", "decimal"):
        return float(text)
    if kind == "boolean":
        return text == "true"
    if kind.startswith("timestamp"):
        return iso_time(text)
    return text


def run_query(
    sql: str,
    *,
    database: str = DEFAULT_DATABASE,
    workgroup: str = DEFAULT_WORKGROUP,
    client: Any = None,
    timeout: float = 600.0,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[list[str], list[dict[str, Any]]]:
    """Run SQL on Athena and return (columns, rows), typed by the result metadata."""
    if client is None:
        import boto3  # type: ignore[import-untyped]

        client = boto3.client("athena")
    qid = client.start_query_execution(
        QueryString=sql, QueryExecutionContext={"Database": database}, WorkGroup=workgroup
    )["QueryExecutionId"]
    deadline = time.monotonic() + timeout
    delay = 0.25
    while True:
        status = client.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]
        state = status["State"]
        if state == "SUCCEEDED":
            break
        if state in ("FAILED", "CANCELLED"):
            reason = status.get("StateChangeReason", "no reason given")
            raise UserError(f"Athena query {qid} {state.lower()}: {reason}")
        if time.monotonic() > deadline:
            client.stop_query_execution(QueryExecutionId=qid)
            raise UserError(f"Athena query {qid} still {state.lower()} after {timeout:.0f}s; stopped it.")
        sleep(delay)
        delay = min(delay * 2, 5.0)
    columns: list[str] = []
    kinds: list[str] = []
    rows: list[dict[str, Any]] = []
    first = True
    for page in client.get_paginator("get_query_results").paginate(QueryExecutionId=qid):
        info = page["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]
        if not columns:
            columns = [c["Name"] for c in info]
            kinds = [c["Type"].lower() for c in info]
        data = page["ResultSet"]["Rows"]
        if first:  # the first row of a SELECT's results repeats the column names
            data = data[1:]
            first = False
        rows.extend(
            {c: _value(k, cell) for c, k, cell in zip(columns, kinds, r["Data"], strict=True)} for r in data
        )
    return columns, rows


def answer(
    question: q.Question | None,
    window: Window,
    *,
    sql: str | None = None,
    row_filters: Sequence[Filter] = (),
    database: str = DEFAULT_DATABASE,
    table: str = DEFAULT_TABLE,
    workgroup: str = DEFAULT_WORKGROUP,
    client: Any = None,
) -> Answer:
    """Answer a question (or raw SQL over `events`) on Athena; same rows as the local engine."""
    if question is not None:
        text = question_sql(question, window, table)
    else:
        text = raw_sql(sql or "SELECT * FROM events", window, row_filters, table)
    columns, rows = run_query(text, database=database, workgroup=workgroup, client=client)
    return Answer(columns, rows)
