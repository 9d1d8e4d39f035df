"""The provider's construct path - what runs when a TypeScript, Go or YAML program creates an AuditTrail -
under Pulumi mocks: the same defaults, resource graph and validation errors as Python users get.

Inputs go through a protobuf Struct first, as they do on the wire from another language's SDK (numbers become
floats there)."""

from collections.abc import Callable
from typing import Any

import pulumi
import pytest
from audit_trail import AuditTrail
from audit_trail.component.provider_schema import COMPONENTS, PACKAGE_NAME, build_schema
from audit_trail.component.validation import ConfigError
from audit_trail.plan.preview import Preview
from google.protobuf import struct_pb2  # type: ignore[import-untyped]
from pulumi.errors import InputPropertyError
from pulumi.provider.experimental.component import ComponentProvider
from pulumi.provider.server import ComponentInitError
from pulumi.runtime import rpc
from support.graph import one

TOKEN = "audit-trail:index:AuditTrail"
STACK = "pulumi:pulumi:Stack"


def from_another_language(inputs: dict[str, Any]) -> dict[str, Any]:
    """INPUTS as the provider receives them from another language's SDK."""
    struct = struct_pb2.Struct()
    struct.update(inputs)
    return rpc.deserialize_properties(struct)


@pytest.fixture
def construct(preview_program: Callable[..., Preview]) -> Callable[[dict[str, Any]], Preview]:
    """Create an AuditTrail `audit` through the provider from camelCase INPUTS; export the returned state."""

    def _construct(inputs: dict[str, Any]) -> Preview:
        provider = ComponentProvider(COMPONENTS, PACKAGE_NAME)

        def program() -> None:
            result = provider.construct(
                "audit", TOKEN, from_another_language(inputs), pulumi.ResourceOptions()
            )
            for name, value in result.state.items():
                pulumi.export(name, value)

        return preview_program(program)

    return _construct


@pytest.fixture
def in_python(preview_program: Callable[..., Preview]) -> Callable[[dict[str, Any]], Preview]:
    """Create an AuditTrail named `audit` the Python way, from snake_case ARGS."""

    def _in_python(args: dict[str, Any]) -> Preview:
        def program() -> None:
            trail = AuditTrail("audit", args)  # type: ignore[arg-type]
            for name, value in trail.stack_outputs().items():
                pulumi.export(name, value)

        return preview_program(program)

    return _in_python


def test_numbers_from_another_language_arrive_as_floats() -> None:
    """Why the component accepts 365.0 as 365: the provider hands it over unconverted."""
    assert from_another_language({"retentionDays": 365}) == {"retentionDays": 365.0}
    assert isinstance(from_another_language({"retentionDays": 365})["retentionDays"], float)


def test_zero_retention_from_another_language_gets_the_python_error_and_creates_nothing(
    construct, in_python
) -> None:
    other = construct({"retentionDays": 0})
    python = in_python({"retention_days": 0})

    assert isinstance(other.error, ComponentInitError)
    assert isinstance(other.error.inner, ConfigError)
    assert isinstance(python.error, ConfigError)
    assert str(other.error) == str(python.error)
    assert "audit-trail:retentionDays = 0: must be a number of days from 1 to 3650" in str(other.error)
    for plan in (other, python):
        assert [r["type"] for r in plan.resources] == [STACK]


def test_every_problem_is_reported_at_once_through_construct(construct, in_python) -> None:
    other = construct({"retentionDays": 5000, "trailName": "x", "s3KeyPrefix": "/logs/"})
    python = in_python({"retention_days": 5000, "trail_name": "x", "s3_key_prefix": "/logs/"})

    assert isinstance(other.error, ComponentInitError)
    assert str(other.error) == str(python.error)
    message = str(other.error)
    assert "(3 problems; nothing was created)" in message
    for key in ("retentionDays = 5000", 'trailName = "x"', 's3KeyPrefix = "/logs/"'):
        assert key in message
    assert [r["type"] for r in other.resources] == [STACK]


def test_a_fractional_number_is_rejected_as_not_whole(construct) -> None:
    plan = construct({"retentionDays": 1.5})
    assert isinstance(plan.error, ComponentInitError)
    assert "audit-trail:retentionDays = 1.5: expected a whole number" in str(plan.error)
    assert [r["type"] for r in plan.resources] == [STACK]


