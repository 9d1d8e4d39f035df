"""What every resource builder needs from the component: names, parent, settings, the account's
coordinates."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi

from ..settings import AuditTrailSettings


@dataclass(frozen=True)
class Context:
    name: str
    """The component's logical name, the prefix of every child's name."""
    parent: pulumi.Resource
    settings: AuditTrailSettings
    partition: pulumi.Output[str]
    region: pulumi.Output[str]
    account: pulumi.Output[str]
    trail_arn: pulumi.Output[str]
    """The trail's ARN computed from partition, region, account and name (no dependency on the trail)."""

    @property
    def tags(self) -> dict[str, str] | None:
        return self.settings.tags or None

    def opts(
        self, *, keep: bool = False, depends_on: Sequence[pulumi.Resource] = ()
    ) -> pulumi.ResourceOptions:
        """Child options; KEEP marks what holds or protects logs, retained like the log bucket."""
        return pulumi.ResourceOptions(
            parent=self.parent,
            retain_on_delete=self.settings.retain_on_delete if keep else None,
            depends_on=list(depends_on),
        )

    def policy(self, build: Callable[[str, str, str, str], dict[str, Any]]) -> pulumi.Output[str]:
        """A JSON policy document from BUILD(partition, region, account, trail ARN)."""
        return pulumi.Output.all(self.partition, self.region, self.account, self.trail_arn).apply(
            lambda a: json.dumps(build(a[0], a[1], a[2], a[3]))
        )
