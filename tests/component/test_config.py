"""Each config key takes effect everywhere it must; the project file declares them; runs are independent."""

from __future__ import annotations

import dataclasses
import json

import pytest
import yaml
from audit_trail.component import project_config
from audit_trail.component.settings import AuditTrailSettings
from audit_trail.component.validation import CONFIG_KEYS, FIELD_TYPES
from audit_trail.plan.preview import Preview
from support.graph import of_type, one
from support.paths import PROJECT_DIR

ACCOUNT = "123456789012"
TRAIL = "aws:cloudtrail/trail:Trail"
BUCKET = "aws:s3/bucket:Bucket"
POLICY = "aws:s3/bucketPolicy:BucketPolicy"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"


def ok(plan: Preview) -> Preview:
    assert plan.error is None, plan.error
    return plan


def policy(plan: Preview) -> dict[str, dict]:
    return {s["Sid"]: s for s in json.loads(one(plan, POLICY)["inputs"]["policy"])["Statement"]}


def arns_in(plan: Preview) -> list[str]:
    text = json.dumps([r["inputs"] for r in plan.resources]) + json.dumps(plan.outputs)
    return [part.split('"')[0] for part in text.split('"arn:')[1:]]


def test_trail_name_names_the_trail_the_policy_condition_and_outputs(preview_stack) -> None:
    plan = ok(preview_stack("dev", "audit-trail:trailName=security.trail_01"))
    arn = f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/security.trail_01"
    assert one(plan, TRAIL)["inputs"]["name"] == "security.trail_01"
    for statement in ("AWSCloudTrailAclCheck", "AWSCloudTrailWrite"):
        assert policy(plan)[statement]["Condition"]["StringEquals"]["aws:SourceArn"] == arn
    assert plan.outputs["trailName"] == "security.trail_01"
    assert plan.outputs["trailArn"] == arn
    assert plan.outputs["consoleUrl"].endswith("trail%2Fsecurity.trail_01")


def test_retention_days_expire_current_logs(preview_stack) -> None:
    rules = one(ok(preview_stack("dev", "audit-trail:retentionDays=365")), LIFECYCLE)["inputs"]["rules"]
    assert rules[0]["expiration"] == {"days": 365}


def test_noncurrent_version_days_expire_old_versions(preview_stack) -> None:
    rules = one(ok(preview_stack("dev", "noncurrentVersionDays=7")), LIFECYCLE)["inputs"]["rules"]
    assert rules[0]["noncurrentVersionExpiration"] == {"noncurrentDays": 7}


def test_single_region_trail_without_global_events(preview_stack) -> None:
    inputs = one(
        ok(
            preview_stack(
                "dev", "audit-trail:multiRegion=false", "audit-trail:includeGlobalServiceEvents=false"
            )
        ),
        TRAIL,
    )["inputs"]
    assert inputs["isMultiRegionTrail"] is False
    assert inputs["includeGlobalServiceEvents"] is False


@pytest.mark.parametrize("value", ["ReadOnly", "WriteOnly", "All"])
def test_read_write_type_selects_management_events(preview_stack, value: str) -> None:
    inputs = one(ok(preview_stack("dev", f"audit-trail:readWriteType={value}")), TRAIL)["inputs"]
    assert inputs["eventSelectors"] == [{"includeManagementEvents": True, "readWriteType": value}]


def test_log_file_validation_and_logging_switches(preview_stack) -> None:
    inputs = one(
        ok(preview_stack("dev", "audit-trail:logFileValidation=false", "audit-trail:enableLogging=false")),
        TRAIL,
    )["inputs"]
    assert inputs["enableLogFileValidation"] is False
    assert inputs["enableLogging"] is False


def test_s3_key_prefix_in_trail_policy_path_and_logs_location(preview_stack) -> None:
    plan = ok(preview_stack("dev", "audit-trail:s3KeyPrefix=org/audit"))
    bucket = plan.outputs["bucketName"]
    assert one(plan, TRAIL)["inputs"]["s3KeyPrefix"] == "org/audit"
    assert (
        policy(plan)["AWSCloudTrailWrite"]["Resource"]
        == f"arn:aws:s3:::{bucket}/org/audit/AWSLogs/{ACCOUNT}/*"
    )
    assert plan.outputs["s3KeyPrefix"] == "org/audit"
    assert plan.outputs["logsLocation"] == f"s3://{bucket}/org/audit/AWSLogs/{ACCOUNT}/"


def test_bucket_name_names_the_bucket_everywhere(preview_stack) -> None:
    plan = ok(preview_stack("dev", "audit-trail:bucketName=acme-audit-logs"))
    assert one(plan, BUCKET)["inputs"]["bucket"] == "acme-audit-logs"
    assert one(plan, TRAIL)["inputs"]["s3BucketName"] == "acme-audit-logs"
    assert policy(plan)["AWSCloudTrailAclCheck"]["Resource"] == "arn:aws:s3:::acme-audit-logs"
    assert policy(plan)["DenyInsecureTransport"]["Resource"] == [
        "arn:aws:s3:::acme-audit-logs",
        "arn:aws:s3:::acme-audit-logs/*",
    ]
    assert plan.outputs["bucketArn"] == "arn:aws:s3:::acme-audit-logs"


def test_opting_out_of_retention_lets_destroy_delete_the_logs(preview_stack) -> None:
    plan = ok(preview_stack("dev", "audit-trail:retainOnDelete=false", "audit-trail:forceDestroy=true"))
    assert one(plan, BUCKET)["inputs"]["forceDestroy"] is True
    assert not any(r["retainOnDelete"] for r in plan.resources)


