"""Whom outside the account a log bucket's policy lets delete, overwrite or re-configure the trail's files.

An `Allow` grants its `Action` (or every action but its `NotAction`) to its `Principal` (or everyone but its
`NotPrincipal`); actions match with `*` and `?` wildcards, case-insensitively (IAM User Guide, "IAM JSON
policy elements"). CloudTrail's own statements are the ones AWS documents for a trail bucket ("Amazon S3
bucket policy for CloudTrail"): `cloudtrail.amazonaws.com` may `s3:GetBucketAcl` and `s3:PutObject`, for an
organization trail under the organization's folder too; whether they are limited to this trail (its
`aws:SourceArn`) is the doctor's source-ARN check. Any other principal outside the account that may delete,
write, expire or re-configure is a way to destroy or forge the evidence; one that may only read is a leak to
know about. Pure functions over the policy document.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

CLOUDTRAIL = "cloudtrail.amazonaws.com"
CLOUDTRAIL_ACTIONS = ("s3:getbucketacl", "s3:putobject")

DANGEROUS = {
    "delete": ("s3:DeleteObject", "s3:DeleteObjectVersion", "s3:DeleteBucket"),
    "lifecycle": ("s3:PutLifecycleConfiguration",),
    "policy": ("s3:PutBucketPolicy", "s3:DeleteBucketPolicy"),
    "object write": (
        "s3:PutObject",
        "s3:PutObjectAcl",
        "s3:PutObjectVersionAcl",
        "s3:PutObjectTagging",
        "s3:PutObjectVersionTagging",
        "s3:PutObjectRetention",
        "s3:PutObjectLegalHold",
        "s3:BypassGovernanceRetention",
        "s3:ReplicateObject",
        "s3:ReplicateDelete",
    ),
    "bucket settings": (
        "s3:PutBucketVersioning",
        "s3:PutBucketAcl",
        "s3:PutBucketObjectLockConfiguration",
        "s3:PutBucketPublicAccessBlock",
        "s3:PutBucketOwnershipControls",
        "s3:PutReplicationConfiguration",
        "s3:PutEncryptionConfiguration",
    ),
}
"""What lets a principal destroy, replace or expire log files, or turn off what protects them."""
READ_ONLY = re.compile(r"s3:(get|list)[a-z*?]*", re.IGNORECASE)
_ACCOUNT_IN_ARN = re.compile(r"arn:[^:]+:(?:iam|sts)::(\d{12}):")


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]


def statements(policy: Any) -> Iterator[dict[str, Any]]:
    statement = policy.get("Statement", []) if isinstance(policy, dict) else []
    yield from (s for s in _listed(statement) if isinstance(s, dict))


def _condition(statement: dict[str, Any], key: str) -> list[str]:
    """The values any operator of the statement's Condition tests KEY (case-insensitive) against."""
    found = []
    for tests in (statement.get("Condition") or {}).values():
        for k, v in tests.items() if isinstance(tests, dict) else ():
            if k.lower() == key.lower():
                found += [str(x) for x in _listed(v)]
    return found


def _scoped_to(statement: dict[str, Any], account: str) -> bool:
    """The statement's conditions admit only callers (or, for a service, requests) of ACCOUNT."""
    accounts = _condition(statement, "aws:PrincipalAccount") + _condition(statement, "aws:SourceAccount")
    arns = _condition(statement, "aws:PrincipalArn") + _condition(statement, "aws:SourceArn")
    in_arns = [_ACCOUNT_IN_ARN.match(a) or re.match(r"arn:[^:]+:[^:]+:[^:]*:(\d{12}):", a) for a in arns]
    return bool(accounts and set(accounts) == {account}) or bool(
        in_arns and all(m is not None and m.group(1) == account for m in in_arns)
    )


def outsiders(statement: dict[str, Any], account: str) -> list[str]:
    """The principals outside ACCOUNT an Allow statement grants to ("*" for anyone); CloudTrail's own
    service principal is left to `cloudtrail_grants`."""
    if "NotPrincipal" in statement:
        return ["everyone but the NotPrincipal"]
    principal = statement.get("Principal")
    scoped = _scoped_to(statement, account)
    if principal == "*":
        return [] if scoped else ["*"]
    found = []
    for kind, values in principal.items() if isinstance(principal, dict) else []:
        for value in map(str, _listed(values)):
            if kind == "AWS":
                owner = value if re.fullmatch(r"\d{12}", value) else None
                m = _ACCOUNT_IN_ARN.match(value)
                owner = m.group(1) if m else owner
                if value == "*" and not scoped:
                    found.append("*")
                elif value != "*" and owner != account:
                    found.append(value)
            elif kind == "Service":
                if value != CLOUDTRAIL and not scoped:
                    found.append(value)
            elif not scoped:  # Federated, CanonicalUser: identities this account does not own
                found.append(f"{kind}:{value}")
    return found


def granted(statement: dict[str, Any]) -> tuple[list[str], bool]:
    """(the dangerous actions a statement grants, whether everything it grants is read-only)."""
    if "NotAction" in statement:
        excluded = [str(a).lower() for a in _listed(statement["NotAction"])]
        dangerous = [
            a
            for group in DANGEROUS.values()
            for a in group
            if not any(fnmatchcase(a.lower(), x) for x in excluded)
        ]
        return dangerous, False
    patterns = [str(a).lower() for a in _listed(statement.get("Action"))]
    dangerous = [
        a for group in DANGEROUS.values() for a in group if any(fnmatchcase(a.lower(), p) for p in patterns)
    ]
    return dangerous, all(READ_ONLY.fullmatch(p) for p in patterns)


def _is_cloudtrail(statement: dict[str, Any]) -> bool:
    principal = statement.get("Principal")
    services = _listed(principal.get("Service")) if isinstance(principal, dict) else []
    return CLOUDTRAIL in services


@dataclass(frozen=True)
class Grant:
    """A statement that lets someone outside the account at the trail's files."""

    status: str  # "FAIL" or "WARN"
    principals: tuple[str, ...]
    actions: tuple[str, ...]
    statement: str
    """The statement itself, as compact JSON, to quote."""

    def describe(self) -> str:
        return f"{', '.join(self.principals)} may {', '.join(self.actions)}: {self.statement}"


def outside_grants(policy: Any, account: str) -> list[Grant]:
    """Every Allow in POLICY that lets a principal outside ACCOUNT delete, write, expire or re-configure
    (FAIL), or do anything else, reading above all (WARN); CloudTrail's own documented statements are not
    among them."""
    found = []
    for s in statements(policy):
        if s.get("Effect") != "Allow":
            continue
        dangerous, read_only = granted(s)
        quoted = json.dumps(s, sort_keys=True, separators=(",", ":"))
        if _is_cloudtrail(s):
            beyond = [a for a in dangerous if a.lower() not in CLOUDTRAIL_ACTIONS]
            if beyond or "NotAction" in s:
                found.append(Grant("FAIL", (CLOUDTRAIL,), tuple(beyond or dangerous), quoted))
        who = outsiders(s, account)
        if not who:
            continue
        if dangerous:
            found.append(Grant("FAIL", tuple(who), tuple(dangerous), quoted))
        else:
            # Reading, or something that neither deletes nor writes (tagging the bucket, say).
            actions = ", ".join(str(a) for a in _listed(s.get("Action")))
            found.append(Grant("WARN", tuple(who), (f"read ({actions})" if read_only else actions,), quoted))
    return found
