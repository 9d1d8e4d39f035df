"""Looking things up in a preview's resource graph."""

from __future__ import annotations

from typing import Any

from audit_trail.plan.preview import Preview


def of_type(preview: Preview, type_: str) -> list[dict[str, Any]]:
    return [r for r in preview.resources if r["type"] == type_]


def one(preview: Preview, type_: str) -> dict[str, Any]:
    """The only resource of TYPE_ (AssertionError if there are none or several)."""
    found = of_type(preview, type_)
    assert len(found) == 1, f"expected one {type_}, found {len(found)}"
    return found[0]
