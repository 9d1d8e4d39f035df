"""`doctor`: is the live trail healthy? One PASS / WARN / FAIL row per check, each failure with its fix.

It compares the trail and its bucket with what the stack builds (`Expectations`, from the stack's settings or
flags). A trail or bucket that does not exist is a FAIL (the most serious state, not a permissions problem);
an AWS call that fails otherwise (no credentials, unreachable endpoint, access denied) stops the command with
one line naming the call, the resource and the region (exit code 3).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import IntEnum
from typing import Any

from botocore.exceptions import ClientError  # type: ignore[import-untyped]

from ..aws_errors import error_code, explain, is_aws_error
from ..cloudtrail_layout import account_prefix
from ..errors import UserError
from .bucket_policy import outside_grants, statements
from .lifecycle import early_deletions, expiry_days, noncurrent_days

# Management events are delivered every few minutes; an hour of silence is unusual, a day is an outage.
DELIVERY_WARN = timedelta(hours=1)
DELIVERY_FAIL = timedelta(hours=24)
# Digests are hourly.
DIGEST_WARN = timedelta(hours=2)


class Status(IntEnum):
    """A check's result, ordered by severity."""

    PASS = 0
    WARN = 1
    FAIL = 2


@dataclass(frozen=True)
class Check:
    check: str
    status: Status
    detail: str
    fix: str = ""

    def row(self) -> dict[str, str]:
        return {"check": self.check, "status": self.status.name, "detail": self.detail, "fix": self.fix}


@dataclass(frozen=True)
class Expectations:
    """What the trail should look like: what the stack builds from its config, or flags. None: unknown, so
    not compared (the trail's own value is taken where one is needed)."""

    retention_days: int | None = None
    read_write_type: str = "All"
    multi_region: bool = True
    noncurrent_version_days: int | None = None
    """How long overwritten or deleted versions of log files stay recoverable."""
    s3_key_prefix: str | None = None
    organization_id: str | None = None
    """An organization trail writes member accounts' files under `AWSLogs/<org id>/` too."""


def worst(checks: list[Check]) -> Status:
    return max((c.status for c in checks), default=Status.PASS)