def test_an_unknown_enum_value_is_rejected_naming_the_property(construct) -> None:
    plan = construct({"readWriteType": "Both"})
    assert isinstance(plan.error, InputPropertyError)
    assert plan.error.property_path == "readWriteType"
    assert [r["type"] for r in plan.resources] == [STACK]


def _graph(plan: Preview) -> list[dict[str, Any]]:
    assert plan.error is None, plan.error
    return plan.resources


def test_no_inputs_build_the_same_secure_default_trail_as_python(construct, in_python) -> None:
    assert _graph(construct({})) == _graph(in_python({}))


SETTINGS = {
    "retentionDays": 365,
    "noncurrentVersionDays": 7,
    "readWriteType": "WriteOnly",
    "s3KeyPrefix": "org-audit",
    "trailName": "org-trail",
    "bucketName": "acme-audit-logs-123456789012",
    "tags": {"team": "security", "cost-center": "cc-1234"},
}
PYTHON_SETTINGS = {
    "retention_days": 365,
    "noncurrent_version_days": 7,
    "read_write_type": "WriteOnly",
    "s3_key_prefix": "org-audit",
    "trail_name": "org-trail",
    "bucket_name": "acme-audit-logs-123456789012",
    "tags": {"team": "security", "cost-center": "cc-1234"},
}


def test_camel_case_inputs_build_the_same_graph_as_the_python_args(construct, in_python) -> None:
    other = construct(SETTINGS)
    assert _graph(other) == _graph(in_python(PYTHON_SETTINGS))

    # And that graph really carries the settings (the comparison alone would pass if both ignored them).
    trail = one(other, "aws:cloudtrail/trail:Trail")["inputs"]
    assert trail["name"] == "org-trail"
    assert trail["s3KeyPrefix"] == "org-audit"
    assert trail["eventSelectors"][0]["readWriteType"] == "WriteOnly"
    assert trail["tags"] == SETTINGS["tags"]
    rules = one(other, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")["inputs"]["rules"]
    expire = next(r for r in rules if r["id"] == "expire-logs")
    assert expire["expiration"]["days"] == 365
    assert expire["noncurrentVersionExpiration"]["noncurrentDays"] == 7
    assert one(other, "aws:s3/bucket:Bucket")["inputs"]["bucket"] == "acme-audit-logs-123456789012"


def test_the_state_returned_to_the_sdk_is_every_schema_output(construct, in_python) -> None:
    other = construct(SETTINGS)
    assert other.error is None, other.error
    schema_outputs = build_schema()["resources"][TOKEN]["properties"]
    assert set(other.outputs) == set(schema_outputs)
    assert (
        other.outputs["logsLocation"] == "s3://acme-audit-logs-123456789012/org-audit/AWSLogs/123456789012/"
    )
    assert other.outputs["trailArn"] == "arn:aws:cloudtrail:us-east-1:123456789012:trail/org-trail"
    python = in_python(PYTHON_SETTINGS)
    assert {k: other.outputs[k] for k in python.outputs} == python.outputs


def test_data_event_selectors_from_another_language_build_the_python_graph(construct, in_python) -> None:
    """A list of the schema's DataEventSelector objects arrives camelCase from another SDK."""
    other = construct(
        {
            "dataEventSelectors": [
                {"resourceType": "AWS::SNS::Topic", "readWrite": "WriteOnly", "eventNames": ["Publish"]}
            ],
            "networkActivityEvents": ["kms.amazonaws.com"],
        }
    )
    assert other.error is None, other.error
    python = in_python(
        {
            "data_event_selectors": [
                {"resource_type": "AWS::SNS::Topic", "read_write": "WriteOnly", "event_names": ["Publish"]}
            ],
            "network_activity_events": ["kms.amazonaws.com"],
        }
    )
    assert _graph(other) == _graph(python)
    selectors = one(other, "aws:cloudtrail/trail:Trail")["inputs"]["advancedEventSelectors"]
    assert [s["name"] for s in selectors] == [
        "Management events (All)",
        "AWS::SNS::Topic data events (WriteOnly)",
        "Network activity of kms.amazonaws.com",
    ]
