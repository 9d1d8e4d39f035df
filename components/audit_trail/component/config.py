"""Stack config (namespace `audit-trail`) -> AuditTrailArgs: the one way config becomes the component's args.

`args_from_config` is pure and shared by the Pulumi program (`load_stack_config`, what `pulumi up` runs),
`audit-trail plan` (its notes) and `audit-trail doctor` (what the stack would build); the component then
validates the args once, unknown keys included, so every problem is reported together.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from .args import AuditTrailArgs
from .settings import NAMESPACE
from .validation import CONFIG_KEYS


def args_from_config(config: Mapping[str, Any]) -> AuditTrailArgs:
    """Args from stack config as the engine passes it (full keys: `audit-trail:retentionDays` -> "365").

    Known keys become their args field with the raw value (the component checks types); every other key of
    the namespace is kept whole (`audit-trail:retentionDay`), first, so validation reports it with a
    suggestion. Keys of other namespaces (`aws:region`) are not the component's.
    """
    prefix = f"{NAMESPACE}:"
    ours = {key[len(prefix) :]: value for key, value in config.items() if key.startswith(prefix)}
    args: dict[str, Any] = {f"{prefix}{key}": ours[key] for key in sorted(ours) if key not in CONFIG_KEYS}
    args.update((field, ours[key]) for key, field in CONFIG_KEYS.items() if ours.get(key) is not None)
    return cast(AuditTrailArgs, args)


def load_stack_config() -> AuditTrailArgs:
    """The running stack's args (`pulumi up`, or `plan` under mocks): every key the engine passed."""
    from pulumi.runtime import config as runtime_config

    return args_from_config({**runtime_config.get_config_env(), **runtime_config.CONFIG.get()})
