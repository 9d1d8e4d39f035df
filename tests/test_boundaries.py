"""The package's parts depend on each other one way: the component loads none of the toolkit, the libraries
know no CLI, and the `audit-trail` command without its extra says what to install."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest
from support.paths import PROJECT_DIR

PACKAGE = PROJECT_DIR / "components" / "audit_trail"
TOOLKIT_LIBRARIES = (
    "typer",
    "click",
    "rich",
    "duckdb",
    "isal",
    "orjson",
    "boto3",
    "botocore",
    "sigma",
    "cryptography",
    "jinja2",
    "matplotlib",
)


def _loaded_after(code: str) -> list[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    loaded: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return loaded


def test_building_the_component_loads_none_of_the_toolkit() -> None:
    code = """
import pulumi
from audit_trail import AuditTrail
from audit_trail.plan.preview import run
preview = run(lambda: AuditTrail("t", {"profile": "cis", "athena": True}), {"aws:region": "eu-west-1"})
assert preview.error is None, preview.error
assert len(preview.resources) > 50
"""
    loaded = _loaded_after(code)
    assert [m for m in loaded if m.split(".")[0] in TOOLKIT_LIBRARIES] == []
    ours = [m for m in loaded if m.startswith("audit_trail.")]
    toolkit = ("investigate", "hunt", "integrity", "report", "cli", "store")
    assert not [m for m in ours if m.split(".")[1] in toolkit]


def _imports(path: Path) -> set[str]:
    """The audit_trail modules (and third-party top-level names) a module imports, resolved."""
    module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return found


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "audit_trail" else ""


# Who may import whom, by the package's top-level parts. Leaves (modules at the root) import only leaves.
ALLOWED = {
    "component": {"component", "queries"},
    "queries": {"queries"},
    "plan": {"plan", "component", "queries"},
    "investigate": {"investigate", "queries"},
    "hunt": {"hunt", "investigate", "queries"},
    "cache": {"cache", "investigate", "queries"},
    "integrity": {"integrity", "component", "queries"},
    "report": {"report", "component", "queries", "investigate", "hunt", "integrity"},
    "cli": {"cli", "component", "queries", "plan", "investigate", "cache", "hunt", "integrity", "report"},
}
CLI_ONLY = ("typer", "click", "rich")


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_run_one_way(path: Path) -> None:
    parts = path.relative_to(PACKAGE).parts
    own = parts[0] if len(parts) > 1 else ""
    imported = _imports(path)
    ours = {_part(m) for m in imported if m.startswith("audit_trail.")}
    leaves = {p for p in ours if (PACKAGE / f"{p}.py").is_file()}
    parts_used = ours - leaves - {""}
    if own:
        assert parts_used <= ALLOWED[own], f"{own} imports {parts_used - ALLOWED[own]}"
    else:  # a leaf
        assert not parts_used or path.name == "__init__.py", f"leaf imports {parts_used}"
    if own != "cli":
        assert not {m.split(".")[0] for m in imported} & set(CLI_ONLY), "a library imports the CLI framework"


def test_the_command_without_its_extra_says_what_to_install() -> None:
    code = (
        "import sys\n"
        "for name in ('typer', 'duckdb', 'jinja2'):\n"
        "    sys.modules[name] = None  # as if the `cli` extra was never installed\n"
        "from audit_trail.cli import main\n"
        "main()\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr == (
        "audit-trail: the command-line tools are not installed (missing: typer, duckdb, jinja2). "
        "Install them with: pip install 'audit-trail[cli]'\n"
    )
    assert "Traceback" not in done.stderr
