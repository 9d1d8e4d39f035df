"""The documented `events` view: one flat row per CloudTrail record (who, what, when, where, outcome, raw).

Both engines expose the same columns: the local engine flattens records here in Python (`flatten`), the Athena
engine selects them from the Glue table (`athena_events_select`). Question SQL only ever names these columns.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import orjson

# (column, DuckDB type, meaning) — the `events` view users query with `--sql`, documented in the README.
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("event_time", "TIMESTAMP", "when (UTC)"),
    ("event_id", "VARCHAR", "CloudTrail eventID"),
    ("event_source", "VARCHAR", "service endpoint, e.g. ec2.amazonaws.com"),
    ("event_name", "VARCHAR", "API action, e.g. AuthorizeSecurityGroupIngress"),
    ("action", "VARCHAR", "service:action, e.g. ec2:AuthorizeSecurityGroupIngress"),
    ("aws_region", "VARCHAR", "region the call was made in"),
    ("source_ip", "VARCHAR", "caller IP address (or service name)"),
    ("user_agent", "VARCHAR", "caller user agent"),
    ("identity_type", "VARCHAR", "IAMUser, AssumedRole, Root, AWSService, FederatedUser, ..."),
    ("actor", "VARCHAR", "readable who: user name, role/session, root, or the calling service"),
    ("principal_arn", "VARCHAR", "userIdentity.arn"),
    ("account_id", "VARCHAR", "userIdentity.accountId"),
    ("principal_id", "VARCHAR", "userIdentity.principalId"),
    ("user_name", "VARCHAR", "userIdentity.userName"),
    ("access_key_id", "VARCHAR", "userIdentity.accessKeyId"),
    ("session_issuer_arn", "VARCHAR", "role (or user) that issued the session"),
    ("session_name", "VARCHAR", "role session name of an assumed role"),
    ("invoked_by", "VARCHAR", "AWS service that made the call on the principal's behalf"),
    ("mfa_used", "VARCHAR", "console sign-in: additionalEventData.MFAUsed (Yes/No)"),
    ("console_login", "VARCHAR", "console sign-in: responseElements.ConsoleLogin (Success/Failure)"),
    ("error_code", "VARCHAR", "outcome: error code, NULL when the call succeeded"),
    ("error_message", "VARCHAR", "outcome: error message"),
    ("read_only", "BOOLEAN", "true for read-only calls"),
    ("event_type", "VARCHAR", "AwsApiCall, AwsConsoleSignIn, AwsServiceEvent, ..."),
    ("recipient_account_id", "VARCHAR", "account the event was delivered to"),
    ("resource", "VARCHAR", "main resource touched: first resources ARN or a well-known request parameter"),
    ("resources", "VARCHAR", "resources (JSON text)"),
    ("request_parameters", "VARCHAR", "requestParameters (JSON text)"),
    ("response_elements", "VARCHAR", "responseElements (JSON text)"),
    ("raw", "JSON", "the whole record (NULL on Athena)"),
    ("source_file", "VARCHAR", "log file the record came from"),
)
COLUMN_NAMES: tuple[str, ...] = tuple(name for name, _, _ in COLUMNS)
_COLUMN_SET = frozenset(COLUMN_NAMES)

# Where the main resource of a call sits, first match wins: ids in the request, then the id a Create* call
# returns, then names in the request. (JSON document, path); shared with the Athena SQL.
RESOURCE_PATHS: tuple[tuple[str, str], ...] = (
    *(
        ("requestParameters", p)
        for p in (
            "groupId",
            "bucketName",
            "instancesSet.items[0].instanceId",
            "instanceId",
            "keyId",
            "secretId",
        )
    ),
    *(("responseElements", p) for p in ("groupId", "instancesSet.items[0].instanceId")),
    *(
        ("requestParameters", p)
        for p in (
            "roleName",
            "userName",
            "groupName",
            "policyArn",
            "functionName",
            "trailName",
            "name",
            "dBInstanceIdentifier",
            "tableName",
            "topicArn",
            "queueUrl",
            "roleArn",
        )
    ),
)
_PATH_STEP = re.compile(r"([A-Za-z0-9_]+)(?:\[(\d+)\])?")


def _steps(path: str) -> tuple[tuple[str, int | None], ...]:
    """`a.b[0].c` -> (("a", None), ("b", 0), ("c", None)), parsed once."""
    out = []
    for part in path.split("."):
        m = _PATH_STEP.fullmatch(part)
        assert m is not None, path
        out.append((m.group(1), None if m.group(2) is None else int(m.group(2))))
    return tuple(out)


_RESOURCE_STEPS = tuple((document, _steps(path)) for document, path in RESOURCE_PATHS)


def _at_path(value: Any, steps: tuple[tuple[str, int | None], ...]) -> Any:
    for key, index in steps:
        # `type is dict` first: parsed records are plain dicts, and the ABC check is slow on every miss
        if type(value) is not dict and not isinstance(value, Mapping):
            return None
        value = value.get(key)
        if index is not None:
            if not isinstance(value, list) or len(value) <= index:
                return None
            value = value[index]
    return value


def main_resource(record: Mapping[str, Any]) -> str | None:
    resources = record.get("resources")
    if isinstance(resources, list) and resources and isinstance(resources[0], Mapping):
        arn = resources[0].get("ARN") or resources[0].get("arn")
        if isinstance(arn, str):
            return arn
    for document, steps in _RESOURCE_STEPS:
        value = _at_path(record.get(document), steps)
        if isinstance(value, str):
            return value
    return None


def _session_name(identity_type: str | None, arn: str | None) -> str | None:
    if identity_type == "AssumedRole" and arn and "/" in arn:
        return arn.rsplit("/", 1)[1]
    return None


def actor_of(identity: Mapping[str, Any]) -> str | None:
    """Readable who. The Athena SQL (`ACTOR_SQL`) computes the same."""
    kind = identity.get("type")
    if kind == "Root":
        return "root"
    if kind == "AssumedRole":
        context = identity.get("sessionContext")
        issuer = context.get("sessionIssuer") if isinstance(context, Mapping) else None
        session = _session_name(kind, identity.get("arn"))
        role = issuer.get("userName") if isinstance(issuer, Mapping) else None
        if role and session:
            return f"{role}/{session}"
    if kind == "AWSService":
        return identity.get("invokedBy")
    return (
        identity.get("userName")
        or identity.get("arn")
        or identity.get("principalId")
        or identity.get("invokedBy")
    )


def _json_text(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return _json_text(value)


def _identity(record: Mapping[str, Any]) -> Mapping[str, Any]:
    ident = record.get("userIdentity") or {}
    return ident if isinstance(ident, Mapping) else {}


def _issuer_arn(ident: Mapping[str, Any]) -> Any:
    context = ident.get("sessionContext") or {}
    issuer = (context.get("sessionIssuer") or {}) if isinstance(context, Mapping) else {}
    return issuer.get("arn") if isinstance(issuer, Mapping) else None


def _action(record: Mapping[str, Any]) -> str:
    return f"{record['eventSource'].split('.', 1)[0]}:{record['eventName']}"


def _read_only(value: Any) -> bool | None:
    # readOnly is a JSON boolean in CloudTrail, a string in some exports.
    return value if isinstance(value, bool) else (None if value is None else value == "true")


def flatten(record: Mapping[str, Any], source_file: str) -> dict[str, Any]:
    """One `events` row of a record (which has at least eventTime, eventSource and eventName)."""
    ident = _identity(record)
    request = record.get("requestParameters")
    response = record.get("responseElements")
    additional = record.get("additionalEventData")
    return {
        "event_time": record["eventTime"],
        "event_id": record.get("eventID"),
        "event_source": record["eventSource"],
        "event_name": record["eventName"],
        "action": _action(record),
        "aws_region": record.get("awsRegion"),
        "source_ip": record.get("sourceIPAddress"),
        "user_agent": record.get("userAgent"),
        "identity_type": ident.get("type"),
        "actor": actor_of(ident),
        "principal_arn": ident.get("arn"),
        "account_id": ident.get("accountId"),
        "principal_id": ident.get("principalId"),
        "user_name": ident.get("userName"),
        "access_key_id": ident.get("accessKeyId"),
        "session_issuer_arn": _issuer_arn(ident),
        "session_name": _session_name(ident.get("type"), ident.get("arn")),
        "invoked_by": ident.get("invokedBy"),
        "mfa_used": _text(additional.get("MFAUsed")) if isinstance(additional, Mapping) else None,
        "console_login": _text(response.get("ConsoleLogin")) if isinstance(response, Mapping) else None,
        "error_code": record.get("errorCode"),
        "error_message": record.get("errorMessage"),
        "read_only": _read_only(record.get("readOnly")),
        "event_type": record.get("eventType"),
        "recipient_account_id": record.get("recipientAccountId"),
        "resource": main_resource(record),
        "resources": _json_text(record.get("resources")),
        "request_parameters": _json_text(request),
        "response_elements": _json_text(response),
        "raw": record,
        "source_file": source_file,
    }


# The columns an EventRow reads straight from the record, without building the whole row: what the
# window and actor filters, the hunt's hit rows and the session timeline ask of every record.
_CHEAP: dict[str, Callable[[Mapping[str, Any]], Any]] = {
    "event_time": lambda r: r["eventTime"],
    "event_id": lambda r: r.get("eventID"),
    "event_source": lambda r: r["eventSource"],
    "event_name": lambda r: r["eventName"],
    "action": _action,
    "aws_region": lambda r: r.get("awsRegion"),
    "source_ip": lambda r: r.get("sourceIPAddress"),
    "user_agent": lambda r: r.get("userAgent"),
    "identity_type": lambda r: _identity(r).get("type"),
    "actor": lambda r: actor_of(_identity(r)),
    "principal_arn": lambda r: _identity(r).get("arn"),
    "account_id": lambda r: _identity(r).get("accountId"),
    "principal_id": lambda r: _identity(r).get("principalId"),
    "user_name": lambda r: _identity(r).get("userName"),
    "access_key_id": lambda r: _identity(r).get("accessKeyId"),
    "session_issuer_arn": lambda r: _issuer_arn(_identity(r)),
    "session_name": lambda r: _session_name(_identity(r).get("type"), _identity(r).get("arn")),
    "invoked_by": lambda r: _identity(r).get("invokedBy"),
    "error_code": lambda r: r.get("errorCode"),
    "error_message": lambda r: r.get("errorMessage"),
    "read_only": lambda r: _read_only(r.get("readOnly")),
    "event_type": lambda r: r.get("eventType"),
    "recipient_account_id": lambda r: r.get("recipientAccountId"),
    "raw": lambda r: r,
}


class EventRow(Mapping[str, Any]):
    """The `events` row of a record, read column by column: filters and row mappers that look at a few
    columns of every record (a hunt, the window) do not pay for the whole row; `flatten` runs only when a
    column needs it (the JSON texts, the main resource) or the row is kept whole (`full`)."""

    __slots__ = ("_full", "record", "source_file")

    def __init__(self, record: Mapping[str, Any], source_file: str) -> None:
        self.record = record
        self.source_file = source_file
        self._full: dict[str, Any] | None = None

    def full(self) -> dict[str, Any]:
        if self._full is None:
            self._full = flatten(self.record, self.source_file)
        return self._full

    def __getitem__(self, column: str) -> Any:
        if self._full is None:
            cheap = _CHEAP.get(column)
            if cheap is not None:
                return cheap(self.record)
        return self.full()[column]

    def get(self, column: str, default: Any = None) -> Any:
        return self[column] if column in _COLUMN_SET else default

    def __iter__(self) -> Iterator[str]:
        return iter(COLUMN_NAMES)

    def __len__(self) -> int:
        return len(COLUMN_NAMES)


def _json_path(path: str) -> str:
    return "$." + path


# Athena (Trino) side of the same view, over the Glue table with CloudTrail's schema (see athena_resources).
ACTOR_SQL = """CASE
    WHEN useridentity.type = 'Root' THEN 'root'
    WHEN useridentity.type = 'AssumedRole' AND useridentity.sessioncontext.sessionissuer.username IS NOT NULL
      AND strpos(useridentity.arn, '/') > 0
      THEN useridentity.sessioncontext.sessionissuer.username || '/'
        || element_at(split(useridentity.arn, '/'), -1)
    WHEN useridentity.type = 'AWSService' THEN useridentity.invokedby
    ELSE coalesce(useridentity.username, useridentity.arn, useridentity.principalid, useridentity.invokedby)
  END"""


def athena_events_select(table: str, where: str) -> str:
    """SELECT producing the `events` columns from the CloudTrail Glue table (Trino SQL)."""
    resource_params = ", ".join(
        f"json_extract_scalar({doc.lower()}, '{_json_path(p)}')" for doc, p in RESOURCE_PATHS
    )
    return f"""SELECT
  CAST(from_iso8601_timestamp(eventtime) AS timestamp) AS event_time,
  eventid AS event_id,
  eventsource AS event_source,
  eventname AS event_name,
  split_part(eventsource, '.', 1) || ':' || eventname AS action,
  awsregion AS aws_region,
  sourceipaddress AS source_ip,
  useragent AS user_agent,
  useridentity.type AS identity_type,
  {ACTOR_SQL} AS actor,
  useridentity.arn AS principal_arn,
  useridentity.accountid AS account_id,
  useridentity.principalid AS principal_id,
  useridentity.username AS user_name,
  useridentity.accesskeyid AS access_key_id,
  useridentity.sessioncontext.sessionissuer.arn AS session_issuer_arn,
  CASE WHEN useridentity.type = 'AssumedRole' AND strpos(useridentity.arn, '/') > 0
    THEN element_at(split(useridentity.arn, '/'), -1) END AS session_name,
  useridentity.invokedby AS invoked_by,
  json_extract_scalar(additionaleventdata, '$.MFAUsed') AS mfa_used,
  json_extract_scalar(responseelements, '$.ConsoleLogin') AS console_login,
  errorcode AS error_code,
  errormessage AS error_message,
  CASE readonly WHEN 'true' THEN true WHEN 'false' THEN false END AS read_only,
  eventtype AS event_type,
  recipientaccountid AS recipient_account_id,
  coalesce(CASE WHEN cardinality(resources) > 0 THEN resources[1].arn END, {resource_params}) AS resource,
  CASE WHEN resources IS NOT NULL THEN json_format(CAST(resources AS JSON)) END AS resources,
  requestparameters AS request_parameters,
  responseelements AS response_elements,
  CAST(NULL AS varchar) AS raw,
  "$path" AS source_file
FROM {table}
WHERE {where}"""
