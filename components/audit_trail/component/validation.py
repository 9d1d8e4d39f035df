"""From an args dict to validated settings: types, defaults and every rule, all problems reported at once.

The one function that turns args into settings (`check`), used by the component, `plan` and `doctor`. The
rules themselves live in `rules`. No Pulumi import: `doctor` validates a stack's config without loading it.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Iterable, Mapping
from enum import Enum
from typing import Any, get_args, get_origin, get_type_hints, is_typeddict

import yaml

from ..yaml_loader import TooLarge, load_bounded
from . import names, rules
from .args import AuditTrailArgs
from .problems import ConfigError, Problem, config_key, show
from .profiles import apply_profile
from .settings import NAMESPACE, AuditTrailSettings

FIELD_TYPES: dict[str, Any] = get_type_hints(AuditTrailArgs)
"""Args field -> annotated type."""
CONFIG_KEYS: dict[str, str] = {config_key(f): f for f in FIELD_TYPES}
"""Stack config key (camelCase) -> args field (snake_case)."""


def did_you_mean(key: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.6)
    return f"did you mean `{close[0]}`? " if close else ""


def unknown_key_problem(key: str, value: Any) -> Problem:
    return Problem(
        key,
        value,
        f"unknown key; {did_you_mean(key, CONFIG_KEYS)}"
        f"known keys: {', '.join(sorted(CONFIG_KEYS))}. Rename or remove it.",
    )


# --- types -----------------------------------------------------------------------------------------------

_INT = re.compile(r"[+-]?\d+")


def _coerce(key: str, value: Any, typ: Any) -> Any:
    """The value as `typ`, accepting the strings stack config delivers (`"90"`, `"true"`, JSON for maps).

    Raises ValueError with what is accepted."""
    if typ is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise ValueError("expected true or false")
    if typ is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        # The multi-language provider sends numbers as floats.
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and _INT.fullmatch(value.strip()):
            return int(value)
        raise ValueError("expected a whole number")
    if typ is str:
        if isinstance(value, str):
            return value
        raise ValueError("expected text")
    if isinstance(typ, type) and issubclass(typ, Enum):
        try:
            return typ(value.value if isinstance(value, Enum) else value)
        except ValueError:
            accepted = ", ".join(str(m.value) for m in typ)
            raise ValueError(f"expected one of {accepted}") from None
    if is_typeddict(typ):
        return _coerce_record(key, value, typ)
    origin = get_origin(typ)
    if origin is dict:
        parsed = _structured(value, dict)
        if parsed is None or not all(isinstance(k, str) for k in parsed):
            raise ValueError('expected a map of text to text, e.g. {"team": "security"}')
        return {k: _scalar_text(v) for k, v in parsed.items()}
    if origin is list:
        parsed = _structured(value, list)
        item = get_args(typ)[0]
        if parsed is None:
            raise ValueError('expected a list, e.g. ["a", "b"]')
        return [_coerce(key, v, item) for v in parsed]
    raise TypeError(f"no coercion for {key}: {typ}")


def _coerce_record(key: str, value: Any, typ: Any) -> dict[str, Any]:
    """A map with TYP's fields, keyed as stack config writes them (`resourceType`) or as Python and the
    multi-language provider pass them (`resource_type`)."""
    parsed = _structured(value, dict)
    hints = get_type_hints(typ)
    by_key = {**{config_key(f): f for f in hints}, **{f: f for f in hints}}
    if parsed is None:
        raise ValueError(f"expected a map with keys {', '.join(config_key(f) for f in hints)}")
    record: dict[str, Any] = {}
    for name, item in parsed.items():
        if name not in by_key:
            known = [config_key(f) for f in hints]
            raise ValueError(
                f"unknown key `{name}`; {did_you_mean(str(name), known)}known keys: {', '.join(known)}"
            )
        field = by_key[name]
        try:
            record[field] = _coerce(key, item, hints[field])
        except ValueError as exc:
            raise ValueError(f"`{config_key(field)}`: {exc}") from None
    return record


def _structured(value: Any, kind: type) -> Any:
    """A map or list given directly, or as the JSON/YAML text stack config delivers."""
    if isinstance(value, str):
        try:
            value = load_bounded(value)
        except TooLarge as exc:
            raise ValueError(f"refused: {exc}") from None
        except yaml.YAMLError:
            return None
    return value if isinstance(value, kind) else None


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return str(value)
    raise ValueError('expected a map of text to text, e.g. {"team": "security"}')


# --- entry points ----------------------------------------------------------------------------------------


def check(
    args: Mapping[str, Any], region: str | None = None, name: str | None = None
) -> tuple[AuditTrailSettings, list[Problem]]:
    """Settings from ARGS (snake_case keys; missing or None -> default) and every problem found; REGION, the
    stack's region when known, lets rules check ARNs against it; NAME, the component's name when known, is
    checked as the start of the physical names the provider generates."""
    problems: list[Problem] = []
    values: dict[str, Any] = {}
    for field, value in args.items():
        if field not in FIELD_TYPES:
            problems.append(unknown_key_problem(_unknown_key(field), value))
            continue
        if value is None:
            continue
        try:
            values[field] = _coerce(field, value, FIELD_TYPES[field])
        except ValueError as exc:
            problems.append(Problem(config_key(field), value, f"{exc}. {_type_fix(field)}"))
    profile = values.get("profile", AuditTrailSettings.profile)
    settings = dataclasses.replace(AuditTrailSettings(), **apply_profile(profile, values))
    problems.extend(rules.problems(settings, region))
    if name is not None:
        problems.extend(names.name_problems(name, settings))
    return settings, problems


def validate(
    args: Mapping[str, Any], extra: Iterable[Problem] = (), region: str | None = None, name: str | None = None
) -> AuditTrailSettings:
    """Settings from ARGS, or ConfigError listing EXTRA problems and all of ARGS' (and NAME's) problems."""
    settings, problems = check(args, region, name)
    problems = [*extra, *problems]
    if problems:
        raise ConfigError(problems)
    return settings


def _type_fix(field: str) -> str:
    default = getattr(AuditTrailSettings(), field)
    return f"Set a value of that kind (the default is {show(default)}) or remove the key."


def _unknown_key(field: str) -> str:
    """The config key to name for an unknown args key: a stack config key arrives whole (`audit-trail:x`)."""
    prefix = f"{NAMESPACE}:"
    return field[len(prefix) :] if field.startswith(prefix) else config_key(field)
