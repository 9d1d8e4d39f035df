"""The `cis` profile's whole resource graph, in one test: what exists, how it is wired, what it keeps."""

from __future__ import annotations

import json
from typing import Any

from audit_trail.component.cis_controls import CIS_CONTROLS
from support.graph import one

ACCOUNT = "123456789012"
TRAIL_ARN = f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/account-activity-trail"

# (name, type, retained on delete): everything that holds or protects logs is kept, like the log bucket.
KEPT = [
    ("audit-trail-logs", "s3/bucket:Bucket"),
    ("audit-trail-public-access", "s3/bucketPublicAccessBlock:BucketPublicAccessBlock"),
    ("audit-trail-ownership", "s3/bucketOwnershipControls:BucketOwnershipControls"),
    (
        "audit-trail-encryption",
        "s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    ),
    ("audit-trail-versioning", "s3/bucketVersioning:BucketVersioning"),
    ("audit-trail-lifecycle", "s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"),
    ("audit-trail-policy", "s3/bucketPolicy:BucketPolicy"),
    ("audit-trail-key", "kms/key:Key"),
    ("audit-trail-key-alias", "kms/alias:Alias"),
    ("audit-trail-log-group", "cloudwatch/logGroup:LogGroup"),
    ("audit-trail-access-logs", "s3/bucket:Bucket"),
    ("audit-trail-access-logs-public-access", "s3/bucketPublicAccessBlock:BucketPublicAccessBlock"),
    ("audit-trail-access-logs-ownership", "s3/bucketOwnershipControls:BucketOwnershipControls"),
    (
        "audit-trail-access-logs-encryption",
        "s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    ),
    ("audit-trail-access-logs-versioning", "s3/bucketVersioning:BucketVersioning"),
    ("audit-trail-access-logs-lifecycle", "s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"),
    ("audit-trail-access-logs-policy", "s3/bucketPolicy:BucketPolicy"),
    ("audit-trail-access-logging", "s3/bucketLogging:BucketLogging"),
]
NOT_KEPT = [
    ("audit-trail-trail", "cloudtrail/trail:Trail"),
    ("audit-trail-cloudwatch-role", "iam/role:Role"),
    ("audit-trail-cloudwatch-delivery", "iam/rolePolicy:RolePolicy"),
    ("audit-trail-alarms", "sns/topic:Topic"),
    ("audit-trail-alarms-key", "kms/key:Key"),
    ("audit-trail-alarms-policy", "sns/topicPolicy:TopicPolicy"),
    ("audit-trail-alarms-email-0", "sns/topicSubscription:TopicSubscription"),
    *[
        (f"audit-trail-{c.resource_suffix}", "cloudwatch/logMetricFilter:LogMetricFilter")
        for c in CIS_CONTROLS
    ],
    *[(f"audit-trail-{c.resource_suffix}-alarm", "cloudwatch/metricAlarm:MetricAlarm") for c in CIS_CONTROLS],
]


def test_cis_profile_full_graph(preview_stack: Any) -> None:
    plan = preview_stack("dev", "audit-trail:profile=cis", 'audit-trail:alarmEmails=["secops@example.com"]')
    assert plan.error is None, plan.error
    component = one(plan, "audit-trail:index:AuditTrail")
    by_name = {r["name"]: r for r in plan.resources}

    # Exactly these children, all parented to the component, kept on delete exactly when they hold logs.
    children = sorted(
        (r["name"], r["type"].removeprefix("aws:"), r["retainOnDelete"])
        for r in plan.resources
        if r["parent"] == component["urn"]
    )
    assert children == sorted([(n, t, True) for n, t in KEPT] + [(n, t, False) for n, t in NOT_KEPT])
    assert len(plan.resources) == 2 + len(KEPT) + len(NOT_KEPT)

    # CIS 3.1 / 3.2 / 3.5 / 3.8 / 3.9 on the trail, and CloudWatch Logs delivery.
    trail = by_name["audit-trail-trail"]
    inputs = trail["inputs"]
    assert (
        inputs["isMultiRegionTrail"],
        inputs["includeGlobalServiceEvents"],
        inputs["enableLogFileValidation"],
    ) == (
        True,
        True,
        True,
    )
    key_arn = inputs["kmsKeyId"]
    assert key_arn.startswith(f"arn:aws:kms:us-east-1:{ACCOUNT}:key/")
    management, s3, log_access = inputs["advancedEventSelectors"]
    assert management == {
        "fieldSelectors": [{"equals": ["Management"], "field": "eventCategory"}],
        "name": "Management events (All)",
    }
    logging = by_name["audit-trail-access-logging"]["inputs"]
    assert s3["fieldSelectors"] == [
        {"equals": ["Data"], "field": "eventCategory"},
        {"equals": ["AWS::S3::Object"], "field": "resources.type"},
        {
            "field": "resources.ARN",
            "notStartsWiths": [
                f"arn:aws:s3:::{logging['bucket']}/",
                f"arn:aws:s3:::{logging['targetBucket']}/",
            ],
        },
    ]
    # CIS 3.8/3.9 "every bucket": the trail bucket too, for all but CloudTrail's PutObject deliveries.
    assert log_access["fieldSelectors"] == [
        {"equals": ["Data"], "field": "eventCategory"},
        {"equals": ["AWS::S3::Object"], "field": "resources.type"},
        {"field": "resources.ARN", "startsWiths": [f"arn:aws:s3:::{logging['bucket']}/"]},
        {"field": "eventName", "notEquals": ["PutObject"]},
    ]
    assert inputs["cloudWatchLogsGroupArn"] == (
        f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:cloudtrail/account-activity-trail:*"
    )
    # The trail waits for everything CloudTrail checks when it is created.
    for name in (
        "audit-trail-policy",
        "audit-trail-encryption",
        "audit-trail-key",
        "audit-trail-cloudwatch-delivery",
    ):
        assert by_name[name]["urn"] in trail["dependsOn"], name

    # CIS 3.5 / 3.6: one rotated key for logs and log group, with a statement for each user; the alarm topic
    # has a key of its own, so CloudWatch gets no grant on the key of the logs.
    key = by_name["audit-trail-key"]["inputs"]
    assert (key["enableKeyRotation"], key["deletionWindowInDays"]) == (True, 30)
    assert [s["Sid"] for s in json.loads(key["policy"])["Statement"]] == [
        "EnableAccountAdministration",
        "AllowCloudTrailEncryptLogs",
        "AllowCloudTrailDescribeKey",
        "AllowCloudTrailDecryptForBucketKey",
        "AllowAccountPrincipalsDecryptLogs",
        "AllowCloudWatchLogsEncryptTrailLogGroup",
    ]
    sse = by_name["audit-trail-encryption"]["inputs"]["rules"][0]
    assert sse == {
        "applyServerSideEncryptionByDefault": {"kmsMasterKeyId": key_arn, "sseAlgorithm": "aws:kms"},
        "bucketKeyEnabled": True,
    }
    assert by_name["audit-trail-log-group"]["inputs"]["kmsKeyId"] == key_arn
    alarm_key = by_name["audit-trail-alarms-key"]["inputs"]
    assert [s["Sid"] for s in json.loads(alarm_key["policy"])["Statement"]] == [
        "EnableAccountAdministration",
        "AllowCloudWatchAlarmsPublishToEncryptedTopic",
    ]
    assert by_name["audit-trail-alarms"]["inputs"]["kmsMasterKeyId"] != key_arn

    # CIS 3.4: the trail bucket's access logs go to the access-log bucket (SSE-S3: S3 cannot log to SSE-KMS).
    assert logging["bucket"] == plan.outputs["bucketName"]
    access_sse = by_name["audit-trail-access-logs-encryption"]["inputs"]["rules"][0]
    assert access_sse["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "AES256"}
    # The access logs are evidence too: versioned (checkov CKV_AWS_21), old versions expire after the
    # lifecycle, which waits for versioning.
    versioning = by_name["audit-trail-access-logs-versioning"]
    assert versioning["inputs"]["versioningConfiguration"] == {"status": "Enabled"}
    access_lifecycle = by_name["audit-trail-access-logs-lifecycle"]
    assert access_lifecycle["inputs"]["rules"][0]["noncurrentVersionExpiration"] == {"noncurrentDays": 30}
    assert versioning["urn"] in access_lifecycle["dependsOn"]

    # CIS 4.1-4.15: each pattern verbatim, each alarm to the topic.
    topic_arn = f"arn:aws:sns:us-east-1:{ACCOUNT}:account-activity-trail-cis-alarms"
    for control in CIS_CONTROLS:
        assert (
            by_name[f"audit-trail-{control.resource_suffix}"]["inputs"]["pattern"] == control.filter_pattern
        )
        assert by_name[f"audit-trail-{control.resource_suffix}-alarm"]["inputs"]["alarmActions"] == [
            topic_arn
        ]
    assert by_name["audit-trail-alarms-email-0"]["inputs"]["endpoint"] == "secops@example.com"

    # The bucket policy still admits only this trail.
    statements = json.loads(by_name["audit-trail-policy"]["inputs"]["policy"])["Statement"]
    assert [s["Sid"] for s in statements] == [
        "AWSCloudTrailAclCheck",
        "AWSCloudTrailWrite",
        "DenyInsecureTransport",
    ]
    assert statements[1]["Condition"]["StringEquals"]["aws:SourceArn"] == TRAIL_ARN
