"""The multi-language package: the committed schema is exactly what the Pulumi SDK infers from AuditTrail, the
provider entry point serves that schema, and the schema carries every input and output with type and docs."""

import inspect
import json
import subprocess
import sys
from enum import Enum
from pathlib import Path
from typing import Any, get_args, get_origin, get_type_hints, is_typeddict

import grpc  # type: ignore[import-untyped]
import pytest
import yaml
from audit_trail.component import trail as component
from audit_trail.component.args import AuditTrailArgs, DataEventSelector, ReadWriteType
from audit_trail.component.provider_schema import PACKAGE_NAME, build_schema
from audit_trail.component.settings import AuditTrailSettings
from pulumi import Output
from pulumi.provider.experimental.util import camel_case
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc
from support.paths import PROJECT_DIR

ROOT = PROJECT_DIR
PROVIDER = ROOT / "provider"
TOKEN = "audit-trail:index:AuditTrail"
ENUM_TOKEN = "audit-trail:index:ReadWriteType"
REGENERATE = "python -m audit_trail.provider_schema"


@pytest.fixture(scope="module")
def committed() -> dict[str, Any]:
    return json.loads((PROVIDER / "schema.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def resource(committed: dict[str, Any]) -> dict[str, Any]:
    return committed["resources"][TOKEN]


def test_committed_schema_is_what_the_analyser_infers_today(committed: dict[str, Any]) -> None:
    assert build_schema() == committed, f"provider/schema.json is stale: run `{REGENERATE}` and commit it"


def test_the_entry_point_serves_the_committed_schema(committed: dict[str, Any]) -> None:
    """Start provider/__main__.py as the language host would and ask it for its schema over gRPC."""
    # The engine address is only stored; nothing connects to it while serving GetSchema.
    proc = subprocess.Popen(
        [sys.executable, str(PROVIDER), "127.0.0.1:1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        port = proc.stdout.readline().strip()
        assert port.isdigit(), (
            f"provider did not start: {port!r}\n{proc.stderr.read() if proc.stderr else ''}"
        )
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = provider_pb2_grpc.ResourceProviderStub(channel)
            served = stub.GetSchema(provider_pb2.GetSchemaRequest(version=0), timeout=20).schema
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert json.loads(served) == committed


def test_package_and_resource_token(committed: dict[str, Any], resource: dict[str, Any]) -> None:
    assert committed["name"] == PACKAGE_NAME == "audit-trail"
    assert list(committed["resources"]) == [TOKEN]
    assert resource["isComponent"] is True
    assert "CloudTrail" in resource["description"]
    # The component registers under the schema's token, or the engine would not match what the SDKs create.
    assert component.TYPE == TOKEN


# Inputs the stack config, the examples and the README rely on: (schema type, enum values or map value type).
CORE_INPUTS: dict[str, tuple[str, Any]] = {
    "trailName": ("string", None),
    "retentionDays": ("integer", None),
    "noncurrentVersionDays": ("integer", None),
    "multiRegion": ("boolean", None),
    "readWriteType": (ENUM_TOKEN, ["All", "ReadOnly", "WriteOnly"]),
    "includeGlobalServiceEvents": ("boolean", None),
    "logFileValidation": ("boolean", None),
    "enableLogging": ("boolean", None),
    "s3KeyPrefix": ("string", None),
    "bucketName": ("string", None),
    "forceDestroy": ("boolean", None),
    "retainOnDelete": ("boolean", None),
    "tags": ("object", "string"),
}


def _kind(prop: dict[str, Any]) -> str:
    return prop["$ref"].removeprefix("#/types/") if "$ref" in prop else prop["type"]


@pytest.mark.parametrize("name", sorted(CORE_INPUTS))
def test_core_input_has_its_type_and_is_optional(
    name: str, committed: dict[str, Any], resource: dict[str, Any]
) -> None:
    kind, detail = CORE_INPUTS[name]
    prop = resource["inputProperties"][name]
    assert _kind(prop) == kind
    if kind == ENUM_TOKEN:
        assert [v["value"] for v in committed["types"][ENUM_TOKEN]["enum"]] == detail
    if kind == "object":
        assert prop["additionalProperties"]["type"] == detail
    assert name not in resource["requiredInputs"]


def test_every_input_is_optional(resource: dict[str, Any]) -> None:
    """Secure defaults for everything: `new AuditTrail("audit", {})` is a complete, compliant trail."""
    assert resource["requiredInputs"] == []


def test_inputs_are_exactly_the_args_fields_with_matching_types(committed: dict[str, Any]) -> None:
    resource = committed["resources"][TOKEN]
    hints = get_type_hints(AuditTrailArgs)
    assert set(resource["inputProperties"]) == {camel_case(field) for field in hints}
    for field, typ in hints.items():
        prop = resource["inputProperties"][camel_case(field)]
        if isinstance(typ, type) and issubclass(typ, Enum):
            enum = committed["types"][_kind(prop)]["enum"]
            assert [v["value"] for v in enum] == [m.value for m in typ], field
        elif get_origin(typ) in (dict, list):
            assert prop["type"] == {dict: "object", list: "array"}[get_origin(typ)], field
            inner = prop.get("additionalProperties") or prop["items"]
            item = get_args(typ)[-1]
            if is_typeddict(item):
                assert inner["$ref"] == f"#/types/{PACKAGE_NAME}:index:{item.__name__}", field
            else:
                assert inner["type"] == {str: "string", int: "integer", bool: "boolean"}[item], field
        else:
            assert prop["type"] == {str: "string", int: "integer", bool: "boolean", float: "number"}[typ], (
                field
            )


def test_every_input_is_plain(resource: dict[str, Any]) -> None:
    """Plain values only: the component validates every setting before it registers anything, so a value must
    be known then (another resource's output is not). The SDKs type the args accordingly."""
    assert [n for n, p in resource["inputProperties"].items() if p.get("plain") is not True] == []


def test_every_input_is_documented_with_the_default_the_component_applies(resource: dict[str, Any]) -> None:
    """Users of other languages never see the Python defaults: the description must state them."""
    defaults = AuditTrailSettings()
    for field in get_type_hints(AuditTrailArgs):
        description = " ".join(
            (resource["inputProperties"][camel_case(field)].get("description") or "").split()
        )
        assert len(description) > 20, f"{field}: no description"
        default = getattr(defaults, field)
        if isinstance(default, Enum):
            default = default.value
        if isinstance(default, bool):
            default = str(default).lower()
        if default in (None, "", {}, []):
            continue  # "none", "a generated name", "retention_days"... are worded freely
        stated = (f"Default {default}", f"Default `{default}`", f"{default} (default)")
        assert any(s in description for s in stated), f"{field}: default {default!r} not in {description!r}"


def test_every_enum_is_a_schema_type_with_its_values_documented(committed: dict[str, Any]) -> None:
    enums = {
        t for t in get_type_hints(AuditTrailArgs).values() if isinstance(t, type) and issubclass(t, Enum)
    }
    assert ReadWriteType in enums
    records = {DataEventSelector}
    assert set(committed["types"]) == {f"{PACKAGE_NAME}:index:{e.__name__}" for e in (*enums, *records)}
    selector = committed["types"][f"{PACKAGE_NAME}:index:DataEventSelector"]
    assert selector["required"] == ["resourceType"]
    assert set(selector["properties"]) == {camel_case(f) for f in get_type_hints(DataEventSelector)}
    assert all(p.get("description") for p in selector["properties"].values())
    for enum in enums:
        schema_type = committed["types"][f"{PACKAGE_NAME}:index:{enum.__name__}"]
        assert schema_type["type"] == "string"
        assert schema_type["description"]
        assert {v["name"]: v["value"] for v in schema_type["enum"]} == {m.name: m.value for m in enum}
        assert all(v.get("description") for v in schema_type["enum"]), enum.__name__


# The stack output contract, which other tools read (see stack_outputs.read_stack_outputs).
CONTRACT_OUTPUTS = [
    "trailName",
    "trailArn",
    "bucketName",
    "bucketArn",
    "homeRegion",
    "s3KeyPrefix",
    "logsLocation",
    "consoleUrl",
]


def test_outputs_include_the_stack_output_contract_as_required_strings(resource: dict[str, Any]) -> None:
    for name in CONTRACT_OUTPUTS:
        assert resource["properties"][name]["type"] == "string", name
        assert name in resource["required"], name


def test_outputs_are_exactly_the_components_annotated_outputs_and_documented(
    resource: dict[str, Any],
) -> None:
    annotated = {
        camel_case(attr)
        for attr, typ in inspect.get_annotations(component.AuditTrail).items()
        if not attr.startswith("_") and get_origin(typ) is Output
    }
    assert set(resource["properties"]) == annotated
    assert set(CONTRACT_OUTPUTS) <= annotated
    undocumented = [n for n, p in resource["properties"].items() if not p.get("description")]
    assert undocumented == []


def test_plugin_manifest_sits_beside_the_entry_point() -> None:
    manifest = yaml.safe_load((PROVIDER / "PulumiPlugin.yaml").read_text(encoding="utf-8"))
    assert manifest == {"runtime": "python"}
    assert (PROVIDER / "__main__.py").is_file()
    # The Pulumi program at the root stays a program: its manifest is Pulumi.yaml, not a plugin's.
    assert not (ROOT / "PulumiPlugin.yaml").exists()


def _pins(path: Path) -> dict[str, str]:
    lines = (line.split("#")[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return dict(line.split("==", 1) for line in lines if "==" in line)


def test_plugin_requirements_install_this_repository_with_the_projects_pins() -> None:
    requirements = (PROVIDER / "requirements.txt").read_text(encoding="utf-8").splitlines()
    # Pulumi runs pip from the plugin folder, so `..` is the repository root with its pyproject.toml.
    assert "-e .." in requirements
    assert (PROVIDER / ".." / "pyproject.toml").is_file()
    plugin_pins = _pins(PROVIDER / "requirements.txt")
    assert {"pulumi", "pulumi-aws"} <= set(plugin_pins)
    project_pins = _pins(ROOT / "requirements.txt")
    assert {name: project_pins.get(name) for name in plugin_pins} == plugin_pins
