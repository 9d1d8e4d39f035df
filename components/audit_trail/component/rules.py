"""Every rule of the configuration, alone and combined: each combination AWS would reject is refused up
front.

One registry, one signature: a rule takes the settings (and the stack's region when known) and yields
problems, reported with all the others before any resource is registered. To add an option: a field in
`args.AuditTrailArgs` (with its docstring), its default in `settings.AuditTrailSettings`, and - if it has
rules beyond its type - a function in `RULES`.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from collections.abc import Callable, Iterable

from .. import regions
from ..regions import partition_of_region
from .args import DataEvents
from .event_sources import NETWORK_ACTIVITY_SOURCES
from .problems import Problem
from .profiles import PROFILES, violations
from .settings import AuditTrailSettings

Rule = Callable[[AuditTrailSettings, "str | None"], Iterable[Problem]]

# CloudWatch Logs accepts only these retention periods (days).
LOG_GROUP_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip
MAX_OBJECT_LOCK_DAYS = 36500
MAX_ACCESS_LOG_DAYS = 3650

_ORG_ID = re.compile(r"o-[a-z0-9]{10,32}")
_KMS_KEY_ARN = re.compile(
    r"arn:(?P<partition>aws[a-z-]*):kms:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):key/(?P<id>[A-Za-z0-9-]+)"
)
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


_TRAIL_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9]|[._-](?=[A-Za-z0-9]))*")


_REGION_NAME = re.compile(r"[a-z]{2,4}(-[a-z]+)+-\d{1,2}")


def region_rule(s: AuditTrailSettings, region: str | None) -> Iterable[Problem]:
    """`aws:region` must be a region of a known partition (or listed in `extraRegions`): a typo would
    otherwise deploy nowhere or, in `plan`, preview a stack in a region that does not exist."""
    for extra in s.extra_regions:
        if not _REGION_NAME.fullmatch(extra):
            yield Problem(
                "extraRegions",
                extra,
                "is not a region name (like eu-west-1 or us-gov-east-1). Correct or remove it.",
            )
    if region is None or region in regions.all_regions() or region in s.extra_regions:
        return
    close = regions.closest_region(region)
    hint = f"did you mean `{close}`? " if close else ""
    yield Problem(
        "aws:region",
        region,
        f"is not an AWS region this release knows; {hint}Set a region such as us-east-1 or eu-west-1. For a "
        f'region AWS opened since, list it in `audit-trail:extraRegions` (e.g. ["{region}"]).',
    )


def trail_name_rule(s: AuditTrailSettings, region: str | None) -> Iterable[Problem]:
    name = s.trail_name
    why = []
    if not 3 <= len(name) <= 128:
        why.append(f"is {len(name)} characters long (3-128 allowed)")
    if not _TRAIL_NAME.fullmatch(name):
        why.append(
            "must use only ASCII letters, digits, `.`, `_` and `-`, start and end with a letter or digit, "
            "and have no two of `._-` next to each other"
        )
    if _is_ip(name):
        why.append("must not look like an IP address")
    if why:
        yield Problem(
            "trailName",
            name,
            f"not a valid CloudTrail trail name: it {'; it '.join(why)}. "
            "Choose another name, e.g. `account-activity-trail`.",
        )


_BUCKET_CHARS = re.compile(r"[a-z0-9][a-z0-9.-]*[a-z0-9]")
_BUCKET_BAD_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_BUCKET_BAD_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def bucket_name_rule(s: AuditTrailSettings, region: str | None) -> Iterable[Problem]:
    name = s.bucket_name
    if not name:
        return
    why = []
    if not 3 <= len(name) <= 63:
        why.append(f"is {len(name)} characters long (3-63 allowed)")
    if not _BUCKET_CHARS.fullmatch(name):
        why.append(
            "must use only lowercase letters, digits, `.` and `-`, and start and end with a letter or digit"
        )
    if ".." in name or ".-" in name or "-." in name:
        why.append("must not have `..`, `.-` or `-.`")
    if _is_ip(name):
        why.append("must not be an IP address")
    why += [f"must not start with `{p}`" for p in _BUCKET_BAD_PREFIXES if name.startswith(p)]
    why += [f"must not end with `{x}`" for x in _BUCKET_BAD_SUFFIXES if name.endswith(x)]
    if why:
        yield Problem(
            "bucketName",
            name,
            f"not a valid S3 bucket name: it {'; it '.join(why)}. "
            "Choose another name (e.g. `acme-audit-logs-123456789012`), or unset it for a generated one.",
        )


MAX_DAYS = 3650


def retention_rule(s: AuditTrailSettings, region: str | None) -> Iterable[Problem]:
    for key, days in (
        ("retentionDays", s.retention_days),
        ("noncurrentVersionDays", s.noncurrent_version_days),
    ):
        if not 1 <= days <= MAX_DAYS:
            yield Problem(
                key,
                days,
                f"must be a number of days from 1 to {MAX_DAYS} (ten years). "
                "Common values: 90, 365 (PCI-DSS asks for 12 months), 2190 (six years, HIPAA).",
            )


MAX_PREFIX = 200
MAX_SEGMENT_BYTES = 255


def s3_key_prefix_rule(s: AuditTrailSettings, region: str | None) -> Iterable[Problem]:
    prefix = s.s3_key_prefix
    why = []
    if prefix.startswith("/") or prefix.endswith("/"):
        why.append("must not start or end with `/` (CloudTrail adds the `/` before `AWSLogs/`)")
    if len(prefix) > MAX_PREFIX:
        why.append(f"is {len(prefix)} characters long (CloudTrail allows at most {MAX_PREFIX})")
    if "//" in prefix:
        why.append("must not contain `//`")
    if any(ord(c) < 32 or ord(c) == 127 for c in prefix):
        why.append("must not contain control characters")
    # `audit-trail fetch` mirrors the bucket's keys as local folders: every segment must be a folder name.
    segments = prefix.split("/")
    if any(part in (".", "..") for part in segments):
        why.append("must not have `.` or `..` segments (they cannot be mirrored as local folders)")
    if "\\" in prefix:
        why.append("must not contain `\\` (a path separator on Windows)")
    if any(len(part.encode()) > MAX_SEGMENT_BYTES for part in segments):
        why.append(f"must not have a segment longer than {MAX_SEGMENT_BYTES} bytes (a folder name's limit)")
    if why:
        fixed = "/".join(part for part in prefix.replace("\\", "/").split("/") if part not in ("", ".", ".."))
        fixed = fixed[:MAX_PREFIX]
        yield Problem("s3KeyPrefix", prefix, f"{'; '.join(why)}. Use e.g. `{fixed or 'audit'}`, or unset it.")


def global_events_rule(s: AuditTrailSettings, region: str | None) -> Iterable[Problem]:
    if s.multi_region and not s.include_global_service_events:
        yield Problem(
            "includeGlobalServiceEvents",
            False,
            "a multi-region trail must include global service events (IAM, STS sign-ins): CloudTrail rejects "
            "the combination. Set it to true, or set `multiRegion` to false for a single-region trail.",
        )


def deletion_rule(s: AuditTrailSettings, region: str | None) -> Iterable[Problem]:
    if s.force_destroy and s.retain_on_delete:
        yield Problem(
            "forceDestroy",
            True,
            "conflicts with `retainOnDelete: true` (the default), which keeps the bucket and its logs when "
            "the stack is destroyed. To really delete the logs set both `forceDestroy: true` and "
            "`retainOnDelete: false`; otherwise unset `forceDestroy`.",
        )


_TAG_KEY = re.compile(r"[\w\s.:/=+\-@]{1,128}", re.UNICODE)
_TAG_VALUE = re.compile(r"[\w\s.:/=+\-@]{0,256}", re.UNICODE)
MAX_TAGS = 50


def tags_rule(s: AuditTrailSettings, region: str | None) -> Iterable[Problem]:
    if len(s.tags) > MAX_TAGS:
        yield Problem("tags", s.tags, f"has {len(s.tags)} tags; AWS allows at most {MAX_TAGS}. Remove some.")
    for key, value in s.tags.items():
        if key.lower().startswith("aws:"):
            yield Problem(
                "tags", {key: value}, "tag keys starting with `aws:` are reserved by AWS. Rename the key."
            )
        elif not _TAG_KEY.fullmatch(key):
            yield Problem(
                "tags",
                {key: value},
                "a tag key must be 1-128 letters, digits, spaces or `_.:/=+-@`. Rename it.",
            )
        if not _TAG_VALUE.fullmatch(value):
            yield Problem(
                "tags", {key: value}, "a tag value must be at most 256 letters, digits, spaces or `_.:/=+-@`."
            )


def monitoring_rule(s: AuditTrailSettings, region: str | None) -> Iterable[Problem]:
    if s.cis_alarms and not s.cloud_watch_logs:
        yield Problem(
            "cisAlarms",
            True,
            "the CIS alarms are metric filters on the trail's CloudWatch Logs group, so they need "
            "`cloudWatchLogs: true`. Turn it on, or unset `cisAlarms`.",
        )
    if s.alarm_emails and not s.cis_alarms:
        yield Problem(
            "alarmEmails",
            s.alarm_emails,
            "subscribes addresses to the CIS alarm topic, which exists only with `cisAlarms: true`. "
            "Turn the alarms on, or remove the addresses.",
        )
    for email in s.alarm_emails:
        if not _EMAIL.fullmatch(email):
            yield Problem(
                "alarmEmails", email, "is not an email address (name@example.com). Correct or remove it."
            )
    if s.cloud_watch_logs_retention_days not in LOG_GROUP_RETENTION_DAYS:
        allowed = ", ".join(str(d) for d in LOG_GROUP_RETENTION_DAYS)
        yield Problem(
            "cloudWatchLogsRetentionDays",
            s.cloud_watch_logs_retention_days,
            f"CloudWatch Logs accepts only these retention periods (days): {allowed}. Pick one, e.g. 365.",
        )
    if s.cloud_watch_logs_role_source_arn and not s.cloud_watch_logs:
        yield Problem(
            "cloudWatchLogsRoleSourceArn",
            True,
            "conditions the CloudWatch Logs delivery role, which exists only with `cloudWatchLogs: true`. "
            "Turn it on, or unset this key.",
        )


def events_rule(s: AuditTrailSettings, region: str | None) -> Iterable[Problem]:
    if not s.management_events and not s.has_advanced_selectors:
        yield Problem(
            "managementEvents",
            False,
            "with no management events, no data events (`s3DataEvents`, `lambdaDataEvents`, "
            "`dynamodbDataEvents`, `dataEventSelectors`) and no `networkActivityEvents` the trail would "
            "record nothing. Keep management events on, or add data events.",
        )
    if s.insights and not s.management_events:
        yield Problem(
            "insights",
            True,
            "CloudTrail Insights analyses management events, and CloudTrail rejects Insights on a trail that "
            "records none. Set `managementEvents: true`, or unset `insights`.",
        )


_RESOURCE_TYPE = re.compile(r"AWS::[A-Za-z0-9]+::[A-Za-z0-9]+")
_ARN_PREFIX = re.compile(r"arn:[a-z-]+:[a-z0-9-]+:")
# The types the three switches select; a `dataEventSelectors` entry for one of them would duplicate it.
_SWITCHED_TYPES = {
    "AWS::S3::Object": "s3DataEvents",
    "AWS::Lambda::Function": "lambdaDataEvents",
    "AWS::DynamoDB::Table": "dynamodbDataEvents",
}
_DATA_EVENTS_PAGE = "the CloudTrail user guide's data events table (logging-data-events-with-cloudtrail.html)"


def data_event_selectors_rule(s: AuditTrailSettings, region: str | None) -> Iterable[Problem]:
    switched = {
        "AWS::S3::Object": s.s3_data_events is not DataEvents.NONE,
        "AWS::Lambda::Function": s.lambda_data_events,
        "AWS::DynamoDB::Table": s.dynamodb_data_events,
    }
    seen: set[str] = set()
    for index, selector in enumerate(s.data_event_selectors):
        where = f"entry {index + 1}"
        resource_type = selector.get("resource_type")
        if not resource_type:
            yield Problem(
                "dataEventSelectors",
                selector,
                f"{where} has no `resourceType`; name the data-event resource type, e.g. AWS::SNS::Topic "
                f"(see {_DATA_EVENTS_PAGE}).",
            )
            continue
        if not _RESOURCE_TYPE.fullmatch(resource_type):
            yield Problem(
                "dataEventSelectors",
                resource_type,
                f"{where}: `resourceType` must look like AWS::Service::Type, e.g. AWS::S3::Object or "
                f"AWS::Lambda::Function (see {_DATA_EVENTS_PAGE}).",
            )
        if switched.get(resource_type):
            yield Problem(
                "dataEventSelectors",
                resource_type,
                f"{where} selects {resource_type}, which `{_SWITCHED_TYPES[resource_type]}` already records. "
                "Keep one of the two.",
            )
        if resource_type in seen:
            yield Problem(
                "dataEventSelectors",
                resource_type,
                f"{where} repeats resource type {resource_type}. Merge the entries into one.",
            )
        seen.add(resource_type)
        for arn in selector.get("exclude_principal_arns", []):
            if not _ARN_PREFIX.match(arn):
                yield Problem(
                    "dataEventSelectors",
                    arn,
                    f"{where}: `excludePrincipalArns` takes principal ARNs or ARN prefixes, e.g. "
                    "arn:aws:iam::123456789012:role/backup or "
                    "arn:aws:sts::123456789012:assumed-role/backup/.",
                )
        if any(not name or not name.strip() for name in selector.get("event_names", [])):
            yield Problem(
                "dataEventSelectors",
                selector.get("event_names"),
                f"{where}: `eventNames` has an empty name; list API actions such as DeleteObject.",
            )


def network_activity_rule(s: AuditTrailSettings, region: str | None) -> Iterable[Problem]:
    if s.network_activity_denied_only and not s.network_activity_events:
        yield Problem(
            "networkActivityDeniedOnly",
            True,
            "filters network activity events, but `networkActivityEvents` names no event source. List the "
            'sources, e.g. ["kms.amazonaws.com"], or unset this key.',
        )
    seen: set[str] = set()
    for source in s.network_activity_events:
        if source in seen:
            yield Problem("networkActivityEvents", source, "is listed twice. Remove the repeat.")
        seen.add(source)
        if source not in NETWORK_ACTIVITY_SOURCES:
            guess = difflib.get_close_matches(source, sorted(NETWORK_ACTIVITY_SOURCES), n=1, cutoff=0.6)
            hint = f"did you mean `{guess[0]}`? " if guess else ""
            yield Problem(
                "networkActivityEvents",
                source,
                f"is not an event source CloudTrail records network activity for; {hint}give the full "
                'source name such as kms.amazonaws.com (the list: CloudTrail user guide, "Logging network '
                'activity events"); for a source CloudTrail added after this release, upgrade audit-trail.',
            )


def kms_rule(s: AuditTrailSettings, region: str | None) -> Iterable[Problem]:
    if not s.kms_key_arn:
        return
    if not s.kms_encryption:
        yield Problem(
            "kmsKeyArn",
            s.kms_key_arn,
            "names the key to encrypt with, but `kmsEncryption` is off. Set `kmsEncryption: true` to use "
            "this key, or remove `kmsKeyArn`.",
        )
    match = _KMS_KEY_ARN.fullmatch(s.kms_key_arn)
    if match is None:
        yield Problem(
            "kmsKeyArn",
            s.kms_key_arn,
            "must be a KMS key ARN, arn:<partition>:kms:<region>:<account>:key/<key id> (not an alias: the "
            "CloudWatch Logs group needs the key itself). Copy the ARN from the KMS console.",
        )
        return
    if region:
        partition = partition_of_region(region)
        if match["partition"] != partition:
            yield Problem(
                "kmsKeyArn",
                s.kms_key_arn,
                f"is in partition `{match['partition']}`, but the stack's region {region} is in "
                f"`{partition}`; a key cannot be used across partitions. Use a key from this partition.",
            )
        elif match["region"] != region and not s.central_bucket_name:
            yield Problem(
                "kmsKeyArn",
                s.kms_key_arn,
                f"is in region {match['region']}, but the trail and its bucket are in {region}; CloudTrail "
                "needs the key in the bucket's region. Use a key from that region.",
            )
        elif match["region"] != region and s.cloud_watch_logs:
            # A central bucket may be elsewhere, and CloudTrail needs the key in the bucket's region; but
            # the log group is created in the stack's region with the same key, and a KMS key is regional:
            # CloudWatch Logs uses a key of the log group's region, so CreateLogGroup would fail.
            yield Problem(
                "kmsKeyArn",
                s.kms_key_arn,
                f"is in region {match['region']} (the central bucket's, as CloudTrail needs), but "
                f"`cloudWatchLogs: true` also encrypts the log group in the stack's region {region} with it, "
                "and CloudWatch Logs accepts only a key of the log group's region. Unset `cloudWatchLogs`, "
                f"or deploy the stack in {match['region']}, or remove `centralBucketName` and use a key "
                f"from {region}.",
            )


def organization_rule(s: AuditTrailSettings, region: str | None) -> Iterable[Problem]:
    if s.is_organization_trail and not s.organization_id:
        yield Problem(
            "isOrganizationTrail",
            True,
            "an organization trail needs `organizationId` (o-xxxxxxxxxx, from `aws organizations "
            "describe-organization`) so the bucket policy can admit member accounts' logs. Set it.",
        )
    if s.organization_id and not s.is_organization_trail:
        yield Problem(
            "organizationId",
            s.organization_id,
            "is only used by an organization trail. Set `isOrganizationTrail: true`, or remove it.",
        )
    if s.organization_id and not _ORG_ID.fullmatch(s.organization_id):
        yield Problem(
            "organizationId",
            s.organization_id,
            "must look like o-a1b2c3d4e5 (`o-` and 10-32 lowercase letters or digits).",
        )


def central_bucket_rule(s: AuditTrailSettings, region: str | None) -> Iterable[Problem]:
    name = s.central_bucket_name
    if not name:
        return
    if s.kms_encryption and not s.kms_key_arn:
        yield _central_bucket_key_problem(s)
    owner_options = [
        ("bucketName", s.bucket_name, "names a bucket for the stack to create"),
        ("accessLogging", s.access_logging, "configures the log bucket's access logging"),
        ("objectLockMode", s.object_lock_mode.value if s.has_object_lock else "", "locks the log bucket"),
        ("forceDestroy", s.force_destroy, "deletes the log bucket on destroy"),
    ]
    for key, value, what in owner_options:
        if value:
            yield Problem(
                key,
                value,
                f"{what}, but `centralBucketName` sends the logs to an existing bucket the stack does not "
                "own; its owner configures it (see `audit-trail plan`). Remove one of the two.",
            )


def _central_bucket_key_problem(s: AuditTrailSettings) -> Problem:
    """A key the stack creates cannot serve a central bucket: it is created in the stack's region, while
    CloudTrail needs the key in the bucket's region (as for `kmsKeyArn` above), and its policy lets only the
    stack's account decrypt, so the log-archive account owning the bucket could never read the logs. Such a
    key needs a statement for that account, as AWS's "Enable cross account log decryption" (CloudTrail user
    guide, "Default KMS key policy created in CloudTrail console", default-kms-key-policy.html), which the
    stack cannot write without knowing the account."""
    rules = PROFILES[s.profile]
    why = f" (profile `{s.profile.value}` turns it on)" if rules.preset.get("kms_encryption") else ""
    required = next((r for r in rules.requirements if r.field == "kms_encryption"), None)
    instead = (
        f"Profile `{s.profile.value}` requires such a key ({required.clause})."
        if required
        else "Or set `kmsEncryption: false` to leave the logs to the bucket's own default encryption."
    )
    return Problem(
        "kmsEncryption",
        True,
        f"would create a KMS key{why} in the stack's account and region, but `centralBucketName` logs to a "
        "bucket the stack does not own: CloudTrail needs the key in the bucket's region, and the key's "
        "policy lets only the stack's account decrypt, so the account owning the bucket could never read the "
        "logs. "
        "Set `kmsKeyArn` to a key in the central bucket's region whose policy also lets that account decrypt "
        f"(`audit-trail plan` prints the statements CloudTrail needs). {instead}",
    )


def access_logging_rule(s: AuditTrailSettings, region: str | None) -> Iterable[Problem]:
    if not 1 <= s.access_log_retention_days <= MAX_ACCESS_LOG_DAYS:
        yield Problem(
            "accessLogRetentionDays",
            s.access_log_retention_days,
            f"must be a number of days from 1 to {MAX_ACCESS_LOG_DAYS}.",
        )


def object_lock_rule(s: AuditTrailSettings, region: str | None) -> Iterable[Problem]:
    days = s.object_lock_retention_days
    if not s.has_object_lock:
        if days is not None:
            yield Problem(
                "objectLockRetentionDays",
                days,
                "only applies with `objectLockMode` GOVERNANCE or COMPLIANCE. Set a mode, or remove it.",
            )
        return
    effective = s.retention_days if days is None else days
    if not 1 <= effective <= MAX_OBJECT_LOCK_DAYS:
        yield Problem("objectLockRetentionDays", effective, f"must be from 1 to {MAX_OBJECT_LOCK_DAYS} days.")
    elif effective > s.retention_days:
        yield Problem(
            "objectLockRetentionDays",
            effective,
            f"is longer than `retentionDays` ({s.retention_days}): the lifecycle rule would try to expire "
            "log files that are still locked. Lower it to at most retentionDays, or raise retentionDays.",
        )
    if s.force_destroy:
        yield Problem(
            "forceDestroy",
            True,
            "cannot delete log files under object lock before their retention ends, so `pulumi destroy` "
            "would fail. Unset `forceDestroy`, or turn object lock off.",
        )


_GLUE_DATABASE = re.compile(r"[a-z0-9_]{1,255}")
_WORKGROUP = re.compile(r"[A-Za-z0-9._-]{1,128}")


def athena_rule(s: AuditTrailSettings, region: str | None) -> Iterable[Problem]:
    names = (
        (
            "athenaDatabase",
            s.athena_database,
            _GLUE_DATABASE,
            "a Glue database name for Athena is 1-255 lower-case letters, digits and `_`",
        ),
        (
            "athenaWorkgroup",
            s.athena_workgroup,
            _WORKGROUP,
            "an Athena workgroup name is 1-128 letters, digits, `.`, `_` and `-`",
        ),
    )
    for key, value, pattern, rule in names:
        if not value:
            continue
        if not s.athena:
            yield Problem(key, value, "names an Athena resource, which exists only with `athena: true`.")
        elif not pattern.fullmatch(value):
            yield Problem(key, value, f"{rule}. Choose another, or unset it for a name unique to the stack.")


def profile_rule(s: AuditTrailSettings, region: str | None) -> Iterable[Problem]:
    """What the chosen compliance profile's standard forbids."""
    return violations(s)


RULES: tuple[Rule, ...] = (
    region_rule,
    trail_name_rule,
    bucket_name_rule,
    retention_rule,
    s3_key_prefix_rule,
    global_events_rule,
    deletion_rule,
    tags_rule,
    monitoring_rule,
    events_rule,
    data_event_selectors_rule,
    network_activity_rule,
    kms_rule,
    organization_rule,
    central_bucket_rule,
    access_logging_rule,
    object_lock_rule,
    athena_rule,
    profile_rule,
)


def problems(settings: AuditTrailSettings, region: str | None = None) -> list[Problem]:
    """Every problem of SETTINGS, given the stack's region when it is known."""
    return [found for rule in RULES for found in rule(settings, region)]
