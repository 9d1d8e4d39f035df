"""The default (dev) stack's resource graph: every property of the secure-by-default trail."""

from __future__ import annotations

import json
from typing import Any

import pytest
from audit_trail.plan.preview import Preview
from support.graph import one

ACCOUNT = "123456789012"
TRAIL = "aws:cloudtrail/trail:Trail"
BUCKET = "aws:s3/bucket:Bucket"
POLICY = "aws:s3/bucketPolicy:BucketPolicy"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
BUCKET_SETTINGS = [
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketVersioning:BucketVersioning",
    LIFECYCLE,
    POLICY,
]


@pytest.fixture
def dev(preview_stack) -> Preview:
    plan = preview_stack("dev")
    assert plan.error is None
    return plan


def statements(plan: Preview) -> dict[str, dict[str, Any]]:
    policy = json.loads(one(plan, POLICY)["inputs"]["policy"])
    assert policy["Version"] == "2012-10-17"
    return {s["Sid"]: s for s in policy["Statement"]}


def test_creates_one_trail_one_bucket_and_its_settings(dev: Preview) -> None:
    types = sorted(r["type"] for r in dev.resources)
    assert types == sorted(
        ["pulumi:pulumi:Stack", "audit-trail:index:AuditTrail", TRAIL, BUCKET, *BUCKET_SETTINGS]
    )


def test_every_child_is_parented_to_the_component(dev: Preview) -> None:
    component = one(dev, "audit-trail:index:AuditTrail")
    stack = one(dev, "pulumi:pulumi:Stack")
    assert component["parent"] == stack["urn"]
    children = [r for r in dev.resources if r["type"].startswith("aws:")]
    assert len(children) == 8
    assert all(r["parent"] == component["urn"] for r in children)


def test_urns_have_the_engines_form(dev: Preview) -> None:
    trail = one(dev, TRAIL)
    component_type = "audit-trail:index:AuditTrail"
    assert trail["urn"] == (
        f"urn:pulumi:dev::audit-trail::{component_type}$aws:cloudtrail/trail:Trail::audit-trail-trail"
    )
    assert all("pulumi:pulumi:Stack$" not in r["urn"] for r in dev.resources)


def test_trail_is_multi_region_validated_logging_and_records_all_management_events(dev: Preview) -> None:
    inputs = one(dev, TRAIL)["inputs"]
    assert inputs["name"] == "account-activity-trail"
    assert inputs["isMultiRegionTrail"] is True
    assert inputs["includeGlobalServiceEvents"] is True
    assert inputs["enableLogFileValidation"] is True
    assert inputs["enableLogging"] is True
    assert inputs["eventSelectors"] == [{"includeManagementEvents": True, "readWriteType": "All"}]
    assert "s3KeyPrefix" not in inputs
    assert inputs["s3BucketName"] == one(dev, BUCKET)["inputs"].get("bucket", dev.outputs["bucketName"])


