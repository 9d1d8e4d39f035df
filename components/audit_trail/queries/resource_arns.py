"""A resource ARN as CloudTrail records the resource: the text fragments that name it in a record's JSON.

CloudTrail names most resources by id or name in `requestParameters` (`groupId`, `bucketName`, `name` of a
trail, `functionName`, `secretId`, `queueUrl`, ...) and only sometimes by ARN (`resources`, `policyArn`,
`topicArn`). `search_terms` turns an ARN pasted from a finding into the fragments of the JSON text
(`resources`, `requestParameters` and `responseElements`, as compact JSON) that show a record names that
resource: the ARN itself where it ends a string, and the id or name as a whole JSON string (`"sg-0123..."`,
so `app-backups` does not find `app-backups-old`). A term is a tuple of fragments that must all appear (an S3
object: its bucket and its key); a record names the resource if it holds every fragment of one term.

Pure and partition-agnostic: the partition, region and account are taken from the ARN as given.
Sources for the identifiers, by service: the "CloudTrail log file examples" and each service's "Logging ...
API calls with AWS CloudTrail" pages of the AWS documentation, checked against the real records in
`tests/data` (TrailDiscover's and Stratus Red Team's examples).
"""

from __future__ import annotations

import json
import re
from typing import NamedTuple

Term = tuple[str, ...]

# The random suffix Secrets Manager appends to a secret's name in its ARN ("Secret ARN" in the Secrets
# Manager user guide): a hyphen and six characters.
_SECRET_SUFFIX = re.compile(r"-[A-Za-z0-9]{6}\Z")


# A named tuple, not a frozen dataclass: defining one of those costs about a millisecond at every start.
class Arn(NamedTuple):
    """arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE (the resource may itself hold `:` and `/`)."""

    text: str
    partition: str
    service: str
    region: str
    account: str
    resource: str


def parse(text: str) -> Arn | None:
    """The parts of an ARN, or None for anything else (an id, a name, a URL)."""
    parts = text.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or not parts[1] or not parts[2] or not parts[5]:
        return None
    return Arn(text, parts[1], parts[2], parts[3], parts[4], parts[5])


