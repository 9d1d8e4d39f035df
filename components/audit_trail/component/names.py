"""The physical names pulumi-aws generates from the component's name, and the rule that AWS will take them.

A resource created without a physical name gets one from the provider: its logical name, `-` and 7 random hex
characters, refused at `pulumi up` when longer than the type allows. pulumi-aws (`provider/resources.go`)
names `aws_s3_bucket` with `AutoNameTransform("bucket", 63, strings.ToLower)` and `aws_iam_role` with
`AutoName("name", 64, "-")`; pulumi-terraform-bridge's `ComputeAutoNameDefault` then fails with "name '...'
plus 7 random chars is longer than maximum length N" rather than cut the name. The component's children are
named `<name>-<suffix>`, so the component's name decides whether those names are valid: checked here, with the
other configuration problems, before anything is registered. No Pulumi import: the plan's mocks generate names
by the same rules.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from .problems import COMPONENT_NAME, Problem
from .settings import AuditTrailSettings

RANDOM_SUFFIX = 7
"""Random hex characters the provider appends, after a `-`."""


@dataclass(frozen=True)
class Autoname:
    """How the provider names a resource type that is given no physical name."""

    max_length: int
    lowered: bool
    """The logical name is lower-cased first (S3 bucket names)."""

    def prefix(self, logical_name: str) -> str:
        return (logical_name.lower() if self.lowered else logical_name) + "-"

    def fits(self, logical_name: str) -> bool:
        return len(self.prefix(logical_name)) + RANDOM_SUFFIX <= self.max_length


S3_BUCKET = "aws:s3/bucket:Bucket"
IAM_ROLE = "aws:iam/role:Role"
AUTONAMES = {
    S3_BUCKET: Autoname(max_length=63, lowered=True),
    IAM_ROLE: Autoname(max_length=64, lowered=False),
}
"""The types the component leaves for the provider to name."""

# The suffixes of the children the provider names (`<component name>-<suffix>`).
LOG_BUCKET = "logs"
ACCESS_LOG_BUCKET = "access-logs"
ATHENA_RESULTS_BUCKET = "athena-results"
CLOUDWATCH_ROLE = "cloudwatch-role"


@dataclass(frozen=True)
class Generated:
    """A child the provider names from the component's name."""

    what: str
    suffix: str
    type: str

    @property
    def autoname(self) -> Autoname:
        return AUTONAMES[self.type]

    def longest_name(self) -> int:
        """The longest component name whose child name the provider accepts."""
        return self.autoname.max_length - RANDOM_SUFFIX - len(f"-{self.suffix}-")


def generated(s: AuditTrailSettings) -> list[Generated]:
    """The children SETTINGS create without a physical name of their own."""
    owns_bucket = not s.central_bucket_name
    children = [
        (owns_bucket and not s.bucket_name, Generated("the log bucket", LOG_BUCKET, S3_BUCKET)),
        (owns_bucket and s.access_logging, Generated("the access-log bucket", ACCESS_LOG_BUCKET, S3_BUCKET)),
        (s.athena, Generated("the Athena results bucket", ATHENA_RESULTS_BUCKET, S3_BUCKET)),
        (s.cloud_watch_logs, Generated("the CloudWatch Logs delivery role", CLOUDWATCH_ROLE, IAM_ROLE)),
    ]
    return [child for used, child in children if used]


# S3 bucket naming rules (S3 user guide, "General purpose bucket naming rules", bucketnamingrules.html) for
# the start of a name: the provider lowers its letters, and `-<suffix>-<random>` follows it, so the rules on a
# name's end (a letter or digit, no reserved suffix, not an IP address) always hold.
_BUCKET_CHAR = re.compile(r"[a-z0-9.-]")
_BUCKET_BAD_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
# IAM role names: at most 64 of `[\w+=,.@-]` (IAM API reference, CreateRole, RoleName).
_ROLE_CHAR = re.compile(r"[A-Za-z0-9+=,.@_-]")


def _bucket_faults(name: str) -> Iterator[str]:
    lowered = name.lower()
    bad = sorted({c for c in lowered if not _BUCKET_CHAR.fullmatch(c)})
    if bad:
        yield (
            f"has {_listed(bad)}, which an S3 bucket name cannot contain (only letters, digits, `.` and `-`; "
            "letters are lower-cased)"
        )
    if not re.match(r"[a-z0-9]", lowered):
        yield "must start with a letter or digit (an S3 bucket name does)"
    if ".." in lowered:
        yield "must not have `..` (an S3 bucket name cannot)"
    for reserved in _BUCKET_BAD_PREFIXES:
        if lowered.startswith(reserved):
            yield f"must not start with `{reserved}` (S3 reserves it)"


def _role_faults(name: str) -> Iterator[str]:
    bad = sorted({c for c in name if not _ROLE_CHAR.fullmatch(c)})
    if bad:
        yield (
            f"has {_listed(bad)}, which an IAM role name cannot contain (only letters, digits and `+=,.@_-`)"
        )


def _listed(chars: list[str]) -> str:
    return ", ".join(f"`{c}`" if c.strip() else repr(c) for c in chars)


def name_problems(name: str, s: AuditTrailSettings) -> list[Problem]:
    """What is wrong with NAME as the component's name, given what SETTINGS create; one problem at most."""
    children = generated(s)
    if not children:
        return []
    why: list[str] = []
    tightest = min(children, key=Generated.longest_name)
    longest = tightest.longest_name()
    if len(name) > longest:
        why.append(
            f"is {len(name)} characters long, and at most {longest} fit: the provider names "
            f"{tightest.what} `<name>-{tightest.suffix}-` and {RANDOM_SUFFIX} random characters, at most "
            f"{tightest.autoname.max_length} in all"
        )
    types = {child.type for child in children}
    if S3_BUCKET in types:
        why.extend(_bucket_faults(name))
    if IAM_ROLE in types:
        why.extend(_role_faults(name))
    if not why:
        return []
    return [
        Problem(
            COMPONENT_NAME,
            name,
            "the component's name (the first argument of AuditTrail) starts the names the provider "
            f"generates for {_and([c.what for c in children])}; it {'; it '.join(why)}. Choose a name of "
            f"at most {longest} lower-case letters, digits and `-`, e.g. `audit-trail`.",
        )
    ]


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"