def test_trail_is_created_after_the_bucket_policy_and_bucket_settings(dev: Preview) -> None:
    trail = one(dev, TRAIL)
    for type_ in BUCKET_SETTINGS:
        assert one(dev, type_)["urn"] in trail["dependsOn"], type_
    policy = one(dev, POLICY)
    assert one(dev, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")["urn"] in policy["dependsOn"]


def test_bucket_has_a_generated_name_and_no_force_destroy(dev: Preview) -> None:
    bucket = one(dev, BUCKET)
    assert "bucket" not in bucket["inputs"]
    assert bucket["inputs"]["forceDestroy"] is False
    assert dev.outputs["bucketName"].startswith("audit-trail-logs-")


def test_bucket_is_locked_down(dev: Preview) -> None:
    block = one(dev, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")["inputs"]
    assert {
        k: block[k]
        for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    } == dict.fromkeys(
        ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"), True
    )
    ownership = one(dev, "aws:s3/bucketOwnershipControls:BucketOwnershipControls")["inputs"]
    assert ownership["rule"] == {"objectOwnership": "BucketOwnerEnforced"}
    sse = one(dev, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
    assert sse["inputs"]["rules"] == [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]
    versioning = one(dev, "aws:s3/bucketVersioning:BucketVersioning")["inputs"]
    assert versioning["versioningConfiguration"] == {"status": "Enabled"}
    bucket_name = dev.outputs["bucketName"]
    for type_ in BUCKET_SETTINGS:
        assert one(dev, type_)["inputs"]["bucket"] == bucket_name, type_


def test_lifecycle_expires_logs_old_versions_delete_markers_and_uploads(dev: Preview) -> None:
    rules = {r["id"]: r for r in one(dev, LIFECYCLE)["inputs"]["rules"]}
    expire = rules["expire-logs"]
    assert expire["status"] == "Enabled"
    assert expire["filter"] == {"prefix": ""}
    assert expire["expiration"] == {"days": 90}
    assert expire["noncurrentVersionExpiration"] == {"noncurrentDays": 30}
    assert expire["abortIncompleteMultipartUpload"] == {"daysAfterInitiation": 7}
    markers = rules["remove-expired-delete-markers"]
    assert markers["status"] == "Enabled"
    assert markers["expiration"] == {"expiredObjectDeleteMarker": True}
    assert one(dev, "aws:s3/bucketVersioning:BucketVersioning")["urn"] in one(dev, LIFECYCLE)["dependsOn"]


def test_bucket_policy_lets_only_this_trail_write_only_this_accounts_logs(dev: Preview) -> None:
    bucket_arn = f"arn:aws:s3:::{dev.outputs['bucketName']}"
    trail_arn = f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/account-activity-trail"
    st = statements(dev)
    assert set(st) == {"AWSCloudTrailAclCheck", "AWSCloudTrailWrite", "DenyInsecureTransport"}
    acl = st["AWSCloudTrailAclCheck"]
    assert (acl["Effect"], acl["Principal"], acl["Action"], acl["Resource"]) == (
        "Allow",
        {"Service": "cloudtrail.amazonaws.com"},
        "s3:GetBucketAcl",
        bucket_arn,
    )
    assert acl["Condition"] == {"StringEquals": {"aws:SourceArn": trail_arn}}
    write = st["AWSCloudTrailWrite"]
    assert (write["Effect"], write["Principal"], write["Action"]) == (
        "Allow",
        {"Service": "cloudtrail.amazonaws.com"},
        "s3:PutObject",
    )
    assert write["Resource"] == f"{bucket_arn}/AWSLogs/{ACCOUNT}/*"
    assert write["Condition"] == {
        "StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceArn": trail_arn}
    }
    deny = st["DenyInsecureTransport"]
    assert (deny["Effect"], deny["Principal"], deny["Action"]) == ("Deny", "*", "s3:*")
    assert deny["Resource"] == [bucket_arn, f"{bucket_arn}/*"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    allowed = [s["Principal"] for s in st.values() if s["Effect"] == "Allow"]
    assert allowed == [{"Service": "cloudtrail.amazonaws.com"}] * 2


def test_logs_outlive_the_stack(dev: Preview) -> None:
    for type_ in [BUCKET, *BUCKET_SETTINGS]:
        resource = one(dev, type_)
        assert resource["retainOnDelete"] is True, type_
        assert resource["protect"] is False, type_
    # The trail itself goes on destroy: it costs nothing once logging stops and holds no logs.
    assert one(dev, TRAIL)["retainOnDelete"] is False


def test_user_tags_land_on_every_taggable_resource(dev: Preview) -> None:
    tags = {"environment": "dev", "managed-by": "pulumi"}
    assert one(dev, BUCKET)["inputs"]["tags"] == tags
    assert one(dev, TRAIL)["inputs"]["tags"] == tags


def test_outputs_say_where_the_trail_and_logs_are(dev: Preview) -> None:
    trail = one(dev, TRAIL)["inputs"]
    policy = json.loads(one(dev, POLICY)["inputs"]["policy"])
    admitted = {
        s["Condition"]["StringEquals"]["aws:SourceArn"]
        for s in policy["Statement"]
        if s["Sid"].startswith("AWSCloudTrail")
    }
    bucket = trail["s3BucketName"]
    outputs = dev.outputs
    # The outputs name the trail, the bucket it delivers to, and the trail ARN the bucket policy admits.
    assert (outputs["trailName"], outputs["bucketName"]) == (trail["name"], bucket)
    assert admitted == {outputs["trailArn"]}
    assert outputs["bucketArn"] == f"arn:aws:s3:::{bucket}"
    assert outputs["homeRegion"] == dev.config["aws:region"]
    # What the component works out itself: where the logs land, and the console link of this trail.
    assert outputs["s3KeyPrefix"] == ""
    assert outputs["logsLocation"] == f"s3://{bucket}/AWSLogs/{ACCOUNT}/"
    assert outputs["consoleUrl"] == (
        "https://us-east-1.console.aws.amazon.com/cloudtrailv2/home?region=us-east-1#/trails/"
        + outputs["trailArn"].replace(":", "%3A").replace("/", "%2F")
    )


def test_json_contract_shape(dev: Preview) -> None:
    doc = json.loads(json.dumps(dev.to_json()))
    assert set(doc) == {"stack", "project", "config", "resources", "outputs"}
    assert (doc["stack"], doc["project"]) == ("dev", "audit-trail")
    assert doc["config"]["aws:region"] == "us-east-1"
    for resource in doc["resources"]:
        assert set(resource) == {
            "urn",
            "type",
            "name",
            "parent",
            "inputs",
            "dependsOn",
            "protect",
            "retainOnDelete",
        }
    assert [r["parent"] for r in doc["resources"]].count(None) == 1
