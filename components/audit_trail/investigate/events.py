"""The documented `events` view: one flat row per CloudTrail record (who, what, when, where, outcome, raw).

Both engines expose the same columns: the local engine flattens records here in Python (`flatten`), the Athena
engine selects them from the Glue table (`athena_events_select`). Question SQL only ever names these columns.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
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

SERVICE_SUFFIX = ".amazonaws.com"

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
        if not isinstance(value, Mapping):
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
        issuer = (identity.get("sessionContext") or {}).get("sessionIssuer") or {}
        session = _session_name(kind, identity.get("arn"))
        role = issuer.get("userName")
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


def flatten(record: Mapping[str, Any], source_file: str) -> dict[str, Any]:
    """One `events` row of a record (which has at least eventTime, eventSource and eventName)."""
    ident = record.get("userIdentity") or {}
    if not isinstance(ident, Mapping):
        ident = {}
    context = ident.get("sessionContext") or {}
    issuer = (context.get("sessionIssuer") or {}) if isinstance(context, Mapping) else {}
    source = record["eventSource"]
    request = record.get("requestParameters")
    response = record.get("responseElements")
    additional = record.get("additionalEventData")
    read_only = record.get("readOnly")
    return {
        "event_time": record["eventTime"],
        "event_id": record.get("eventID"),
        "event_source": source,
        "event_name": record["eventName"],
        "action": f"{source.split('.', 1)[0]}:{record['eventName']}",
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
        "session_issuer_arn": issuer.get("arn") if isinstance(issuer, Mapping) else None,
        "session_name": _session_name(ident.get("type"), ident.get("arn")),
        "invoked_by": ident.get("invokedBy"),
        "mfa_used": _text(additional.get("MFAUsed")) if isinstance(additional, Mapping) else None,
        "console_login": _text(response.get("ConsoleLogin")) if isinstance(response, Mapping) else None,
        "error_code": record.get("errorCode"),
        "error_message": record.get("errorMessage"),
        # readOnly is a JSON boolean in CloudTrail, a string in some exports.
        "read_only": read_only
        if isinstance(read_only, bool)
        else (None if read_only is None else read_only == "true"),
        "event_type": record.get("eventType"),
        "recipient_account_id": record.get("recipientAccountId"),
        "resource": main_resource(record),
        "resources": _json_text(record.get("resources")),
        "request_parameters": _json_text(request),
        "response_elements": _json_text(response),
        "raw": record,
        "source_file": source_file,
    }


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
