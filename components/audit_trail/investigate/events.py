"""The local engine's side of the `events` view: one flat row per CloudTrail record, built in Python.

The columns are defined in `queries.events_view` (the Athena engine selects the same ones from the Glue
table).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any, TypeGuard

import orjson

from .. import json_text
from ..queries.events_view import COLUMN_NAMES, RESOURCE_PATHS
from ..times import instant_key, iso_time
from .json_path import at_path, parse_path

_RESOURCE_STEPS = tuple((document, parse_path(path)) for document, path in RESOURCE_PATHS)
_RESOURCE_DOCUMENTS = tuple(dict.fromkeys(document for document, _ in RESOURCE_PATHS))
_COLUMN_SET = frozenset(COLUMN_NAMES)


def main_resource(record: Mapping[str, Any]) -> str | None:
    resources = record.get("resources")
    if isinstance(resources, list) and resources and _is_map(resources[0]):
        arn = resources[0].get("ARN") or resources[0].get("arn")
        if isinstance(arn, str):
            return arn
    documents = {document: record.get(document) for document in _RESOURCE_DOCUMENTS}
    if not any(documents.values()):
        return None
    for document, steps in _RESOURCE_STEPS:
        holder = documents[document]
        if holder is None or (type(holder) is dict and steps[0][0] not in holder):
            continue  # most records name none of the paths: skip the walk
        value = at_path(holder, steps)
        if isinstance(value, str):
            return value
    return None


def _str(value: Any) -> str | None:
    """A text field as text: records are attacker-written, so any field may hold any JSON type; a value that
    is not text becomes its JSON text (a column of the view is VARCHAR whatever the record holds)."""
    if value is None or type(value) is str:
        return value
    return _json_text(value)


def _session_name(identity_type: Any, arn: Any) -> str | None:
    if identity_type == "AssumedRole" and isinstance(arn, str) and "/" in arn:
        return arn.rsplit("/", 1)[1]
    return None


def actor_of(identity: Mapping[str, Any]) -> str | None:
    """Readable who. The Athena SQL (`ACTOR_SQL`) computes the same."""
    kind = identity.get("type")
    if kind == "Root":
        return "root"
    if kind == "AssumedRole":
        context = identity.get("sessionContext")
        issuer = context.get("sessionIssuer") if _is_map(context) else None
        session = _session_name(kind, identity.get("arn"))
        role = issuer.get("userName") if _is_map(issuer) else None
        if isinstance(role, str) and role and session:
            return f"{role}/{session}"
    if kind == "AWSService":
        return _str(identity.get("invokedBy"))
    return _str(
        identity.get("userName")
        or identity.get("arn")
        or identity.get("principalId")
        or identity.get("invokedBy")
    )


def _json_text(value: Any) -> str | None:
    return None if value is None else json_text.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def _is_map(value: Any) -> TypeGuard[Mapping[str, Any]]:
    # `type is dict` first: parsed records are plain dicts, and the ABC check costs a microsecond a call
    return type(value) is dict or isinstance(value, Mapping)


def _identity(record: Mapping[str, Any]) -> Mapping[str, Any]:
    ident = record.get("userIdentity") or {}
    return ident if _is_map(ident) else {}


def _issuer_arn(ident: Mapping[str, Any]) -> str | None:
    context = ident.get("sessionContext") or {}
    issuer = (context.get("sessionIssuer") or {}) if _is_map(context) else {}
    return _str(issuer.get("arn")) if _is_map(issuer) else None


def _action(record: Mapping[str, Any]) -> str:
    return f"{record['eventSource'].split('.', 1)[0]}:{record['eventName']}"


def _read_only(value: Any) -> bool | None:
    # readOnly is a JSON boolean in CloudTrail, a string in some exports.
    return value if isinstance(value, bool) else (None if value is None else value == "true")


def event_time_text(moment: datetime) -> str:
    """An event's instant as the view holds it: `2026-03-02T09:12:00Z`, fractions of a second kept."""
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{moment.microsecond:06d}Z" if moment.microsecond else f"{text}Z"


_WHOLE_SECOND = re.compile(r"[1-9]\d{3}-\d\d-\d\dT\d\d:\d\d:\d\dZ", re.ASCII)


def whole_second_text(record: Mapping[str, Any]) -> str | None:
    """The record's eventTime when it is in CloudTrail's own form, whole seconds in UTC: then every way of
    writing its instant (`event_time_text`, `times.iso_time`) gives that text back, and it need not be
    written again (strftime costs more than the rest of a hunt's hit row)."""
    text = record.get("eventTime")
    return text if type(text) is str and _WHOLE_SECOND.fullmatch(text) else None


