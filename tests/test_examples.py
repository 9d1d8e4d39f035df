"""The TypeScript and Pulumi YAML examples are well-formed, use only what the committed schema offers, and
pass settings the component accepts (run through the provider's construct path under mocks).

No Pulumi CLI or TypeScript compiler here: the TypeScript program is read with a light parse, which is why
it is written in a plain style (one `new auditTrail.AuditTrail(...)` with a literal object, exports of its
outputs)."""

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml
from audit_trail.component.provider_schema import COMPONENTS, PACKAGE_NAME
from audit_trail.plan.preview import Preview
from google.protobuf import struct_pb2  # type: ignore[import-untyped]
from pulumi.provider.experimental.component import ComponentProvider
from pulumi.runtime import rpc
from support.graph import one

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
TOKEN = "audit-trail:index:AuditTrail"


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return json.loads((ROOT / "provider" / "schema.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def resource(schema: dict[str, Any]) -> dict[str, Any]:
    return schema["resources"][TOKEN]


def _project(example: str) -> dict[str, Any]:
    return yaml.safe_load((EXAMPLES / example / "Pulumi.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("example", ["typescript", "yaml"])
def test_the_example_project_takes_the_package_from_this_repositorys_provider(example: str) -> None:
    project = _project(example)
    assert project["name"]
    package_dir = (EXAMPLES / example / project["packages"]["audit-trail"]).resolve()
    assert package_dir == ROOT / "provider"
    assert (package_dir / "PulumiPlugin.yaml").is_file()


PYTHON_TYPES: dict[str, Any] = {
    "string": str,
    "integer": int,
    "number": (int, float),
    "boolean": bool,
    "object": dict,
}


def _check_value(name: str, value: Any, prop: dict[str, Any], schema: dict[str, Any]) -> None:
    """VALUE fits the schema property PROP (as Pulumi YAML and the TypeScript types would check)."""
    if "$ref" in prop:
        enum = schema["types"][prop["$ref"].removeprefix("#/types/")]["enum"]
        assert value in [v["value"] for v in enum], f"{name}: {value!r} is not one of the enum's values"
        return
    kind = prop["type"]
    assert isinstance(value, PYTHON_TYPES[kind]) and not (kind == "integer" and isinstance(value, bool)), name
    if kind == "object":
        for key, item in value.items():
            _check_value(f"{name}.{key}", item, prop["additionalProperties"], schema)


# --- Pulumi YAML --------------------------------------------------------------------------------------------


def _yaml_component(project: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    (name, spec), *others = project["resources"].items()
    assert others == []
    return name, spec


def test_yaml_program_creates_the_component_by_its_schema_token(schema: dict[str, Any]) -> None:
    project = _project("yaml")
    assert project["runtime"] == "yaml"
    _, spec = _yaml_component(project)
    assert spec["type"] in schema["resources"]


def test_yaml_properties_are_schema_inputs_of_the_right_type(
    schema: dict[str, Any], resource: dict[str, Any]
) -> None:
    _, spec = _yaml_component(_project("yaml"))
    properties = spec["properties"]
    assert properties, "the example should show a few settings"
    assert set(resource["requiredInputs"]) <= set(properties)
    for name, value in properties.items():
        assert name in resource["inputProperties"], f"{name} is not an input of {TOKEN}"
        _check_value(name, value, resource["inputProperties"][name], schema)


def test_yaml_outputs_read_schema_outputs(resource: dict[str, Any]) -> None:
    project = _project("yaml")
    component, _ = _yaml_component(project)
    for expression in project["outputs"].values():
        match = re.fullmatch(r"\$\{([\w-]+)\.(\w+)\}", expression)
        assert match, expression
        assert match[1] == component
        assert match[2] in resource["properties"], f"{match[2]} is not an output of {TOKEN}"


# --- TypeScript ---------------------------------------------------------------------------------------------

TS = EXAMPLES / "typescript"
_NEW = re.compile(r'new (\w+)\.AuditTrail\(\s*"[\w-]+",\s*(\{.*?\})\s*\);', re.S)


def _ts_source() -> str:
    return (TS / "index.ts").read_text(encoding="utf-8")


def _ts_args() -> dict[str, Any]:
    """The object literal given to `new auditTrail.AuditTrail(...)`, read as JSON once its keys are quoted."""
    found = _NEW.findall(_ts_source())
    assert len(found) == 1, 'expected exactly one `new <module>.AuditTrail("name", {...});`'
    literal = re.sub(r"([{,]\s*)([A-Za-z_]\w*)\s*:", r'\1"\2":', found[0][1])
    literal = re.sub(r",(\s*[}\]])", r"\1", literal)
    return json.loads(literal)


def test_typescript_imports_the_generated_sdk_the_package_json_points_at() -> None:
    source = _ts_source()
    imports = re.findall(r'import \* as (\w+) from "([^"]+)";', source)
    assert ("auditTrail", "@pulumi/audit-trail") in imports
    assert _NEW.search(source)[1] == "auditTrail"  # type: ignore[index]
    package = json.loads((TS / "package.json").read_text(encoding="utf-8"))
    assert package["main"] == "index.ts"
    # `pulumi install` generates the SDK into sdks/<package name>.
    assert package["dependencies"]["@pulumi/audit-trail"] == "file:sdks/audit-trail"
    assert "@pulumi/pulumi" in package["dependencies"]
    tsconfig = json.loads((TS / "tsconfig.json").read_text(encoding="utf-8"))
    assert tsconfig["files"] == ["index.ts"]
    assert _project("typescript")["runtime"]["name"] == "nodejs"


def test_typescript_args_are_schema_inputs_of_the_right_type(
    schema: dict[str, Any], resource: dict[str, Any]
) -> None:
    args = _ts_args()
    assert args
    assert set(resource["requiredInputs"]) <= set(args)
    for name, value in args.items():
        assert name in resource["inputProperties"], f"{name} is not an input of {TOKEN}"
        _check_value(name, value, resource["inputProperties"][name], schema)


def test_typescript_reads_only_schema_outputs(resource: dict[str, Any]) -> None:
    source = _ts_source()
    variable = re.search(r"const (\w+) = new \w+\.AuditTrail\(", source)
    assert variable
    used = re.findall(rf"\b{variable[1]}\.(\w+)", source)
    assert used
    assert set(used) <= set(resource["properties"]), set(used) - set(resource["properties"])


# --- Both programs' settings are accepted by the component --------------------------------------------------


def _through_provider(preview_program: Callable[..., Preview], inputs: dict[str, Any]) -> Preview:
    """Create the component from INPUTS the way another language's SDK does (protobuf Struct, construct)."""
    provider = ComponentProvider(COMPONENTS, PACKAGE_NAME)
    struct = struct_pb2.Struct()
    struct.update(inputs)
    wire = rpc.deserialize_properties(struct)
    return preview_program(lambda: provider.construct("example", TOKEN, wire, pulumi.ResourceOptions()))


@pytest.mark.parametrize("example", ["typescript", "yaml"])
def test_the_examples_settings_build_a_trail_through_the_provider(
    example: str, preview_program: Callable[..., Preview]
) -> None:
    settings = _ts_args() if example == "typescript" else _yaml_component(_project("yaml"))[1]["properties"]
    plan = _through_provider(preview_program, settings)
    assert plan.error is None, plan.error
    trail = one(plan, "aws:cloudtrail/trail:Trail")["inputs"]
    assert trail["s3KeyPrefix"] == settings["s3KeyPrefix"]
    assert trail["tags"] == settings["tags"]
