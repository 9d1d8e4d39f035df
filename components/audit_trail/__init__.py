"""audit-trail: a tamper-evident CloudTrail audit trail for an AWS account, and the tools to read it.

`from audit_trail import AuditTrail, AuditTrailArgs, ReadWriteType` gives the Pulumi component. Each is
imported on first use, so CLI commands that never build resources do not pay for loading the AWS SDK, nor
for defining the component's argument types.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .component.args import AuditTrailArgs, ReadWriteType
    from .component.trail import AuditTrail

__all__ = ["AuditTrail", "AuditTrailArgs", "ReadWriteType"]


def __getattr__(name: str) -> Any:
    if name == "AuditTrail":
        from .component.trail import AuditTrail

        return AuditTrail
    if name in ("AuditTrailArgs", "ReadWriteType"):
        from .component import args

        return getattr(args, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