def quoted(value: str) -> str:
    """VALUE as one whole JSON string, as the `events` view's JSON texts write it (quotes included; the
    same escapes as orjson, which writes those texts)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _type_and_id(resource: str) -> tuple[str, str]:
    """`type/id` or `type:id` -> (type, id); a resource without a type -> ("", resource)."""
    cut = min((i for i in (resource.find("/"), resource.find(":")) if i >= 0), default=-1)
    return ("", resource) if cut < 0 else (resource[:cut], resource[cut + 1 :])


def _ends(arn: str) -> tuple[Term, ...]:
    """The ARN where a string ends: a whole value, or the end of a value inside embedded JSON text (a
    policy document recorded as a string writes `arn...\\"`)."""
    return ((arn + '"',), (arn + "\\",))


def _s3(arn: Arn) -> tuple[Term, ...]:
    bucket, _, key = arn.resource.partition("/")
    if not key:  # the bucket: `bucketName`, and its objects' ARNs (`bucket/key`, `bucket/*` in policies)
        return (*_ends(arn.text), (arn.text + "/",), (quoted(bucket),))
    # An object: data events record `bucketName` and `key` apart, and the object ARN in `resources`.
    return (*_ends(arn.text), (quoted(bucket), quoted(key)))


def _iam(arn: Arn) -> tuple[Term, ...]:
    kind, rest = _type_and_id(arn.resource)
    if kind in ("user", "role", "group", "policy", "instance-profile") and rest:
        # user/PATH/NAME: calls name it by the last segment (`userName`, `roleName`, `policyName`, ...).
        return (*_ends(arn.text), (quoted(rest.rsplit("/", 1)[-1]),))
    return _ends(arn.text)


def _lambda(arn: Arn) -> tuple[Term, ...]:
    kind, rest = _type_and_id(arn.resource)
    if kind != "function" or not rest:
        return _generic(arn)
    # A version or alias (`function:NAME:QUALIFIER`) is dropped: changes to the function are what matter.
    name = rest.split(":", 1)[0]
    unqualified = f"arn:{arn.partition}:lambda:{arn.region}:{arn.account}:function:{name}"
    partial = f"{arn.account}:function:{name}"
    # `functionName` takes a name, a partial ARN or a full ARN, each optionally `:QUALIFIER` (Lambda API
    # reference, e.g. UpdateFunctionCode); responses and policies carry the full ARN.
    return (
        *_ends(unqualified),
        (unqualified + ":",),
        (quoted(name),),
        ('"' + name + ":",),
        ('"' + partial + '"',),
        ('"' + partial + ":",),
    )


def _secret(arn: Arn) -> tuple[Term, ...]:
    kind, rest = _type_and_id(arn.resource)
    if kind != "secret" or not rest:
        return _generic(arn)
    terms: list[Term] = [*_ends(arn.text), (quoted(rest),)]
    if _SECRET_SUFFIX.search(rest):
        # `secretId` may be the name or a partial ARN without the random suffix.
        name = rest[:-7]
        terms += [(quoted(name),), *_ends(arn.text[:-7])]
    return tuple(terms)


def _sqs(arn: Arn) -> tuple[Term, ...]:
    # Queue calls record `queueUrl` (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME, or an older host form);
    # CreateQueue records `queueName`.
    name = arn.resource
    return (*_ends(arn.text), (f"/{arn.account}/{name}" + '"',), (quoted(name),))


def _sns(arn: Arn) -> tuple[Term, ...]:
    # `topicArn`, `name` in CreateTopic, and subscriptions (`TOPIC_ARN:ID`).
    return (*_ends(arn.text), (arn.text + ":",), (quoted(arn.resource),))


def _kms(arn: Arn) -> tuple[Term, ...]:
    kind, _ = _type_and_id(arn.resource)
    if kind == "alias":  # `aliasName` and `keyId` carry the alias as `alias/NAME`
        return (*_ends(arn.text), (quoted(arn.resource),))
    return _generic(arn)


def _ssm(arn: Arn) -> tuple[Term, ...]:
    kind, rest = _type_and_id(arn.resource)
    if kind == "parameter" and rest:
        # A parameter named /a/b has the ARN ...:parameter/a/b: calls name it with its leading slash.
        return (*_ends(arn.text), (quoted("/" + rest),), (quoted(rest),))
    return _generic(arn)


def _table(arn: Arn) -> tuple[Term, ...]:
    kind, rest = _type_and_id(arn.resource)
    if kind != "table" or not rest:
        return _generic(arn)
    # Streams and indexes sit under the table (`table/NAME/stream/...`): `tableName` names the table.
    name = rest.split("/", 1)[0]
    table = f"arn:{arn.partition}:dynamodb:{arn.region}:{arn.account}:table/{name}"
    return (*_ends(table), (table + "/",), (quoted(name),))


def _first_segment(arn: Arn) -> tuple[Term, ...]:
    """Types named by the first segment after the type: a log group (`log-group:NAME:*`), a stack
    (`stack/NAME/ID`)."""
    _, rest = _type_and_id(arn.resource)
    name = re.split(r"[:/]", rest, maxsplit=1)[0]
    # A log group's ARN often ends in `:*` (its streams); calls record it without.
    whole = arn.text.removesuffix(":*")
    return (*_ends(whole), *(((quoted(name),),) if name else ()))


def _generic(arn: Arn) -> tuple[Term, ...]:
    """Any other ARN: the ARN, and its resource id after the type (`instance/i-0123...` -> `i-0123...`;
    EC2, CloudTrail trails, RDS `db:NAME`, KMS `key/ID`, ECR, ECS, EKS ... all record that id or name)."""
    _, rest = _type_and_id(arn.resource)
    return (*_ends(arn.text), (quoted(rest),))


_BY_SERVICE = {
    "s3": _s3,
    "iam": _iam,
    "lambda": _lambda,
    "secretsmanager": _secret,
    "sqs": _sqs,
    "sns": _sns,
    "kms": _kms,
    "ssm": _ssm,
    "dynamodb": _table,
    "logs": _first_segment,
    "cloudformation": _first_segment,
}


def search_terms(arn: Arn) -> tuple[Term, ...]:
    """The terms any of which shows a record names the resource of ARN (duplicates removed, order kept)."""
    terms = _BY_SERVICE.get(arn.service, _generic)(arn)
    return tuple(dict.fromkeys(t for t in terms if all(t)))
