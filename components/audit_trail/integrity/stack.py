"""A deployed audit-trail stack as `doctor` and `verify` see it: where its trail and bucket are (its outputs),
and what its config asks for (the settings the program builds from it, profile presets included)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..component.config import args_from_config
from ..component.settings import AuditTrailSettings
from ..component.validation import check
from ..errors import UserError
from ..project import find_project, stack_config
from ..stack_outputs import read_stack_outputs
from .doctor import Expectations


@dataclass(frozen=True)
class DeployedStack:
    name: str
    outputs: dict[str, Any]
    settings: AuditTrailSettings | None
    """What the stack's config builds, when its project is here (None: only the outputs are known)."""

    @property
    def trail_name(self) -> str:
        return str(self.outputs["trailName"])

    @property
    def home_region(self) -> str:
        return str(self.outputs["homeRegion"])

    def expectations(self) -> Expectations:
        s = self.settings
        if s is None:
            return Expectations()
        return Expectations(
            retention_days=s.retention_days,
            read_write_type=s.read_write_type.value,
            multi_region=s.multi_region,
            noncurrent_version_days=s.noncurrent_version_days,
            s3_key_prefix=s.s3_key_prefix,
            organization_id=s.organization,
        )


def deployed_stack(
    stack: str, cwd: Path | None = None, *, instead: str = "--trail and --region"
) -> DeployedStack:
    """STACK's outputs (`pulumi stack output`) and, when the project is in CWD or above, the settings its
    config builds: the same `args_from_config` and `check` the program runs. INSTEAD: the options that
    name the trail without a stack (`read_stack_outputs`)."""
    outputs = read_stack_outputs(stack, cwd, instead=instead)
    try:
        config = stack_config(find_project(cwd or Path.cwd()), stack)
    except UserError:
        return DeployedStack(stack, outputs, None)
    settings, _ = check(args_from_config(config))
    return DeployedStack(stack, outputs, settings)
