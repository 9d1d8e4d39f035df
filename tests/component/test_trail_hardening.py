"""Each hardening option through stack config: what it adds, the policies, and how the trail uses them."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from audit_trail.component.cis_controls import CIS_CONTROLS
from audit_trail.component.validation import ConfigError
from audit_trail.plan.preview import Preview
from support.graph import of_type, one
from support.paths import DATA

ACCOUNT = "123456789012"
TRAIL = "aws:cloudtrail/trail:Trail"
BUCKET = "aws:s3/bucket:Bucket"
POLICY = "aws:s3/bucketPolicy:BucketPolicy"
ENCRYPTION = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
KEY = "aws:kms/key:Key"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
FILTER = "aws:cloudwatch/logMetricFilter:LogMetricFilter"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TOPIC = "aws:sns/topic:Topic"
TRAIL_ARN = f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/account-activity-trail"
SEED_GRAPH = DATA / "seed_default_graph.json"
EXISTING_KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def plan(preview_stack: Any, *options: str) -> Preview:
    result = preview_stack("dev", *(f"audit-trail:{o}" for o in options))
    assert result.error is None, result.error
    return result


def named(result: Preview, type_: str, name: str) -> dict[str, Any]:
    return next(r for r in of_type(result, type_) if r["name"] == name)


def document(resource: dict[str, Any], key: str = "policy") -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in json.loads(resource["inputs"][key])["Statement"]}


def test_default_stack_graph_is_exactly_the_seeds(preview_stack: Any) -> None:
    """Every option off: the same resources, inputs, dependencies and outputs as before hardening existed."""
    before = json.loads(SEED_GRAPH.read_text())
    now = plan(preview_stack)
    assert now.resources == before["resources"]
    assert now.outputs == before["outputs"]


def test_kms_encryption_creates_a_rotated_retained_key_used_by_trail_and_bucket(preview_stack: Any) -> None:
    result = plan(preview_stack, "kmsEncryption=true")
    key = one(result, KEY)
    assert key["inputs"]["enableKeyRotation"] is True
    assert key["inputs"]["deletionWindowInDays"] == 30
    assert key["retainOnDelete"] is True
    assert one(result, "aws:kms/alias:Alias")["inputs"]["name"] == "alias/account-activity-trail-logs"
    statements = document(key)
    assert statements["AllowCloudTrailEncryptLogs"]["Condition"]["StringEquals"] == {
        "aws:SourceArn": TRAIL_ARN
    }
    assert "AllowCloudWatchLogsEncryptTrailLogGroup" not in statements
    key_arn = one(result, TRAIL)["inputs"]["kmsKeyId"]
    assert key_arn.startswith(f"arn:aws:kms:us-east-1:{ACCOUNT}:key/")
    (rule,) = one(result, ENCRYPTION)["inputs"]["rules"]
    assert rule["applyServerSideEncryptionByDefault"] == {
        "kmsMasterKeyId": key_arn,
        "sseAlgorithm": "aws:kms",
    }
    assert rule["bucketKeyEnabled"] is True
    assert key["urn"] in one(result, TRAIL)["dependsOn"]


def test_existing_key_is_used_and_its_policy_left_alone(preview_stack: Any) -> None:
    result = plan(preview_stack, "kmsEncryption=true", f"kmsKeyArn={EXISTING_KEY}", "cloudWatchLogs=true")
    assert of_type(result, KEY) == []
    assert one(result, TRAIL)["inputs"]["kmsKeyId"] == EXISTING_KEY
    assert one(result, LOG_GROUP)["inputs"]["kmsKeyId"] == EXISTING_KEY
    (rule,) = one(result, ENCRYPTION)["inputs"]["rules"]
    assert rule["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"] == EXISTING_KEY


def test_cloudwatch_logs_delivery(preview_stack: Any) -> None:
    result = plan(preview_stack, "cloudWatchLogs=true", "kmsEncryption=true")
    group = one(result, LOG_GROUP)
    assert group["inputs"]["name"] == "cloudtrail/account-activity-trail"
    assert group["inputs"]["retentionInDays"] == 365
    assert group["inputs"]["kmsKeyId"] == one(result, TRAIL)["inputs"]["kmsKeyId"]
    assert group["retainOnDelete"] is True
    key_statement = document(one(result, KEY))["AllowCloudWatchLogsEncryptTrailLogGroup"]
    assert key_statement["Condition"] == {
        "ArnEquals": {
            "kms:EncryptionContext:aws:logs:arn": (
                f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:cloudtrail/account-activity-trail"
            )
        }
    }
    (trust,) = json.loads(one(result, ROLE)["inputs"]["assumeRolePolicy"])["Statement"]
    assert trust["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
    assert "Condition" not in trust
    stream = (
        f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:cloudtrail/account-activity-trail:log-stream:"
        f"{ACCOUNT}_CloudTrail_us-east-1*"
    )
    role_policy = json.loads(one(result, ROLE_POLICY)["inputs"]["policy"])["Statement"]
    assert [(s["Action"], s["Resource"]) for s in role_policy] == [
        ("logs:CreateLogStream", [stream]),
        ("logs:PutLogEvents", [stream]),
    ]
    trail = one(result, TRAIL)
    assert trail["inputs"]["cloudWatchLogsGroupArn"].endswith(
        ":log-group:cloudtrail/account-activity-trail:*"
    )
    assert trail["inputs"]["cloudWatchLogsRoleArn"].startswith(f"arn:aws:iam::{ACCOUNT}:role/")
    assert one(result, ROLE_POLICY)["urn"] in trail["dependsOn"]


def test_trust_policy_source_arn_condition_is_opt_in(preview_stack: Any) -> None:
    result = plan(preview_stack, "cloudWatchLogs=true", "cloudWatchLogsRoleSourceArn=true")
    (trust,) = json.loads(one(result, ROLE)["inputs"]["assumeRolePolicy"])["Statement"]
    assert trust["Condition"] == {"StringEquals": {"aws:SourceArn": TRAIL_ARN}}


def test_cis_alarms_exact_patterns_into_an_encrypted_topic(preview_stack: Any) -> None:
    result = plan(
        preview_stack,
        "cloudWatchLogs=true",
        "cisAlarms=true",
        'alarmEmails=["a@example.com","b@example.com"]',
    )
    filters = {r["name"]: r["inputs"] for r in of_type(result, FILTER)}
    alarms = {r["name"]: r["inputs"] for r in of_type(result, ALARM)}
    assert len(filters) == len(alarms) == 15
    topic = one(result, TOPIC)
    # No trail key of the stack's own: the topic gets a dedicated customer-managed key.
    alarm_key = one(result, KEY)
    assert alarm_key["name"] == "audit-trail-alarms-key"
    assert list(document(alarm_key)) == [
        "EnableAccountAdministration",
        "AllowCloudWatchAlarmsPublishToEncryptedTopic",
    ]
    assert topic["inputs"]["kmsMasterKeyId"].startswith(f"arn:aws:kms:us-east-1:{ACCOUNT}:key/")
    for control in CIS_CONTROLS:
        metric_filter = filters[f"audit-trail-{control.resource_suffix}"]
        assert metric_filter["pattern"] == control.filter_pattern
        assert metric_filter["logGroupName"] == "cloudtrail/account-activity-trail"
        assert metric_filter["metricTransformation"] == {
            "name": control.metric_name,
            "namespace": "CISBenchmark/account-activity-trail",
            "value": "1",
        }
        alarm = alarms[f"audit-trail-{control.resource_suffix}-alarm"]
        assert (alarm["metricName"], alarm["namespace"], alarm["threshold"]) == (
            control.metric_name,
            "CISBenchmark/account-activity-trail",
            1,
        )
        assert alarm["comparisonOperator"] == "GreaterThanOrEqualToThreshold"
        assert alarm["alarmActions"] == [f"arn:aws:sns:us-east-1:{ACCOUNT}:account-activity-trail-cis-alarms"]
        assert f"CIS {control.cis_id}" in alarm["alarmDescription"]
    emails = sorted(
        r["inputs"]["endpoint"] for r in of_type(result, "aws:sns/topicSubscription:TopicSubscription")
    )
    assert emails == ["a@example.com", "b@example.com"]
    topic_policy = document(one(result, "aws:sns/topicPolicy:TopicPolicy"))
    assert topic_policy["AllowCloudWatchAlarmsPublish"]["Principal"] == {
        "Service": "cloudwatch.amazonaws.com"
    }


def test_alarm_topic_has_its_own_key_even_when_the_stack_owns_the_trail_key(preview_stack: Any) -> None:
    """CloudWatch needs decrypt on the topic's key: that must never be the key protecting the logs."""
    result = plan(preview_stack, "kmsEncryption=true", "cloudWatchLogs=true", "cisAlarms=true")
    trail_key, alarm_key = named(result, KEY, "audit-trail-key"), named(result, KEY, "audit-trail-alarms-key")
    assert "cloudwatch.amazonaws.com" not in trail_key["inputs"]["policy"]
    assert list(document(alarm_key)) == [
        "EnableAccountAdministration",
        "AllowCloudWatchAlarmsPublishToEncryptedTopic",
    ]
    topic_key = one(result, TOPIC)["inputs"]["kmsMasterKeyId"]
    assert topic_key != one(result, TRAIL)["inputs"]["kmsKeyId"]
    assert topic_key.endswith(str(uuid.uuid5(uuid.NAMESPACE_URL, "audit-trail-alarms-key")))