def _event_time(record: Mapping[str, Any], moment: datetime | None) -> str:
    if moment is None:
        return record["eventTime"]
    return whole_second_text(record) or event_time_text(moment)


def flatten(record: Mapping[str, Any], source_file: str, moment: datetime | None = None) -> dict[str, Any]:
    """One `events` row of a record (which has at least eventTime, eventSource and eventName); MOMENT is its
    eventTime as an instant, parsed once by the scanner (else the record's own text is kept).

    Written out column by column, like `_CHEAP` below rather than built from it: a row built from those
    getters takes half as long again. A test checks that the two read every column alike."""
    ident = _identity(record)
    request = record.get("requestParameters")
    response = record.get("responseElements")
    additional = record.get("additionalEventData")
    return {
        "event_time": _event_time(record, moment),
        "event_id": _str(record.get("eventID")),
        "event_source": record["eventSource"],
        "event_name": record["eventName"],
        "action": _action(record),
        "aws_region": _str(record.get("awsRegion")),
        "source_ip": _str(record.get("sourceIPAddress")),
        "user_agent": _str(record.get("userAgent")),
        "identity_type": _str(ident.get("type")),
        "actor": actor_of(ident),
        "principal_arn": _str(ident.get("arn")),
        "account_id": _str(ident.get("accountId")),
        "principal_id": _str(ident.get("principalId")),
        "user_name": _str(ident.get("userName")),
        "access_key_id": _str(ident.get("accessKeyId")),
        "session_issuer_arn": _issuer_arn(ident),
        "session_name": _session_name(ident.get("type"), ident.get("arn")),
        "invoked_by": _str(ident.get("invokedBy")),
        "mfa_used": _str(additional.get("MFAUsed")) if isinstance(additional, Mapping) else None,
        "console_login": _str(response.get("ConsoleLogin")) if isinstance(response, Mapping) else None,
        "error_code": _str(record.get("errorCode")),
        "error_message": _str(record.get("errorMessage")),
        "read_only": _read_only(record.get("readOnly")),
        "event_type": _str(record.get("eventType")),
        "recipient_account_id": _str(record.get("recipientAccountId")),
        "resource": main_resource(record),
        "resources": _json_text(record.get("resources")),
        "request_parameters": _json_text(request),
        "response_elements": _json_text(response),
        "raw": record,
        "source_file": source_file,
    }


def listed_time(record: Mapping[str, Any], row: EventRow) -> Any:
    """A listing's `event_time` (as the SQL engines give it): the record's own text in CloudTrail's form,
    else its instant written in ISO 8601."""
    moment = row.moment
    if moment is None:
        return row["event_time"]
    return whole_second_text(record) or iso_time(moment)


def event_listing(record: Mapping[str, Any], row: EventRow) -> dict[str, Any]:
    """The list questions' row (`EVENT_COLUMNS`) of a record, written out column by column as `flatten` is:
    a broad answer builds one for every event it keeps, and reading the columns through their getters
    (`listing.Columns` does for other columns) costs two thirds as much again. A test checks the two agree."""
    identity = _identity(record)
    return {
        "event_time": listed_time(record, row),
        "actor": actor_of(identity),
        "identity_type": _str(identity.get("type")),
        "principal_arn": _str(identity.get("arn")),
        "session_issuer_arn": _issuer_arn(identity),
        "action": _action(record),
        "resource": main_resource(record),
        "aws_region": _str(record.get("awsRegion")),
        "source_ip": _str(record.get("sourceIPAddress")),
        "user_agent": _str(record.get("userAgent")),
        "error_code": _str(record.get("errorCode")),
        "error_message": _str(record.get("errorMessage")),
        "request_parameters": record.get("requestParameters"),
        "response_elements": record.get("responseElements"),
        "event_id": _str(record.get("eventID")),
    }


Getter = Callable[[Mapping[str, Any], Mapping[str, Any]], Any]
"""A column read from (record, its userIdentity)."""