def test_tags_from_set_as_json(preview_stack) -> None:
    plan = ok(preview_stack("dev", 'audit-trail:tags={"team": "security", "cost-center": 42}'))
    expected = {"team": "security", "cost-center": "42"}
    assert one(plan, BUCKET)["inputs"]["tags"] == expected
    assert one(plan, TRAIL)["inputs"]["tags"] == expected


@pytest.mark.parametrize(
    ("region", "partition", "console"),
    [
        ("us-gov-west-1", "aws-us-gov", "console.amazonaws-us-gov.com"),
        ("cn-north-1", "aws-cn", "console.amazonaws.cn"),
        ("eu-west-1", "aws", "console.aws.amazon.com"),
    ],
)
def test_partition_in_every_arn(preview_stack, region: str, partition: str, console: str) -> None:
    plan = ok(preview_stack("dev", f"aws:region={region}"))
    found = arns_in(plan)
    assert len(found) >= 8
    assert all(a.startswith(f"{partition}:") for a in found), found
    assert (
        plan.outputs["trailArn"]
        == f"arn:{partition}:cloudtrail:{region}:{ACCOUNT}:trail/account-activity-trail"
    )
    assert plan.outputs["homeRegion"] == region
    assert plan.outputs["consoleUrl"].startswith(f"https://{region}.{console}/cloudtrailv2/")


def test_prod_stack_is_stricter(preview_stack) -> None:
    plan = ok(preview_stack("prod"))
    # prod is hardened too (access logging adds a second bucket): look at the trail's own log bucket.
    lifecycle = next(r for r in of_type(plan, LIFECYCLE) if r["name"] == "audit-trail-lifecycle")
    rules = lifecycle["inputs"]["rules"]
    assert rules[0]["expiration"] == {"days": 365}
    assert rules[0]["noncurrentVersionExpiration"] == {"noncurrentDays": 90}
    assert one(plan, TRAIL)["inputs"]["s3KeyPrefix"] == "prod"
    assert one(plan, TRAIL)["inputs"]["name"] == "prod-account-activity"
    assert plan.outputs["homeRegion"] == "eu-west-1"
    assert next(r for r in of_type(plan, BUCKET) if r["name"] == "audit-trail-logs")["retainOnDelete"] is True


def test_evaluations_in_one_process_are_independent(preview_stack) -> None:
    first = ok(preview_stack("dev", "audit-trail:retentionDays=400", "aws:region=us-gov-east-1"))
    second = ok(preview_stack("dev"))
    assert one(first, LIFECYCLE)["inputs"]["rules"][0]["expiration"] == {"days": 400}
    assert one(second, LIFECYCLE)["inputs"]["rules"][0]["expiration"] == {"days": 90}
    assert second.outputs["homeRegion"] == "us-east-1"
    assert len(second.resources) == len(first.resources) == 10


# --- Pulumi.yaml declares every key it can, with the component's own defaults ------------------------------


def test_project_file_config_block_is_generated_and_current() -> None:
    text = (PROJECT_DIR / "Pulumi.yaml").read_text()
    assert project_config.render(text) == text, "run `python -m audit_trail.project_config`"
    declared = yaml.safe_load(text)["config"]
    assert set(declared) | set(project_config.undeclared()) == set(CONFIG_KEYS)
    assert not set(declared) & set(project_config.undeclared())


def test_declared_defaults_and_types_are_the_components() -> None:
    defaults = AuditTrailSettings()
    kinds = {bool: "boolean", int: "integer", str: "string", list[str]: "array"}
    for key, declared in project_config.declarations().items():
        field = CONFIG_KEYS[key]
        default = getattr(defaults, field)
        assert declared["default"] == getattr(default, "value", default), key
        assert declared["type"] == kinds.get(FIELD_TYPES[field], "string"), key
        assert declared["description"], key


def test_only_keys_without_a_fixed_default_are_left_undeclared() -> None:
    undeclared = project_config.undeclared()
    assert undeclared["tags"] == "a map"
    assert undeclared["dataEventSelectors"] == "a list of maps"
    assert undeclared["retentionDays"] == "preset by a profile"
    assert {
        "trailName",
        "multiRegion",
        "readWriteType",
        "s3KeyPrefix",
        "bucketName",
        "forceDestroy",
        "retainOnDelete",
        "includeGlobalServiceEvents",
        "logFileValidation",
    }.isdisjoint(undeclared)


def test_a_profile_preset_is_not_overridden_by_project_defaults(preview_stack) -> None:
    """The CLI passes each declared default as if set: a declared retentionDays would beat the pci preset."""
    plan = ok(preview_stack("dev", "audit-trail:profile=pci"))
    log_bucket_lifecycle = next(r for r in of_type(plan, LIFECYCLE) if r["name"] == "audit-trail-lifecycle")
    assert log_bucket_lifecycle["inputs"]["rules"][0]["expiration"] == {"days": 365}


def test_settings_fields_are_exactly_the_args_keys() -> None:
    assert [f.name for f in dataclasses.fields(AuditTrailSettings)] == list(FIELD_TYPES)


def test_config_keys_are_the_provider_schema_names() -> None:
    from audit_trail import AuditTrail
    from pulumi.provider.experimental.analyzer import Analyzer

    component = Analyzer("audit-trail").analyze([AuditTrail])["component_definitions"]["AuditTrail"]
    assert component.inputs_mapping == CONFIG_KEYS
    assert all(p.optional and p.description for p in component.inputs.values())
    assert list(component.outputs) == [
        "trailName",
        "trailArn",
        "bucketName",
        "bucketArn",
        "homeRegion",
        "s3KeyPrefix",
        "logsLocation",
        "consoleUrl",
        "athenaDatabase",
        "athenaTable",
        "athenaWorkgroup",
    ]