def test_access_logging_into_a_separate_locked_down_bucket(preview_stack: Any) -> None:
    result = plan(preview_stack, "accessLogging=true", "accessLogRetentionDays=180")
    trail_bucket = result.outputs["bucketName"]
    assert named(result, BUCKET, "audit-trail-access-logs")["retainOnDelete"] is True
    logging = one(result, "aws:s3/bucketLogging:BucketLogging")["inputs"]
    target = logging["targetBucket"]
    assert target.startswith("audit-trail-access-logs-")
    assert logging == {"bucket": trail_bucket, "targetBucket": target, "targetPrefix": "s3-access-logs/"}
    encryption = named(result, ENCRYPTION, "audit-trail-access-logs-encryption")["inputs"]["rules"][0]
    assert encryption["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "AES256"}
    block = named(
        result,
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        "audit-trail-access-logs-public-access",
    )
    assert all(
        block["inputs"][k] is True
        for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    )
    lifecycle = named(
        result,
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
        "audit-trail-access-logs-lifecycle",
    )
    assert lifecycle["inputs"]["rules"][0]["expiration"] == {"days": 180}
    statements = document(named(result, POLICY, "audit-trail-access-logs-policy"))
    write = statements["S3ServerAccessLogsDelivery"]
    assert write["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert write["Resource"] == f"arn:aws:s3:::{target}/s3-access-logs/*"
    assert write["Condition"]["ArnLike"] == {"aws:SourceArn": f"arn:aws:s3:::{trail_bucket}"}


def test_s3_data_events_use_advanced_selectors_that_skip_the_log_buckets(preview_stack: Any) -> None:
    result = plan(preview_stack, "s3DataEvents=WriteOnly", "accessLogging=true", "lambdaDataEvents=true")
    inputs = one(result, TRAIL)["inputs"]
    assert "eventSelectors" not in inputs
    management, s3, lam, log_access = inputs["advancedEventSelectors"]
    assert management["fieldSelectors"] == [{"equals": ["Management"], "field": "eventCategory"}]
    logging = one(result, "aws:s3/bucketLogging:BucketLogging")["inputs"]
    buckets = sorted([logging["bucket"], logging["targetBucket"]])
    excluded = next(f for f in s3["fieldSelectors"] if f["field"] == "resources.ARN")["notStartsWiths"]
    assert sorted(excluded) == [f"arn:aws:s3:::{b}/" for b in buckets]
    assert {"equals": ["false"], "field": "readOnly"} in s3["fieldSelectors"]
    assert {"equals": ["AWS::Lambda::Function"], "field": "resources.type"} in lam["fieldSelectors"]
    # The trail bucket (not the access-log bucket) is watched for everything but CloudTrail's PutObject.
    assert {"field": "resources.ARN", "startsWiths": [f"arn:aws:s3:::{logging['bucket']}/"]} in log_access[
        "fieldSelectors"
    ]


def test_insights_on_call_and_error_rates(preview_stack: Any) -> None:
    inputs = one(plan(preview_stack, "insights=true"), TRAIL)["inputs"]
    assert inputs["insightSelectors"] == [
        {"insightType": "ApiCallRateInsight"},
        {"insightType": "ApiErrorRateInsight"},
    ]


def test_organization_trail_adds_the_organization_path(preview_stack: Any) -> None:
    result = plan(
        preview_stack, "isOrganizationTrail=true", "organizationId=o-a1b2c3d4e5", "cloudWatchLogs=true"
    )
    assert one(result, TRAIL)["inputs"]["isOrganizationTrail"] is True
    bucket = result.outputs["bucketName"]
    org = document(one(result, POLICY))["AWSCloudTrailWriteOrganization"]
    assert org["Resource"] == f"arn:aws:s3:::{bucket}/AWSLogs/o-a1b2c3d4e5/*"
    assert org["Condition"]["StringEquals"]["aws:SourceArn"] == TRAIL_ARN
    streams = json.loads(one(result, ROLE_POLICY)["inputs"]["policy"])["Statement"][0]["Resource"]
    assert streams[1].endswith(":log-stream:o-a1b2c3d4e5_*")
    # Every account of an organization trail, the management account included, lands under the org id
    # (user guide, "Amazon S3 bucket policy for CloudTrail", organization trails).
    assert result.outputs["logsLocation"] == f"s3://{bucket}/AWSLogs/o-a1b2c3d4e5/{ACCOUNT}/"


def test_central_bucket_creates_no_bucket_and_logs_there(preview_stack: Any) -> None:
    result = plan(preview_stack, "centralBucketName=org-log-archive-central")
    assert [r["type"] for r in result.resources if r["type"].startswith("aws:s3/")] == []
    assert one(result, TRAIL)["inputs"]["s3BucketName"] == "org-log-archive-central"
    assert result.outputs["bucketName"] == "org-log-archive-central"
    assert result.outputs["bucketArn"] == "arn:aws:s3:::org-log-archive-central"
    assert result.outputs["logsLocation"] == f"s3://org-log-archive-central/AWSLogs/{ACCOUNT}/"


def test_object_lock_enables_lock_on_the_bucket_with_a_default_retention(preview_stack: Any) -> None:
    result = plan(preview_stack, "objectLockMode=COMPLIANCE", "objectLockRetentionDays=60")
    lock = one(result, "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration")
    assert lock["inputs"]["objectLockEnabled"] == "Enabled"
    assert lock["inputs"]["rule"] == {"defaultRetention": {"days": 60, "mode": "COMPLIANCE"}}
    # S3 enables the lock on an existing bucket only once versioning is on.
    assert one(result, "aws:s3/bucketVersioning:BucketVersioning")["urn"] in lock["dependsOn"]
    assert lock["urn"] in one(result, TRAIL)["dependsOn"]


@pytest.mark.parametrize("bucket_name", [None, "acme-audit-logs-123456789012"])
def test_turning_object_lock_on_touches_no_input_of_the_bucket(
    preview_stack: Any, bucket_name: str | None
) -> None:
    """`objectLockEnabled` on the Bucket forces a new bucket (a fixed name then fails, a generated one
    splits the history): the lock must be added beside the bucket, which stays exactly as it was."""
    named_bucket = [f"bucketName={bucket_name}"] if bucket_name else []
    off = plan(preview_stack, *named_bucket)
    on = plan(preview_stack, *named_bucket, "objectLockMode=GOVERNANCE")
    assert one(on, BUCKET) == one(off, BUCKET)
    assert "objectLockEnabled" not in one(on, BUCKET)["inputs"]
    added = {r["type"] for r in on.resources} - {r["type"] for r in off.resources}
    assert added == {"aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration"}


@pytest.mark.parametrize(("region", "partition"), [("us-gov-west-1", "aws-us-gov"), ("cn-north-1", "aws-cn")])
def test_every_arn_of_a_fully_hardened_stack_is_in_the_stacks_partition(
    preview_stack: Any, region: str, partition: str
) -> None:
    result = preview_stack(
        "dev",
        f"aws:region={region}",
        "audit-trail:profile=cis",
        "audit-trail:insights=true",
        "audit-trail:isOrganizationTrail=true",
        "audit-trail:organizationId=o-a1b2c3d4e5",
    )
    assert result.error is None, result.error
    text = json.dumps([r["inputs"] for r in result.resources]) + json.dumps(result.outputs)
    found = [part.split(":")[0] for part in text.split("arn:")[1:] if not part.startswith("PARTITION")]
    assert found and set(found) == {partition}


def test_two_trails_with_cis_alarms_in_one_account_and_region_alarm_only_on_their_own_events(
    preview_program: Any,
) -> None:
    """A CloudWatch metric is its namespace and name in an account and region: two trails' filters must not
    feed one metric, or each one's alarms would fire on the other trail's events."""
    from audit_trail import AuditTrail

    def program() -> None:
        for name in ("security", "platform"):
            AuditTrail(name, {"trail_name": f"{name}-trail", "cloud_watch_logs": True, "cis_alarms": True})

    result = preview_program(program)
    assert result.error is None, result.error
    by_urn = {r["urn"]: r for r in result.resources}
    fed: dict[str, set[tuple[str, str]]] = {}
    for metric_filter in of_type(result, FILTER):
        trail = by_urn[metric_filter["parent"]]["name"]
        transformation = metric_filter["inputs"]["metricTransformation"]
        fed.setdefault(trail, set()).add((transformation["namespace"], transformation["name"]))
    assert len(fed["security"]) == len(fed["platform"]) == 15
    assert fed["security"].isdisjoint(fed["platform"])
    assert {ns for ns, _ in fed["security"]} == {"CISBenchmark/security-trail"}
    for alarm in of_type(result, ALARM):
        trail = by_urn[alarm["parent"]]["name"]
        # Security Hub's CloudWatch.1-14 follow the filter's metric to an alarm on it: each alarm watches a
        # metric its own trail's filter publishes.
        assert (alarm["inputs"]["namespace"], alarm["inputs"]["metricName"]) in fed[trail]


def test_user_tags_land_on_every_resource_that_takes_tags(preview_stack: Any) -> None:
    """Every option on, so every type the component creates is there; a type takes tags when its pulumi-aws
    arguments have `tags`."""
    import importlib
    import inspect

    result = plan(
        preview_stack,
        "profile=cis",
        "athena=true",
        "insights=true",
        "objectLockMode=GOVERNANCE",
        'alarmEmails=["secops@example.com"]',
    )
    tags = {"environment": "dev", "managed-by": "pulumi"}
    taggable = set()
    for resource in result.resources:
        if not resource["type"].startswith("aws:"):
            continue
        _, module_and_name, class_name = resource["type"].split(":")
        module = importlib.import_module(f"pulumi_aws.{module_and_name.split('/')[0]}")
        if "tags" in inspect.signature(getattr(module, f"{class_name}Args").__init__).parameters:
            taggable.add(resource["type"])
            assert resource["inputs"].get("tags") == tags, resource["name"]
    assert taggable == {
        "aws:athena/workgroup:Workgroup",
        "aws:cloudtrail/trail:Trail",
        "aws:cloudwatch/logGroup:LogGroup",
        "aws:cloudwatch/metricAlarm:MetricAlarm",
        "aws:glue/catalogDatabase:CatalogDatabase",
        "aws:iam/role:Role",
        "aws:kms/key:Key",
        "aws:s3/bucket:Bucket",
        "aws:sns/topic:Topic",
    }


def test_the_stacks_key_names_services_in_its_partitions_domain(preview_stack: Any) -> None:
    """In the European Sovereign Cloud the S3 endpoint and CloudWatch Logs are under amazonaws.eu."""
    result = preview_stack("dev", "aws:region=eusc-de-east-1", "audit-trail:profile=cis")
    assert result.error is None, result.error
    key = next(k for k in of_type(result, KEY) if k["name"] == "audit-trail-key")
    statements = {s["Sid"]: s for s in json.loads(key["inputs"]["policy"])["Statement"]}
    readers = statements["AllowAccountPrincipalsDecryptLogs"]["Condition"]["StringEquals"]
    assert readers["kms:ViaService"] == "s3.eusc-de-east-1.amazonaws.eu"
    logs = statements["AllowCloudWatchLogsEncryptTrailLogGroup"]["Principal"]
    assert logs == {"Service": "logs.eusc-de-east-1.amazonaws.eu"}


def test_names_derived_from_a_dotted_trail_name_are_valid_alias_and_topic_names(preview_stack: Any) -> None:
    result = plan(preview_stack, "trailName=security.trail_01", "profile=cis")
    assert one(result, "aws:kms/alias:Alias")["inputs"]["name"] == "alias/security-trail_01-logs"
    assert one(result, TOPIC)["inputs"]["name"] == "security-trail_01-cis-alarms"
    assert one(result, LOG_GROUP)["inputs"]["name"] == "cloudtrail/security.trail_01"


def test_options_work_through_the_components_args_as_another_program_passes_them(
    preview_program: Any,
) -> None:
    from audit_trail import AuditTrail
    from audit_trail.component.args import DataEvents, ObjectLockMode, Profile

    result = preview_program(
        lambda: AuditTrail(
            "org",
            {
                "profile": Profile.CIS,
                "s3_data_events": DataEvents.WRITE_ONLY,
                "alarm_emails": ["secops@example.com"],
                "object_lock_mode": ObjectLockMode.GOVERNANCE,
                "is_organization_trail": True,
                "organization_id": "o-a1b2c3d4e5",
            },
        ),
        {"aws:region": "eu-west-1"},
    )
    # s3DataEvents: the cis profile forbids anything but All, and the explicit value is refused.
    assert isinstance(result.error, ConfigError)
    assert [p.key for p in result.error.problems] == ["s3DataEvents"]

    result = preview_program(
        lambda: AuditTrail(
            "org",
            {"profile": Profile.CIS, "object_lock_mode": ObjectLockMode.GOVERNANCE, "insights": True},
        ),
        {"aws:region": "eu-west-1"},
    )
    assert result.error is None, result.error
    assert len(of_type(result, ALARM)) == 15
    assert (
        one(result, "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration")["name"]
        == "org-object-lock"
    )
    assert one(result, TRAIL)["inputs"]["insightSelectors"][0] == {"insightType": "ApiCallRateInsight"}
