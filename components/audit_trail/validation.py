"""From an args dict to validated settings: types, defaults and every rule, all problems reported at once.

The one place an option's rules live. To add an option: a field in `args.AuditTrailArgs` (with its docstring),
its default in `settings.AuditTrailSettings`, and - if it has rules beyond its type - a function in `RULES`.
"""

from __future__ import annotations

import dataclasses
import difflib
import ipaddress
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, get_args, get_origin, get_type_hints

import pulumi
import yaml

from .args import AuditTrailArgs
from .errors import UserError
from .hardening.rules import hardening_problems
from .profiles import apply_profile
from .profiles import violations as profile_violations
from .settings import NAMESPACE, AuditTrailSettings


def config_key(field: str) -> str:
    """Stack config key of an args field: the camelCase the schema analyser also derives (`s3_key_prefix` ->
    `s3KeyPrefix`)."""
    head, *rest = field.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


FIELD_TYPES: dict[str, Any] = get_type_hints(AuditTrailArgs)
"""Args field -> annotated type."""
CONFIG_KEYS: dict[str, str] = {config_key(f): f for f in FIELD_TYPES}
"""Stack config key (camelCase) -> args field (snake_case)."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the configuration: the key, the value given, what is accepted, how to fix it."""

    key: str
    value: Any
    message: str

    def __str__(self) -> str:
        return f"{NAMESPACE}:{self.key} = {_show(self.value)}: {self.message}"


