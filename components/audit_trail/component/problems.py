"""A configuration problem, how it is reported, and the error that carries all of them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import Enum
from typing import Any

from ..errors import UserError
from .settings import NAMESPACE

COMPONENT_NAME = "AuditTrail name"
"""The key of a problem with the component's own name (the first argument of `AuditTrail`), not a config
key."""


def config_key(field: str) -> str:
    """Stack config key of an args field: the camelCase the schema analyser also derives (`s3_key_prefix` ->
    `s3KeyPrefix`)."""
    head, *rest = field.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def show(value: Any) -> str:
    """A value as a config user would write it (`true`, `90`, `"text"`)."""
    return json.dumps(value.value if isinstance(value, Enum) else value, default=str)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the configuration: the key, the value given, what is accepted, how to fix it."""

    key: str
    """The stack config key (camelCase, without the namespace), another namespace's whole key (`aws:region`),
    or `COMPONENT_NAME`."""
    value: Any
    message: str

    def __str__(self) -> str:
        key = self.key if ":" in self.key or self.key == COMPONENT_NAME else f"{NAMESPACE}:{self.key}"
        return f"{key} = {show(self.value)}: {self.message}"


class ConfigError(UserError):
    """The configuration has problems; nothing was registered."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        head = f"invalid {NAMESPACE} configuration ({count}; nothing was created):"
        super().__init__(head, *(f"  - {p}" for p in problems))  # a line each
