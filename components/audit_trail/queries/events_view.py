"""The documented `events` view: its columns, and the Athena (Trino) SELECT producing them from the Glue
table.

Both engines expose the same columns: the local engine flattens records in Python (`investigate.events`), the
Athena engine selects them from the Glue table (`athena_events_select`). Question SQL only ever names these
columns. Pure definitions, shared by the toolkit and the component's named queries.
"""

from __future__ import annotations

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


def _json_path(path: str) -> str:
    return "$." + path


# Athena (Trino) side of the same view, over the Glue table with CloudTrail's schema (see `glue_table`).
ACTOR_SQL = """CASE
    WHEN useridentity.type = 'Root' THEN 'root'
    WHEN useridentity.type = 'AssumedRole' AND useridentity.sessioncontext.sessionissuer.username IS NOT NULL
      AND strpos(useridentity.arn, '/') > 0
      THEN useridentity.sessioncontext.sessionissuer.username || '/'
        || element_at(split(useridentity.arn, '/'), -1)
    WHEN useridentity.type = 'AWSService' THEN useridentity.invokedby
    ELSE coalesce(useridentity.username, useridentity.arn, useridentity.principalid, useridentity.invokedby)
  END"""


# The Glue table's `resources` rows under the record's own key names: a row cast to JSON would be a
# positional array or carry the Glue table's lower-case names, and `$[0].ARN` would find nothing on Athena
# where it works locally. The text may still differ from the record's (key order, `null` for an absent key).
RESOURCES_AS_RECORDED = (
    "transform(resources, r -> MAP(ARRAY['ARN', 'accountId', 'type'], ARRAY[r.arn, r.accountid, r.type]))"
)


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
  CASE WHEN resources IS NOT NULL THEN json_format(CAST({RESOURCES_AS_RECORDED} AS JSON)) END AS resources,
  requestparameters AS request_parameters,
  responseelements AS response_elements,
  CAST(NULL AS varchar) AS raw,
  "$path" AS source_file
FROM {table}
WHERE {where}"""
