"""Sigma rules to hunt with: the SigmaHQ CloudTrail rules shipped in the package plus the user's own.

Rules are parsed with pySigma and compiled once (see `evaluate`). Every rule found is listed: one that
cannot run on CloudTrail records (a correlation rule, another log source, an unsupported modifier, a parse
error) carries the reason instead of being skipped in silence.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml
from sigma.collection import SigmaCollection
from sigma.conditions import ConditionFieldEqualsValueExpression
from sigma.correlations import SigmaCorrelationRule
from sigma.exceptions import SigmaError, SigmaRuleLocation
from sigma.filters import SigmaFilter
from sigma.rule import SigmaRule
from sigma.types import SigmaFieldReference

from ..errors import UserError
from ..yaml_loader import SAFE_LOADER
from .evaluate import CompiledRule, UnsupportedRule, compile_rule
from .levels import level_rank

# Top-level fields of a CloudTrail record (CloudTrail record contents reference): a rule testing another
# top-level field for a value can never fire on CloudTrail, which the listing says.
CLOUDTRAIL_FIELDS = frozenset(
    [
        "eventVersion",
        "userIdentity",
        "eventTime",
        "eventSource",
        "eventName",
        "awsRegion",
        "sourceIPAddress",
        "userAgent",
        "errorCode",
        "errorMessage",
        "requestParameters",
        "responseElements",
        "additionalEventData",
        "requestID",
        "eventID",
        "eventType",
        "apiVersion",
        "managementEvent",
        "readOnly",
        "resources",
        "recipientAccountId",
        "serviceEventDetails",
        "sharedEventID",
        "vpcEndpointId",
        "vpcEndpointAccountId",
        "eventCategory",
        "addendum",
        "sessionCredentialFromConsole",
        "edgeDeviceDetails",
        "tlsDetails",
        "insightDetails",
    ]
)


@dataclass
class HuntRule:
    """One rule as listed and run: identity, ATT&CK tags, author (credited in every hit), runnability."""

    id: str
    title: str
    level: str
    tags: list[str]
    author: str
    path: Path
    shipped: bool
    compiled: CompiledRule | None = None
    reason: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def runnable(self) -> bool:
        return self.compiled is not None

    @property
    def rank(self) -> int:
        return level_rank(self.level) if self.level else 0


def shipped_rules_dir() -> Path:
    return Path(str(files("audit_trail") / "data" / "sigma"))


def rule_files(paths: Sequence[Path]) -> list[Path]:
    """The YAML files of `--rules` arguments (files or folders, searched recursively), checked to exist."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.suffix in (".yml", ".yaml") and p.is_file()))
        elif path.is_file():
            found.append(path)
        else:
            raise UserError(
                f"--rules {str(path)!r} does not exist; give a Sigma rule file (.yml) or a folder of rules."
            )
    return found


def load_rules(extra: Sequence[Path] = (), *, include_shipped: bool = True) -> list[HuntRule]:
    """The shipped rules (unless excluded) and those under `extra`, compiled or with why they cannot run."""
    sources = [(p, True) for p in rule_files([shipped_rules_dir()])] if include_shipped else []
    sources += [(p, False) for p in rule_files(extra)]
    loaded: list[HuntRule] = []
    filters: list[SigmaFilter] = []
    parsed: list[tuple[SigmaRule, HuntRule]] = []
    for path, shipped in sources:
        try:
            collection = SigmaCollection.from_dicts(
                list(yaml.load_all(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)),
                collect_errors=True,
                source=SigmaRuleLocation(path),
                collect_filters=True,
                resolve_references=False,  # a correlation is listed, never run: its rules need not resolve
            )
        except (yaml.YAMLError, SigmaError, UnicodeDecodeError) as exc:
            loaded.append(_broken(path, shipped, f"not a readable Sigma file: {_first_line(exc)}"))
            continue
        filters.extend(collection.filters)
        for error in collection.errors:
            if not any(error in r.errors for r in collection.rules):
                loaded.append(_broken(path, shipped, f"not a valid Sigma rule: {_first_line(error)}"))
        for rule in collection.rules:
            entry = _entry(rule, path, shipped)
            loaded.append(entry)
            if isinstance(rule, SigmaCorrelationRule):
                entry.reason = "correlation rule: it aggregates many events, which hunt does not do"
            elif rule.errors:
                entry.reason = f"not a valid Sigma rule: {_first_line(rule.errors[0])}"
            elif not _is_cloudtrail(rule):
                ls = rule.logsource
                entry.reason = (
                    f"log source is product={ls.product} service={ls.service} category={ls.category}, "
                    "not AWS CloudTrail (product: aws, service: cloudtrail)"
                )
            else:
                parsed.append((rule, entry))
    for rule, entry in parsed:
        for sigma_filter in filters:
            filtered = sigma_filter.apply_on_rule(rule)
            rule = filtered if isinstance(filtered, SigmaRule) else rule
        try:
            entry.compiled = compile_rule(rule)
        except (UnsupportedRule, SigmaError) as exc:
            entry.reason = _first_line(exc)
            continue
        entry.notes = _unknown_fields(rule)
    return loaded


def _entry(rule: SigmaRule | SigmaCorrelationRule, path: Path, shipped: bool) -> HuntRule:
    return HuntRule(
        id=str(rule.id) if rule.id else path.stem,
        title=rule.title or path.stem,
        level=str(rule.level) if rule.level else "",
        tags=[str(tag) for tag in rule.tags if tag.namespace == "attack"],
        author=rule.author or "",
        path=path,
        shipped=shipped,
    )


def _broken(path: Path, shipped: bool, reason: str) -> HuntRule:
    return HuntRule(
        id=path.stem, title=path.name, level="", tags=[], author="", path=path, shipped=shipped, reason=reason
    )


def _is_cloudtrail(rule: SigmaRule) -> bool:
    ls = rule.logsource
    return (ls.product or "").lower() == "aws" and (ls.service or "").lower() == "cloudtrail"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _fields(node: Any) -> Iterator[str]:
    if isinstance(node, ConditionFieldEqualsValueExpression):
        yield node.field
        if isinstance(node.value, SigmaFieldReference):
            yield node.value.field
    for arg in getattr(node, "args", None) or ():
        yield from _fields(arg)


def _unknown_fields(rule: SigmaRule) -> list[str]:
    names = {f for condition in rule.detection.parsed_condition for f in _fields(condition.parsed)}
    unknown = sorted(n for n in names if n.split(".")[0] not in CLOUDTRAIL_FIELDS)
    return [f"field '{n}' is not in CloudTrail records" for n in unknown]


def listing_rows(rules: Sequence[HuntRule]) -> list[dict[str, Any]]:
    """`hunt --list-rules`: one row per rule, runnable first by level, then those that cannot run."""
    ordered = sorted(rules, key=lambda r: (not r.runnable, -r.rank, r.title.lower()))
    return [
        {
            "id": r.id,
            "title": r.title,
            "level": r.level,
            "attack": " ".join(r.tags),
            "author": r.author,
            "runnable": "yes" if r.runnable else "no",
            "note": r.reason if not r.runnable else "; ".join(r.notes),
            "source": "shipped" if r.shipped else str(r.path),
        }
        for r in ordered
    ]
