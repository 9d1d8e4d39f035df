"""AuditTrail as a multi-language Pulumi package: its name, its components and its schema.

provider/__main__.py serves these components with `component_provider_host`; the schema is what the Pulumi
SDK's analyser infers from `AuditTrailArgs` and the component's `pulumi.Output` annotations, built here by the
class the host uses. It is committed as provider/schema.json so a change to the public surface shows in review
and a test fails until it is regenerated, from the repository root:

    python -m audit_trail.component.provider_schema
"""

import json
import sys
from pathlib import Path
from typing import Any

from pulumi import ComponentResource
from pulumi.provider.experimental.component import ComponentProvider

from .trail import AuditTrail

PACKAGE_NAME = "audit-trail"
"""The package name in every language: token `audit-trail:index:AuditTrail`, npm `@pulumi/audit-trail`."""

COMPONENTS: list[type[ComponentResource]] = [AuditTrail]

SCHEMA_PATH = Path("provider") / "schema.json"
"""Where the committed schema lives, relative to the repository root."""


def build_schema() -> dict[str, Any]:
    """The schema the provider serves. No version: a source-based package is versioned by the git tag it is
    added at, and the host reports "0.0.0" just as this does."""
    provider = ComponentProvider(COMPONENTS, PACKAGE_NAME)
    return json.loads(provider.schema or "{}")


def render_schema(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> None:
    target = Path(argv[0]) if argv else SCHEMA_PATH
    target.write_text(render_schema(build_schema()), encoding="utf-8")
    print(f"wrote {target}")


if __name__ == "__main__":
    main(sys.argv[1:])
