"""Where a deployed stack's trail and logs are, read from its Pulumi stack outputs."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from .errors import UserError


def read_stack_outputs(stack: str, cwd: Path | None = None, *, instead: str) -> dict[str, Any]:
    """`pulumi stack output --json` of STACK in the project directory CWD. INSTEAD: the calling command's
    options that name what the outputs would (`--bucket/--prefix`), offered when there is no Pulumi CLI."""
    pulumi = shutil.which("pulumi")
    if pulumi is None:
        raise UserError(
            f"--stack {stack}: reading stack outputs needs the Pulumi CLI on PATH; "
            f"install it, or give {instead} instead of --stack."
        )
    proc = subprocess.run(
        [pulumi, "stack", "output", "--json", "--stack", stack],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise UserError(f"--stack {stack}: `pulumi stack output` failed: {proc.stderr.strip()}")
    outputs: dict[str, Any] = json.loads(proc.stdout or "{}")
    if "bucketName" not in outputs:
        raise UserError(
            f"--stack {stack}: the stack has no `bucketName` output; was it deployed with audit-trail?"
        )
    return outputs


def stack_account(outputs: dict[str, Any]) -> str | None:
    """The account a stack's trail logs, from its ARN (arn:<partition>:cloudtrail:<region>:<account>:...)."""
    parts = str(outputs.get("trailArn", "")).split(":")
    return parts[4] if len(parts) > 5 and parts[4].isdigit() and len(parts[4]) == 12 else None
