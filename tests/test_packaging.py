"""Reuse from another project: a consumer program gets a correct graph; the package installs and imports."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest
from support.graph import one
from support.paths import PROJECT_DIR

CONSUMER = Path(__file__).resolve().parent / "consumer" / "__main__.py"


def test_consumer_program_builds_its_own_trail(preview_program) -> None:
    plan = preview_program(CONSUMER, {"aws:region": "eu-central-1"})
    assert plan.error is None, plan.error
    trail = one(plan, "aws:cloudtrail/trail:Trail")
    assert trail["name"] == "security-trail"
    assert trail["inputs"]["name"] == "security-writes"
    assert trail["inputs"]["eventSelectors"] == [
        {"includeManagementEvents": True, "readWriteType": "WriteOnly"}
    ]
    assert trail["inputs"]["s3KeyPrefix"] == "security"
    assert trail["inputs"]["tags"] == {"owner": "secops"}
    policy = json.loads(one(plan, "aws:s3/bucketPolicy:BucketPolicy")["inputs"]["policy"])
    write = next(s for s in policy["Statement"] if s["Sid"] == "AWSCloudTrailWrite")
    assert write["Resource"] == "arn:aws:s3:::consumer-security-logs/security/AWSLogs/123456789012/*"
    lifecycle = one(plan, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
    assert lifecycle["inputs"]["rules"][0]["expiration"] == {"days": 400}
    # The consumer's `protect` reaches every child, on top of the component's own retain-on-delete.
    children = [r for r in plan.resources if r["type"].startswith("aws:")]
    assert all(r["protect"] for r in children)
    assert plan.outputs == {
        "writesTrail": "arn:aws:cloudtrail:eu-central-1:123456789012:trail/security-writes",
        "writesLogs": "s3://consumer-security-logs/security/AWSLogs/123456789012/",
    }


def _build_wheel(tmp: Path) -> Path:
    """Build the wheel from a clean copy of the sources, as `pip install <repo>` would."""
    source = tmp / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(PROJECT_DIR / name, source / name)
    shutil.copytree(
        PROJECT_DIR / "components",
        source / "components",
        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"),
    )
    out = tmp / "dist"
    build = "import sys; from setuptools import build_meta; build_meta.build_wheel(sys.argv[1])"
    subprocess.run([sys.executable, "-c", build, str(out)], cwd=source, check=True, capture_output=True)
    return next(out.glob("audit_trail-*.whl"))


def test_wheel_ships_the_component_and_imports_on_its_own(tmp_path: Path) -> None:
    wheel = _build_wheel(tmp_path)
    archive = zipfile.ZipFile(wheel)
    names = set(archive.namelist())
    for module in (
        "component/trail.py",
        "component/args.py",
        "component/validation.py",
        "plan/preview.py",
        "component/policies/bucket.py",
        "py.typed",
    ):
        assert f"audit_trail/{module}" in names, module
    assert not any(n.startswith(("tests/", "__main__")) for n in names)

    target = tmp_path / "site"
    archive.extractall(target)  # a pure-Python wheel installs by unpacking
    probe = (
        "import audit_trail, audit_trail.component as c; print(audit_trail.__file__, c.AuditTrail.__name__)"
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    location, name = done.stdout.split()
    assert Path(location).is_relative_to(target)
    assert name == "AuditTrail"


@pytest.mark.skipif(
    not os.environ.get("AUDIT_TRAIL_INSTALL_TEST"),
    reason="installs every dependency from PyPI into a fresh venv (minutes); set AUDIT_TRAIL_INSTALL_TEST=1",
)
def test_pip_install_of_the_repo_into_a_fresh_venv(tmp_path: Path) -> None:
    """Without extras: the component and only what it needs; the command says to install the `cli` extra."""
    venv.create(tmp_path / "venv", with_pip=True)
    python = tmp_path / "venv" / "bin" / "python"
    subprocess.run([python, "-m", "pip", "install", "--quiet", str(PROJECT_DIR)], check=True)
    probe = "from audit_trail import AuditTrail, AuditTrailArgs, ReadWriteType; print(AuditTrail.__module__)"
    done = subprocess.run([python, "-c", probe], capture_output=True, text=True, check=True, cwd=tmp_path)
    assert done.stdout.strip() == "audit_trail.component.trail"
    listed = subprocess.run([python, "-m", "pip", "list", "--format", "json"], capture_output=True, text=True)
    # pip lists a distribution under its metadata name (`pulumi_aws`): compare PEP 503 normalised names.
    installed = {re.sub(r"[-_.]+", "-", p["name"]).lower() for p in json.loads(listed.stdout)}
    assert {"pulumi", "pulumi-aws", "audit-trail"} <= installed
    assert not installed & {"duckdb", "boto3", "typer", "rich", "orjson", "isal", "pysigma", "cryptography"}
    command = subprocess.run(
        [tmp_path / "venv" / "bin" / "audit-trail", "--version"], capture_output=True, text=True
    )
    assert command.returncode == 2
    assert "pip install 'audit-trail[cli]'" in command.stderr and "Traceback" not in command.stderr


def test_the_command_checks_for_every_distribution_of_the_cli_extra() -> None:
    """`audit-trail` without part of the `cli` extra names what is missing instead of a traceback: it
    checks an import name for each distribution the extra lists."""
    import importlib.metadata
    import tomllib

    from audit_trail.cli import CLI_MODULES

    extra = tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text())["project"]["optional-dependencies"][
        "cli"
    ]
    wanted = {re.split(r"[<>=!~\[ ;]", req, maxsplit=1)[0].lower() for req in extra}
    provided = importlib.metadata.packages_distributions()
    checked = {dist.lower() for name in CLI_MODULES for dist in provided.get(name, [])}
    assert wanted <= checked, f"not checked: {sorted(wanted - checked)}"
