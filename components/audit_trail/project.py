"""A Pulumi project on disk: find it, and build a stack's config as the Pulumi CLI hands it to the program."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .errors import UserError
from .yaml_loader import TooLarge, load_bounded

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
    file: Path
    """Pulumi.yaml (or Pulumi.yml) itself."""

    def checked_program(self) -> Path:
        """The program, which must exist to be run (UserError naming the project file otherwise)."""
        if not self.program.is_file():
            raise UserError(
                f"{self.file}: the program {self.program} does not exist (`main` is "
                f"{self.settings.get('main', '.')!r}). Point `main` at the folder holding __main__.py, or "
                "remove it."
            )
        return self.program

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


MAX_FILE_BYTES = 1 << 20
"""A project or stack file is a few kilobytes; anything past a MiB is not one."""


def _load_project(path: Path) -> Project:
    settings = _read_yaml(path)
    if not isinstance(settings, dict) or not isinstance(settings.get("name"), str):
        raise UserError(
            f"{path}: not a Pulumi project file (it needs a mapping with a `name`). Fix the file."
        )
    for key in ("main", "stackConfigDir"):
        if key in settings and not isinstance(settings[key], str):
            raise UserError(
                f"{path}: `{key}: {settings[key]!r}` must be a path relative to the project, e.g. "
                f"`{key}: src`. Fix the file."
            )
    _config_mapping(path, settings.get("config"))
    main = path.parent / settings.get("main", ".")
    program = main / "__main__.py" if main.is_dir() else main
    return Project(
        directory=path.parent, name=settings["name"], program=program, settings=settings, file=path
    )


def _read_yaml(path: Path) -> Any:
    """A project or stack file, parsed; UserError naming the file for anything but one small YAML document
    of UTF-8 text (CI may preview the files of an untrusted pull request)."""
    try:
        with path.open("rb") as file:
            data = file.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise UserError(f"{path}: cannot read it ({exc.strerror or exc}).") from None
    if len(data) > MAX_FILE_BYTES:
        raise UserError(f"{path}: over {MAX_FILE_BYTES >> 20} MiB; a Pulumi project or stack file is small.")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UserError(
            f"{path}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); save it as UTF-8."
        ) from None
    try:
        return load_bounded(text)
    except TooLarge as exc:
        raise UserError(f"{path}: refused: {exc}. Write the values out instead of nesting aliases.") from None
    except yaml.YAMLError as exc:
        raise UserError(f"{path}: not valid YAML ({exc}); fix the file.") from None


def _config_mapping(path: Path, config: Any) -> dict[str, Any]:
    """A file's `config:` block: a mapping of text keys (UserError naming the file otherwise)."""
    if config is None:
        return {}
    if not isinstance(config, dict):
        raise UserError(
            f"{path}: `config` must be a mapping of keys to values (e.g. `audit-trail:retentionDays: 365`), "
            f"not {type(config).__name__ if not isinstance(config, list) else 'a list'}. Fix the file."
        )
    for key in config:
        if not isinstance(key, str):
            raise UserError(
                f"{path}: config key {key!r} is not text; keys look like `audit-trail:retentionDays` or "
                "`aws:region` (quote it if it is a number). Fix the file."
            )
    return config


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
    for key, declared in _config_mapping(project.file, project.settings.get("config")).items():
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
    stack_settings = _read_yaml(stack_file)
    if stack_settings is None:
        stack_settings = {}
    if not isinstance(stack_settings, dict):
        raise UserError(
            f"{stack_file}: not a Pulumi stack file (it needs a mapping with a `config:` block). Fix the "
            "file."
        )
    for key, value in _config_mapping(stack_file, stack_settings.get("config")).items():
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
