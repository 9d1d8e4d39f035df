"""A Pulumi project on disk: find it, and build a stack's config as the Pulumi CLI hands it to the program."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .errors import UserError
from .yaml_loader import SAFE_LOADER

PROJECT_FILES = ("Pulumi.yaml", "Pulumi.yml")
SECRET_PLACEHOLDER = "[secret]"


@dataclass(frozen=True)
class Project:
    directory: Path
    name: str
    program: Path
    """The `__main__.py` that `pulumi up` runs."""
    settings: dict[str, Any]
    """The parsed project file."""

    @property
    def stack_config_dir(self) -> Path:
        return self.directory / self.settings.get("stackConfigDir", ".")

    def stacks(self) -> list[str]:
        return sorted(
            p.name.split(".", 1)[1].rsplit(".", 1)[0]
            for p in self.stack_config_dir.glob("Pulumi.*.y*ml")
            if p.name.count(".") >= 2
        )


def find_project(start: Path) -> Project:
    """The project whose Pulumi.yaml is in START or the nearest folder above it."""
    start = start.resolve()
    for folder in (start, *start.parents):
        for file_name in PROJECT_FILES:
            path = folder / file_name
            if path.is_file():
                return _load_project(path)
    raise UserError(
        f"no Pulumi.yaml in {start} or any folder above it: run from the project directory or pass "
        "--cwd <project directory>."
    )


def _load_project(path: Path) -> Project:
    settings = _read_yaml(path)
    if not isinstance(settings, dict) or not isinstance(settings.get("name"), str):
        raise UserError(f"{path}: not a Pulumi project file (it needs a `name`).")
    main = path.parent / settings.get("main", ".")
    program = main / "__main__.py" if main.is_dir() else main
    return Project(directory=path.parent, name=settings["name"], program=program, settings=settings)


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    except yaml.YAMLError as exc:
        raise UserError(f"{path}: not valid YAML ({exc}); fix the file.") from exc


def config_value(value: Any) -> str:
    """A config value as the engine passes it to the program: text, with maps and lists as JSON."""
    if isinstance(value, dict) and set(value) == {"secure"}:
        return SECRET_PLACEHOLDER
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return "" if value is None else str(value)


def full_key(project: Project, key: str) -> str:
    """`retentionDays` -> `<project>:retentionDays`, as `pulumi config set` namespaces a bare key."""
    return key if ":" in key else f"{project.name}:{key}"


def stack_config(project: Project, stack: str, overrides: Iterable[str] = ()) -> dict[str, str]:
    """The config STACK's program receives: project defaults, then Pulumi.<stack>.yaml, then OVERRIDES
    (`key=value`, the keys and values of `pulumi config set`)."""
    config: dict[str, str] = {}
    for key, declared in (project.settings.get("config") or {}).items():
        if isinstance(declared, dict) and ("default" in declared or "value" in declared):
            config[full_key(project, key)] = config_value(declared.get("value", declared.get("default")))
        elif not isinstance(declared, dict):
            config[full_key(project, key)] = config_value(declared)

    stack_file = project.stack_config_dir / f"Pulumi.{stack}.yaml"
    if not stack_file.is_file():
        known = ", ".join(project.stacks()) or "none"
        raise UserError(
            f"--stack {stack}: no {stack_file.name} in {project.stack_config_dir} (stacks with a config "
            f"file: {known}). Pick one of those, or create it with `pulumi stack init {stack}`."
        )
    stack_settings = _read_yaml(stack_file) or {}
    for key, value in (stack_settings.get("config") or {}).items():
        config[full_key(project, key)] = config_value(value)

    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UserError(
                f"--set {item!r}: expected key=value, e.g. --set audit-trail:retentionDays=365 "
                "or --set aws:region=eu-west-1."
            )
        config[full_key(project, key.strip())] = value
    return config