def _age(now: datetime, moment: datetime | None) -> str:
    if moment is None:
        return "never"
    minutes = int((now - moment).total_seconds() // 60)
    return f"{minutes} min ago" if minutes < 120 else f"{minutes // 60} h ago"


PERMISSIONS = (
    "Run doctor with credentials that may read the trail and its bucket and key (cloudtrail:GetTrail, "
    "GetTrailStatus, GetEventSelectors; s3:GetBucketPolicy, GetBucketPublicAccessBlock, GetBucketVersioning, "
    "GetLifecycleConfiguration; kms:DescribeKey, GetKeyRotationStatus)."
)


def trail_region(trail: str) -> str | None:
    """The home region in a trail ARN (`arn:<partition>:cloudtrail:<region>:<account>:trail/<name>`)."""
    parts = trail.split(":")
    return parts[3] if len(parts) >= 6 and parts[0] == "arn" and parts[2] == "cloudtrail" else None


class Doctor:
    def __init__(
        self, trail: str, region: str, expect: Expectations, session: Any, now: datetime | None
    ) -> None:
        self.session = session
        self.trail_name = trail
        self.region = region
        self.expect = expect
        self.now = now or datetime.now(UTC)
        self.cloudtrail = self.session.client("cloudtrail", region_name=region)
        self.s3 = self.session.client("s3", region_name=region)
        self.has_bucket = False
        self.digest_error: str | None = None

    def run(self) -> list[Check]:
        try:
            self.trail = self.cloudtrail.get_trail(Name=self.trail_name)["Trail"]
        except Exception as exc:
            if not is_aws_error(exc):
                raise
            if error_code(exc) != "TrailNotFoundException":
                raise explain(
                    exc,
                    action="CloudTrail GetTrail of",
                    resource=self.trail_name,
                    region=self.region,
                    need=PERMISSIONS,
                ) from None
            return [
                Check(
                    "trail exists",
                    Status.FAIL,
                    f"no trail {self.trail_name} in {self.region}",
                    "Check --trail/--region (the trail's home region), or deploy the stack; if it was "
                    "deleted, find DeleteTrail in the logs.",
                )
            ]
        self.account = self.trail["TrailARN"].split(":")[4]
        checks = [Check("trail exists", Status.PASS, self.trail["TrailARN"])]
        for produce in self.checks():
            try:
                checks.extend(produce())
            except Exception as exc:
                if not is_aws_error(exc):
                    raise
                call = getattr(exc, "operation_name", "") or "an AWS call"
                raise explain(
                    exc,
                    action=f"the {produce.__doc__} check: {call} of",
                    resource=f"trail {self.trail['TrailARN']}, bucket s3://{self.bucket}",
                    region=self.region,
                    need=PERMISSIONS,
                ) from None
        return checks

    def checks(self) -> Iterator[Callable[[], list[Check]]]:
        """The checks in order; the bucket's own only when the bucket exists."""
        yield from (self.status_checks, self.multi_region, self.validation, self.event_selectors)
        yield self.bucket_exists
        if self.has_bucket:
            yield from (
                self.bucket_policy,
                self.outside_access,
                self.public_access_block,
                self.versioning,
                self.lifecycle,
            )
        yield self.kms

    # --- trail -------------------------------------------------------------------------------------------

    def status_checks(self) -> list[Check]:
        """trail status"""
        status = self.cloudtrail.get_trail_status(Name=self.trail["TrailARN"])
        checks = [
            Check("logging", Status.PASS, "logging is on")
            if status.get("IsLogging")
            else Check(
                "logging",
                Status.FAIL,
                f"logging is STOPPED (since {status.get('StopLoggingTime', 'unknown')})",
                f"aws cloudtrail start-logging --name {self.trail['TrailARN']}; then find who stopped it: "
                f"audit-trail query s3://{self.bucket}/ --action StopLogging",
            )
        ]
        error = status.get("LatestDeliveryError")
        checks.append(
            Check(
                "log delivery error",
                Status.FAIL,
                error,
                "CloudTrail cannot write to the bucket: check the bucket policy (aws:SourceArn = this "
                "trail), the KMS key policy and that the bucket exists.",
            )
            if error
            else Check("log delivery error", Status.PASS, "none")
        )
        checks.append(self._recent("last log delivery", status.get("LatestDeliveryTime"), DELIVERY_WARN))
        if self.trail.get("LogFileValidationEnabled"):
            digest_error = self.digest_error = status.get("LatestDigestDeliveryError")
            checks.append(
                Check(
                    "digest delivery error",
                    Status.FAIL,
                    digest_error,
                    "CloudTrail cannot write digest files: check the bucket policy allows PutObject under "
                    "AWSLogs/<account>/ and the KMS key policy.",
                )
                if digest_error
                else Check("digest delivery error", Status.PASS, "none")
            )
            self.digest_delivery = self._recent(
                "last digest delivery", status.get("LatestDigestDeliveryTime"), DIGEST_WARN
            )
            checks.append(self.digest_delivery)
        if self.trail.get("CloudWatchLogsLogGroupArn"):
            cw_error = status.get("LatestCloudWatchLogsDeliveryError")
            checks.append(
                Check(
                    "CloudWatch Logs delivery error",
                    Status.FAIL,
                    cw_error,
                    "Check the trail's CloudWatch Logs role (trusted by cloudtrail.amazonaws.com, "
                    "logs:CreateLogStream + logs:PutLogEvents on the group) and the group's KMS key.",
                )
                if cw_error
                else Check("CloudWatch Logs delivery error", Status.PASS, "none")
            )
            checks.append(
                self._recent(
                    "last CloudWatch Logs delivery",
                    status.get("LatestCloudWatchLogsDeliveryTime"),
                    DELIVERY_WARN,
                )
            )
        return checks

    def _recent(self, name: str, moment: datetime | None, warn_after: timedelta) -> Check:
        age = _age(self.now, moment)
        if moment is None or self.now - moment > DELIVERY_FAIL:
            return Check(
                name,
                Status.FAIL,
                age,
                "Nothing delivered for a day: check logging is on and the delivery errors above.",
            )
        if self.now - moment > warn_after:
            return Check(
                name, Status.WARN, age, "Late: watch the delivery errors; an idle region can be quiet."
            )
        return Check(name, Status.PASS, age)

    def multi_region(self) -> list[Check]:
        """multi-region"""
        on = bool(self.trail.get("IsMultiRegionTrail"))
        if on or not self.expect.multi_region:
            return [Check("multi-region", Status.PASS, f"IsMultiRegionTrail = {on}")]
        return [
            Check(
                "multi-region",
                Status.FAIL,
                "single-region trail: activity in other regions is not recorded (CIS 3.1)",
                "Set audit-trail:multiRegion true and `pulumi up`.",
            )
        ]

    def validation(self) -> list[Check]:
        """log file validation"""
        if not self.trail.get("LogFileValidationEnabled"):
            return [
                Check(
                    "log file validation",
                    Status.FAIL,
                    "off: tampering with log files cannot be proven (CIS 3.2)",
                    "Set audit-trail:logFileValidation true and `pulumi up`; then `audit-trail verify`.",
                )
            ]
        # On is only worth something if the digests arrive: the check says what the deliveries say.
        if self.digest_error:
            return [
                Check(
                    "log file validation",
                    Status.FAIL,
                    f"on, but CloudTrail cannot deliver digest files ({self.digest_error}): the logs "
                    "since are unproven",
                    "Fix the digest delivery error above; then `audit-trail verify` the window.",
                )
            ]
        delivered = self.digest_delivery
        if delivered.status is Status.PASS:
            return [
                Check(
                    "log file validation", Status.PASS, f"on; last digest file delivered {delivered.detail}"
                )
            ]
        if delivered.detail == "never":
            what = "on, but no digest file has ever been delivered: the logs are unproven"
        else:
            what = (
                f"on, but the last digest file was delivered {delivered.detail}: the logs since are unproven"
            )
        return [
            Check(
                "log file validation",
                delivered.status,
                what,
                "See the digest delivery rows above; then `audit-trail verify` the window.",
            )
        ]

    def event_selectors(self) -> list[Check]:
        """event selectors"""
        response = self.cloudtrail.get_event_selectors(TrailName=self.trail["TrailARN"])
        want = self.expect.read_write_type
        logged = _management_events(response)
        fix = f"Restore the management-event selector (ReadWriteType {want}) with `pulumi up`."
        if logged is None:
            return [Check("event selectors", Status.FAIL, "management events are not logged", fix)]
        if want == "All" and logged != "All":
            return [Check("event selectors", Status.FAIL, f"management events: {logged} only (CIS 3.1)", fix)]
        if logged != want:
            return [
                Check("event selectors", Status.WARN, f"management events: {logged}, configured {want}", fix)
            ]
        return [Check("event selectors", Status.PASS, f"management events: {logged}")]

    # --- bucket ------------------------------------------------------------------------------------------

    @property
    def bucket(self) -> str:
        return str(self.trail["S3BucketName"])

    def bucket_exists(self) -> list[Check]:
        """log bucket"""
        try:
            self.s3.head_bucket(Bucket=self.bucket)
        except ClientError as exc:
            if error_code(exc) not in ("404", "NoSuchBucket", "NotFound"):
                raise
            self.has_bucket = False
            return [
                Check(
                    "log bucket",
                    Status.FAIL,
                    f"the trail's bucket s3://{self.bucket} does not exist: CloudTrail delivers nothing, and "
                    "anyone may create a bucket of that name and receive the logs",
                    "Re-create it with `pulumi up` at once; then find who deleted it (DeleteBucket) in the "
                    "logs you still have.",
                )
            ]
        self.has_bucket = True
        return [Check("log bucket", Status.PASS, f"s3://{self.bucket} exists")]

    @property
    def folders(self) -> list[str]:
        """Where the trail writes: the account's folder, and the organization's for an organization trail."""
        prefix = self.expect.s3_key_prefix
        prefix = self.trail.get("S3KeyPrefix") or "" if prefix is None else prefix
        org = self.expect.organization_id
        return [account_prefix(prefix, self.account)] + ([account_prefix(prefix, org)] if org else [])

    @functools.cached_property
    def policy(self) -> Any:
        """The bucket policy (read once for the checks that look at it); an empty one when there is none."""
        try:
            text = self.s3.get_bucket_policy(Bucket=self.bucket)["Policy"]
        except ClientError as exc:
            if error_code(exc) != "NoSuchBucketPolicy":
                raise
            return {"Statement": []}
        try:
            return json.loads(text)
        except ValueError:
            return {"Statement": []}

    def bucket_policy(self) -> list[Check]:
        """bucket policy"""
        policy = self.policy
        found = list(statements(policy))
        trail_arn = self.trail["TrailARN"]
        grants = [s for s in found if s.get("Effect") == "Allow" and _is_cloudtrail(s.get("Principal"))]
        unscoped = [
            str(s.get("Sid", "?")) for s in grants if trail_arn not in _condition_values(s, "aws:sourcearn")
        ]
        if not grants:
            source = Check(
                "bucket policy: source ARN",
                Status.FAIL,
                "no statement lets cloudtrail.amazonaws.com write",
                "Restore the bucket policy with `pulumi up`.",
            )
        elif unscoped:
            source = Check(
                "bucket policy: source ARN",
                Status.FAIL,
                f"statements without aws:SourceArn = {trail_arn}: {', '.join(unscoped)}",
                "Any trail of any account could write here (confused deputy): restore the policy with "
                "`pulumi up`.",
            )
        else:
            source = Check(
                "bucket policy: source ARN", Status.PASS, f"CloudTrail grants limited to {trail_arn}"
            )
        tls = any(
            s.get("Effect") == "Deny" and "false" in _condition_values(s, "aws:securetransport")
            for s in found
        )
        tls_check = (
            Check("bucket policy: TLS only", Status.PASS, "requests without TLS are denied")
            if tls
            else Check(
                "bucket policy: TLS only",
                Status.FAIL,
                "no Deny on aws:SecureTransport = false",
                "Restore the DenyInsecureTransport statement with `pulumi up`.",
            )
        )
        return [source, tls_check]

    def outside_access(self) -> list[Check]:
        """bucket policy: outside access"""
        grants = outside_grants(self.policy, self.account)
        failing = [g for g in grants if g.status == "FAIL"]
        if failing:
            return [
                Check(
                    "bucket policy: outside access",
                    Status.FAIL,
                    "; ".join(g.describe() for g in failing),
                    "Someone outside the account can destroy or forge the logs: remove the statement "
                    "(`pulumi up` restores the stack's policy), then find who added it (PutBucketPolicy).",
                )
            ]
        if grants:
            return [
                Check(
                    "bucket policy: outside access",
                    Status.WARN,
                    "; ".join(g.describe() for g in grants),
                    "Another account can read the logs: remove the statement unless it is meant to.",
                )
            ]
        return [
            Check(
                "bucket policy: outside access",
                Status.PASS,
                f"nobody outside {self.account} but CloudTrail itself is granted anything",
            )
        ]

    def public_access_block(self) -> list[Check]:
        """public access block"""
        try:
            config = self.s3.get_public_access_block(Bucket=self.bucket)["PublicAccessBlockConfiguration"]
        except ClientError as exc:
            if error_code(exc) != "NoSuchPublicAccessBlockConfiguration":
                raise
            config = {}
        flags = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
        off = [f for f in flags if not config.get(f)]
        if off:
            return [
                Check(
                    "public access block",
                    Status.FAIL,
                    f"not set: {', '.join(off)}",
                    "Restore the bucket's public access block (all four settings) with `pulumi up`.",
                )
            ]
        return [Check("public access block", Status.PASS, "all four settings on")]

    def versioning(self) -> list[Check]:
        """versioning"""
        status = self.s3.get_bucket_versioning(Bucket=self.bucket).get("Status", "never enabled")
        if status == "Enabled":
            return [Check("versioning", Status.PASS, "Enabled: overwritten or deleted logs are recoverable")]
        return [
            Check(
                "versioning",
                Status.FAIL,
                f"{status}: a deleted or overwritten log file is gone",
                "Re-enable versioning with `pulumi up`, and find who suspended it (PutBucketVersioning).",
            )
        ]

    def lifecycle(self) -> list[Check]:
        """lifecycle"""
        try:
            rules = self.s3.get_bucket_lifecycle_configuration(Bucket=self.bucket)["Rules"]
        except ClientError as exc:
            if error_code(exc) != "NoSuchLifecycleConfiguration":
                raise
            rules = []
        folders = self.folders
        where = " and ".join(folders)
        days = expiry_days(rules, folders)
        want = self.expect.retention_days
        fix = f"Restore the lifecycle rules ({want} days) with `pulumi up`." if want else ""
        if days is None:
            if want:
                retention = Check(
                    "lifecycle", Status.FAIL, f"no expiration rule for {where}; configured {want} days", fix
                )
            else:
                retention = Check("lifecycle", Status.WARN, f"no expiration rule for {where}: kept forever")
        elif want is None:
            retention = Check("lifecycle", Status.PASS, f"logs expire after {days} days")
        elif days < want:
            retention = Check(
                "lifecycle", Status.FAIL, f"logs expire after {days} days, configured {want}", fix
            )
        elif days > want:
            retention = Check(
                "lifecycle", Status.WARN, f"logs expire after {days} days, configured {want}", fix
            )
        else:
            retention = Check("lifecycle", Status.PASS, f"logs expire after {days} days, as configured")
        keep = want or days
        versions = self.expect.noncurrent_version_days or noncurrent_days(rules, folders)
        early = early_deletions(rules, folders, keep, versions)
        if early:
            deletion = Check(
                "lifecycle: early deletion",
                Status.FAIL,
                "; ".join(f"rule {e.rule_id!r} {e.why}" for e in early),
                "Remove the rule (`pulumi up` restores the stack's rules), then find who added it "
                "(PutBucketLifecycleConfiguration): files it already deleted may survive as noncurrent "
                "versions.",
            )
        else:
            deletion = Check(
                "lifecycle: early deletion",
                Status.PASS,
                f"no rule deletes log or digest files before {keep} days" if keep else "no rule deletes them",
            )
        return [retention, deletion]

    # --- KMS ---------------------------------------------------------------------------------------------

    def kms(self) -> list[Check]:
        """KMS key"""
        key_id = self.trail.get("KmsKeyId")
        if not key_id:
            return []
        kms = self.session.client(
            "kms", region_name=key_id.split(":")[3] if key_id.startswith("arn:") else None
        )
        state = kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"]
        checks = [
            Check("KMS key enabled", Status.PASS, f"{key_id}: {state}")
            if state == "Enabled"
            else Check(
                "KMS key enabled",
                Status.FAIL,
                f"{key_id}: {state}: CloudTrail cannot encrypt, so delivers nothing",
                "aws kms enable-key (or cancel-key-deletion), then find who disabled it (DisableKey).",
            )
        ]
        rotation = kms.get_key_rotation_status(KeyId=key_id).get("KeyRotationEnabled")
        checks.append(
            Check("KMS key rotation", Status.PASS, "on")
            if rotation
            else Check(
                "KMS key rotation",
                Status.FAIL,
                "off (CIS 3.6)",
                f"aws kms enable-key-rotation --key-id {key_id}",
            )
        )
        return checks


def _is_cloudtrail(principal: Any) -> bool:
    services = principal.get("Service", []) if isinstance(principal, dict) else []
    return "cloudtrail.amazonaws.com" in ([services] if isinstance(services, str) else services)


def _condition_values(statement: dict[str, Any], key: str) -> set[str]:
    """Every value any operator of the statement's Condition tests KEY (case-insensitive) against."""
    found: set[str] = set()
    for tests in (statement.get("Condition") or {}).values():
        for k, v in tests.items() if isinstance(tests, dict) else ():
            if k.lower() == key:
                found.update(str(x).lower() if key == "aws:securetransport" else str(x) for x in _listed(v))
    return found


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _management_events(response: dict[str, Any]) -> str | None:
    """`All`, `ReadOnly` or `WriteOnly` as the trail's selectors log management events, or None if not."""
    advanced = response.get("AdvancedEventSelectors") or []
    if advanced:
        for selector in advanced:
            fields = {f["Field"]: f for f in selector.get("FieldSelectors", [])}
            if fields.get("eventCategory", {}).get("Equals") == ["Management"]:
                read_only = fields.get("readOnly", {}).get("Equals")
                return "All" if not read_only else ("ReadOnly" if read_only == ["true"] else "WriteOnly")
        return None
    basic = response.get("EventSelectors") or []
    if not basic:
        return "All"  # a trail without selectors logs every management event
    kinds = {s.get("ReadWriteType", "All") for s in basic if s.get("IncludeManagementEvents", True)}
    if not kinds:
        return None
    return "All" if "All" in kinds or kinds == {"ReadOnly", "WriteOnly"} else kinds.pop()


def run_doctor(
    trail: str, region: str | None, expect: Expectations, session: Any = None, now: datetime | None = None
) -> list[Check]:
    """Every check of TRAIL (name or ARN) in its home REGION: an ARN's own region, else REGION, else the AWS
    configuration's region."""
    import boto3  # type: ignore[import-untyped]

    in_arn = trail_region(trail)
    if in_arn and region and region != in_arn:
        raise UserError(f"--trail {trail} is a trail of {in_arn}, not of --region {region}: drop --region.")
    session = session or boto3.session.Session()
    region = in_arn or region or session.region_name
    if not region:
        raise UserError(
            f"--trail {trail}: give its home region with --region (no AWS default region is set)."
        )
    return Doctor(trail, region, expect, session, now).run()