class ConfigError(UserError, pulumi.RunError):
    """The configuration has problems; nothing was registered. A RunError: `pulumi up` shows no traceback."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"invalid {NAMESPACE} configuration ({count}; nothing was created):\n{lines}")


def _show(value: Any) -> str:
    """The value as a config user would write it (`true`, `90`, `"text"`)."""
    return json.dumps(value.value if isinstance(value, Enum) else value, default=str)


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


def _structured(value: Any, kind: type) -> Any:
    """A map or list given directly, or as the JSON/YAML text stack config delivers."""
    if isinstance(value, str):
        try:
            value = yaml.safe_load(value)
        except yaml.YAMLError:
            return None
    return value if isinstance(value, kind) else None


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return str(value)
    raise ValueError('expected a map of text to text, e.g. {"team": "security"}')


# --- rules -----------------------------------------------------------------------------------------------

Rule = Callable[[AuditTrailSettings], Iterable[Problem]]


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


_TRAIL_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9]|[._-](?=[A-Za-z0-9]))*")


def trail_name_rule(s: AuditTrailSettings) -> Iterable[Problem]:
    name = s.trail_name
    why = []
    if not 3 <= len(name) <= 128:
        why.append(f"is {len(name)} characters long (3-128 allowed)")
    if not _TRAIL_NAME.fullmatch(name):
        why.append(
            "must use only ASCII letters, digits, `.`, `_` and `-`, start and end with a letter or digit, "
            "and have no two of `._-` next to each other"
        )
    if _is_ip(name):
        why.append("must not look like an IP address")
    if why:
        yield Problem(
            "trailName",
            name,
            f"not a valid CloudTrail trail name: it {'; it '.join(why)}. "
            "Choose another name, e.g. `account-activity-trail`.",
        )


_BUCKET_CHARS = re.compile(r"[a-z0-9][a-z0-9.-]*[a-z0-9]")
_BUCKET_BAD_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_BUCKET_BAD_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def bucket_name_rule(s: AuditTrailSettings) -> Iterable[Problem]:
    name = s.bucket_name
    if not name:
        return
    why = []
    if not 3 <= len(name) <= 63:
        why.append(f"is {len(name)} characters long (3-63 allowed)")
    if not _BUCKET_CHARS.fullmatch(name):
        why.append(
            "must use only lowercase letters, digits, `.` and `-`, and start and end with a letter or digit"
        )
    if ".." in name or ".-" in name or "-." in name:
        why.append("must not have `..`, `.-` or `-.`")
    if _is_ip(name):
        why.append("must not be an IP address")
    why += [f"must not start with `{p}`" for p in _BUCKET_BAD_PREFIXES if name.startswith(p)]
    why += [f"must not end with `{x}`" for x in _BUCKET_BAD_SUFFIXES if name.endswith(x)]
    if why:
        yield Problem(
            "bucketName",
            name,
            f"not a valid S3 bucket name: it {'; it '.join(why)}. "
            "Choose another name (e.g. `acme-audit-logs-123456789012`), or unset it for a generated one.",
        )


MAX_DAYS = 3650


def retention_rule(s: AuditTrailSettings) -> Iterable[Problem]:
    for key, days in (
        ("retentionDays", s.retention_days),
        ("noncurrentVersionDays", s.noncurrent_version_days),
    ):
        if not 1 <= days <= MAX_DAYS:
            yield Problem(
                key,
                days,
                f"must be a number of days from 1 to {MAX_DAYS} (ten years). "
                "Common values: 90, 365 (PCI-DSS asks for 12 months), 2190 (six years, HIPAA).",
            )


MAX_PREFIX = 200


def s3_key_prefix_rule(s: AuditTrailSettings) -> Iterable[Problem]:
    prefix = s.s3_key_prefix
    why = []
    if prefix.startswith("/") or prefix.endswith("/"):
        why.append("must not start or end with `/` (CloudTrail adds the `/` before `AWSLogs/`)")
    if len(prefix) > MAX_PREFIX:
        why.append(f"is {len(prefix)} characters long (CloudTrail allows at most {MAX_PREFIX})")
    if "//" in prefix:
        why.append("must not contain `//`")
    if any(ord(c) < 32 or ord(c) == 127 for c in prefix):
        why.append("must not contain control characters")
    if why:
        fixed = "/".join(part for part in prefix.split("/") if part)[:MAX_PREFIX]
        yield Problem("s3KeyPrefix", prefix, f"{'; '.join(why)}. Use e.g. `{fixed or 'audit'}`, or unset it.")


def global_events_rule(s: AuditTrailSettings) -> Iterable[Problem]:
    if s.multi_region and not s.include_global_service_events:
        yield Problem(
            "includeGlobalServiceEvents",
            False,
            "a multi-region trail must include global service events (IAM, STS sign-ins): CloudTrail rejects "
            "the combination. Set it to true, or set `multiRegion` to false for a single-region trail.",
        )


def deletion_rule(s: AuditTrailSettings) -> Iterable[Problem]:
    if s.force_destroy and s.retain_on_delete:
        yield Problem(
            "forceDestroy",
            True,
            "conflicts with `retainOnDelete: true` (the default), which keeps the bucket and its logs when "
            "the stack is destroyed. To really delete the logs set both `forceDestroy: true` and "
            "`retainOnDelete: false`; otherwise unset `forceDestroy`.",
        )


_TAG_KEY = re.compile(r"[\w\s.:/=+\-@]{1,128}", re.UNICODE)
_TAG_VALUE = re.compile(r"[\w\s.:/=+\-@]{0,256}", re.UNICODE)
MAX_TAGS = 50


def tags_rule(s: AuditTrailSettings) -> Iterable[Problem]:
    if len(s.tags) > MAX_TAGS:
        yield Problem("tags", s.tags, f"has {len(s.tags)} tags; AWS allows at most {MAX_TAGS}. Remove some.")
    for key, value in s.tags.items():
        if key.lower().startswith("aws:"):
            yield Problem(
                "tags", {key: value}, "tag keys starting with `aws:` are reserved by AWS. Rename the key."
            )
        elif not _TAG_KEY.fullmatch(key):
            yield Problem(
                "tags",
                {key: value},
                "a tag key must be 1-128 letters, digits, spaces or `_.:/=+-@`. Rename it.",
            )
        if not _TAG_VALUE.fullmatch(value):
            yield Problem(
                "tags", {key: value}, "a tag value must be at most 256 letters, digits, spaces or `_.:/=+-@`."
            )


RULES: list[Rule] = [
    trail_name_rule,
    bucket_name_rule,
    retention_rule,
    s3_key_prefix_rule,
    global_events_rule,
    deletion_rule,
    tags_rule,
]


# --- entry points ----------------------------------------------------------------------------------------


def check(args: Mapping[str, Any], region: str | None = None) -> tuple[AuditTrailSettings, list[Problem]]:
    """Settings from ARGS (snake_case keys; missing or None -> default) and every problem found; REGION, the
    stack's region when known, lets rules check ARNs against it."""
    problems: list[Problem] = []
    values: dict[str, Any] = {}
    for field, value in args.items():
        if field not in FIELD_TYPES:
            problems.append(unknown_key_problem(config_key(field), value))
            continue
        if value is None:
            continue
        try:
            values[field] = _coerce(field, value, FIELD_TYPES[field])
        except ValueError as exc:
            problems.append(Problem(config_key(field), value, f"{exc}. {_type_fix(field)}"))
    profile = values.get("profile", AuditTrailSettings.profile)
    values = {
        f: v if f in values else _coerce(f, v, FIELD_TYPES[f])
        for f, v in apply_profile(profile, values).items()
    }
    settings = dataclasses.replace(AuditTrailSettings(), **values)
    for rule in RULES:
        problems.extend(rule(settings))
    problems.extend(Problem(*found) for found in hardening_problems(settings, region))
    problems.extend(Problem(config_key(f), v, m) for f, v, m in profile_violations(profile, settings))
    return settings, problems


def validate(
    args: Mapping[str, Any], extra: Iterable[Problem] = (), region: str | None = None
) -> AuditTrailSettings:
    """Settings from ARGS, or ConfigError listing EXTRA problems and all of ARGS' problems."""
    settings, problems = check(args, region)
    problems = [*extra, *problems]
    if problems:
        raise ConfigError(problems)
    return settings


def _type_fix(field: str) -> str:
    default = getattr(AuditTrailSettings(), field)
    return f"Set a value of that kind (the default is {_show(default)}) or remove the key."