# The columns an EventRow reads straight from the record (and its userIdentity, found once), without building
# the whole row: what the filters, the listings, the hunt's hit rows and the session timeline ask of records.
_CHEAP: dict[str, Getter] = {
    "event_id": lambda r, i: _str(r.get("eventID")),
    "event_source": lambda r, i: r["eventSource"],
    "event_name": lambda r, i: r["eventName"],
    "action": lambda r, i: _action(r),
    "aws_region": lambda r, i: _str(r.get("awsRegion")),
    "source_ip": lambda r, i: _str(r.get("sourceIPAddress")),
    "user_agent": lambda r, i: _str(r.get("userAgent")),
    "identity_type": lambda r, i: _str(i.get("type")),
    "actor": lambda r, i: actor_of(i),
    "principal_arn": lambda r, i: _str(i.get("arn")),
    "account_id": lambda r, i: _str(i.get("accountId")),
    "principal_id": lambda r, i: _str(i.get("principalId")),
    "user_name": lambda r, i: _str(i.get("userName")),
    "access_key_id": lambda r, i: _str(i.get("accessKeyId")),
    "session_issuer_arn": lambda r, i: _issuer_arn(i),
    "session_name": lambda r, i: _session_name(i.get("type"), i.get("arn")),
    "invoked_by": lambda r, i: _str(i.get("invokedBy")),
    "error_code": lambda r, i: _str(r.get("errorCode")),
    "error_message": lambda r, i: _str(r.get("errorMessage")),
    "read_only": lambda r, i: _read_only(r.get("readOnly")),
    "event_type": lambda r, i: _str(r.get("eventType")),
    "recipient_account_id": lambda r, i: _str(r.get("recipientAccountId")),
    "resource": lambda r, i: main_resource(r),
    "raw": lambda r, i: r,
}


def getter(column: str) -> Getter | None:
    """How to read COLUMN straight from a record and its identity (`identity_of`), if it can be."""
    return _CHEAP.get(column)


def identity_of(record: Mapping[str, Any]) -> Mapping[str, Any]:
    """The record's userIdentity, or an empty one when it is missing or not an object."""
    return _identity(record)


class EventRow(Mapping[str, Any]):
    """The `events` row of a record, read column by column: filters and row mappers that look at a few
    columns of every record (a hunt, the window) do not pay for the whole row; `flatten` runs only when a
    column needs it (the JSON texts, the main resource) or the row is kept whole (`full`)."""

    __slots__ = ("_full", "_identity", "_text", "moment", "record", "source_file")

    def __init__(self, record: Mapping[str, Any], source_file: str, moment: datetime | None = None) -> None:
        self.record = record
        self.source_file = source_file
        self.moment = moment
        self._full: dict[str, Any] | None = None
        self._identity: Mapping[str, Any] | None = None
        self._text: bytes | None = None

    @property
    def text(self) -> bytes:
        """The record's JSON text as orjson writes it again (what the record-level prefilter searches and the
        duplicate key hashes), at any depth the parser reads (`json_text`)."""
        if self._text is None:
            self._text = json_text.dumps(self.record)
        return self._text

    @property
    def micros(self) -> int:
        """The instant as a sort key (`times.instant_key`; a kept record always has one, as the scanner skips
        a record without)."""
        return instant_key(self.moment)

    def full(self) -> dict[str, Any]:
        if self._full is None:
            self._full = flatten(self.record, self.source_file, self.moment)
        return self._full

    def __getitem__(self, column: str) -> Any:
        if column == "event_time":
            return _event_time(self.record, self.moment)
        if self._full is None:
            cheap = _CHEAP.get(column)
            if cheap is not None:
                if self._identity is None:
                    self._identity = _identity(self.record)
                return cheap(self.record, self._identity)
        return self.full()[column]

    def get(self, column: str, default: Any = None) -> Any:
        return self[column] if column in _COLUMN_SET else default

    def __iter__(self) -> Iterator[str]:
        return iter(COLUMN_NAMES)

    def __len__(self) -> int:
        return len(COLUMN_NAMES)


CHANGE_CHARS = 100
"""How much of a request a table shows in its `change` column (JSON and CSV carry the whole request)."""


def _leaves(value: Any) -> Iterator[tuple[str, Any]]:
    """(path, value) of each scalar of VALUE, in document order: a walk without recursion, as a request
    may nest as deep as the parser reads (1,024 levels)."""
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, Mapping):
            inner = [(f"{path}.{key}" if path else str(key), item) for key, item in node.items()]
            stack.extend(reversed(inner))
        elif isinstance(node, list):
            stack.extend(reversed([(f"{path}[{i}]", item) for i, item in enumerate(node)]))
        elif node not in (None, "", [], {}):
            yield path, node


def change_summary(request_parameters: Any) -> str:
    """What a call asked for, readably: `groupId=sg-1, ipPermissions.items[0].fromPort=22, ...`, shortened."""
    if request_parameters is None:
        return ""
    if isinstance(request_parameters, str):
        text = request_parameters
    else:
        parts: list[str] = []
        size = 0
        for path, value in _leaves(request_parameters):
            parts.append(f"{path.replace('.items[', '[')}={value}" if path else str(value))
            size += len(parts[-1]) + 2
            if size > CHANGE_CHARS:  # the rest would be cut off: a request of a million leaves is not walked
                break
        text = ", ".join(parts)
    return text if len(text) <= CHANGE_CHARS else text[: CHANGE_CHARS - 1] + "…"
