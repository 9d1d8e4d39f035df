"""audit-trail: a tamper-evident CloudTrail audit trail for an AWS account, and the tools to read it.

`from audit_trail import AuditTrail, AuditTrailArgs, ReadWriteType` gives the Pulumi component. It is imported
lazily so CLI commands that never build resources do not pay for loading the AWS SDK.
"""

from typing import TYPE_CHECKING, Any

from .component.args import AuditTrailArgs, ReadWriteType

if TYPE_CHECKING:
    from .component.trail import AuditTrail

__all__ = ["AuditTrail", "AuditTrailArgs", "ReadWriteType"]


def __getattr__(name: str) -> Any:
    if name == "AuditTrail":
        from .component.trail import AuditTrail

        return AuditTrail
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
