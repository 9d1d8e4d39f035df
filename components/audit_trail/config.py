"""Stack config (namespace `audit-trail`) -> AuditTrailArgs, as `pulumi up` and `audit-trail plan` read it."""

from __future__ import annotations

from typing import Any, cast

import pulumi
from pulumi.runtime import config as runtime_config

from .args import AuditTrailArgs
from .validation import CONFIG_KEYS, NAMESPACE, Problem, unknown_key_problem, validate


def _namespace_keys() -> dict[str, Any]:
    """Every `audit-trail:*` key the engine passed, known or not, with its raw value."""
    raw: dict[str, Any] = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    prefix = f"{NAMESPACE}:"
    return {k[len(prefix) :]: v for k, v in raw.items() if k.startswith(prefix)}


def read_stack_config() -> tuple[AuditTrailArgs, list[Problem]]:
    """Known keys as args (raw values; the component checks their types) and a problem per unknown key."""
    config = pulumi.Config(NAMESPACE)
    args: dict[str, Any] = {}
    for key, field in CONFIG_KEYS.items():
        value = config.get(key)
        if value is not None:
            args[field] = value
    unknown = [
        unknown_key_problem(k, v) for k, v in sorted(_namespace_keys().items()) if k not in CONFIG_KEYS
    ]
    return cast(AuditTrailArgs, args), unknown


def load_stack_config() -> AuditTrailArgs:
    """The stack's args, or ConfigError listing every problem (unknown keys, types, rules) before anything is
    registered."""
    args, unknown = read_stack_config()
    validate(args, extra=unknown, region=pulumi.Config("aws").get("region"))
    return args
