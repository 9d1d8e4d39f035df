"""The Pulumi side: everything `pulumi up` and the multi-language provider load, and nothing of the toolkit.

`AuditTrail` (the component) loads Pulumi and the AWS provider SDK, so it is imported on first use: the args,
settings and validation import without them, which lets `doctor` check a stack's config cheaply.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .trail import AuditTrail

__all__ = ["AuditTrail"]


def __getattr__(name: str) -> Any:
    if name == "AuditTrail":
        from .trail import AuditTrail

        return AuditTrail
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
