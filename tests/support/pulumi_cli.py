"""A stand-in `pulumi` executable on PATH, so the code reading stack outputs runs for real in tests."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import pytest


def fake_pulumi(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    outputs: dict[str, Any] | None = None,
    *,
    exit_code: int = 0,
    stderr: str = "",
) -> Path:
    """Put a `pulumi` on PATH that prints OUTPUTS as `pulumi stack output --json` would (or fails with
    EXIT_CODE and STDERR), and logs its arguments to the returned file."""
    bin_dir = tmp_path / "fake-bin"
    bin_dir.mkdir(exist_ok=True)
    calls = bin_dir / "calls.log"
    script = bin_dir / "pulumi"
    script.write_text(
        "#!/bin/sh\n"
        f'echo "$@" >> {shlex.quote(str(calls))}\n'
        f"printf '%s' {shlex.quote(json.dumps(outputs or {}))}\n"
        f"printf '%s' {shlex.quote(stderr)} >&2\n"
        f"exit {exit_code}\n"
    )
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    return calls
