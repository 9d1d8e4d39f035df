"""Sigma rules to hunt with: the SigmaHQ CloudTrail rules shipped in the package plus the user's own.

Rules are parsed with pySigma and compiled once (see `evaluate`). Every rule found is listed: one that
cannot run on CloudTrail records (a correlation rule, another log source, an unsupported modifier, a parse
error) carries the reason instead of being skipped in silence.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any
from uuid import UUID

import yaml
from sigma.collection import SigmaCollection
from sigma.conditions import ConditionFieldEqualsValueExpression
from sigma.correlations import SigmaCorrelationRule
from sigma.exceptions import SigmaError, SigmaRuleLocation
from sigma.filters import SigmaFilter
from sigma.rule import SigmaLevel, SigmaRule, SigmaRuleTag
from sigma.types import SigmaFieldReference

from ..errors import UserError
from ..yaml_loader import SAFE_LOADER
from .evaluate import CompiledRule, UnsupportedRule, compile_rule
from .levels import LEVELS, level_rank
from .patterns import POLICY

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


MAX_RULE_FILE_BYTES = 1 << 20
"""What one rule file may weigh. SigmaHQ's largest rules are tens of KiB; a rule listing 20,000 indicators
is about 300 KiB. The bound caps what one file can cost to parse (pySigma's time grows with its values)."""
MAX_CONDITION_CHARS = 4000
"""What one rule's condition may hold: pySigma's condition parser slows down steeply on long conditions
(20,000 `or` take 5 s); SigmaHQ's are under 200 characters."""


@dataclass
class HuntRule:
    """One rule as listed and run: identity, ATT&CK tags, author (credited in every hit), runnability.

    Two rules may share an id (a copy of a shipped rule, a careless edit): a rule is known by its id *and*
    its source (`shipped` or its file), never by its id alone.
    """

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
    foreign: bool = False
    """A rule for another product (logsource.product is not aws): listed, never run, never an error."""
    placeholder: bool = False
    """Not a rule: a file or document that did not parse, listed under the file's name with the reason."""

    @property
    def runnable(self) -> bool:
        return self.compiled is not None

    @property
    def rank(self) -> int:
        return level_rank(self.level) if self.level in LEVELS else 0

    @property
    def source(self) -> str:
        return "shipped" if self.shipped else str(self.path)

    @property
    def broken(self) -> bool:
        """A user's detection that cannot run: under --fail-on that is not a clean result."""
        return not self.runnable and not self.shipped and not self.foreign


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
        elif path.exists():
            raise UserError(f"--rules {str(path)!r} is not a regular file: give a Sigma rule file (.yml).")
        else:
            raise UserError(
                f"--rules {str(path)!r} does not exist; give a Sigma rule file (.yml) or a folder of rules."
            )
    return found


def load_rules(extra: Sequence[Path] = (), *, include_shipped: bool = True) -> list[HuntRule]:
    """The shipped rules (unless excluded) and those under `extra`, compiled or with why they cannot run.

    Nothing in a rule file stops the others: a file that cannot be read, parsed or compiled — whatever
    pySigma makes of it — is listed with the reason, and every other rule runs.
    """
    sources = [(p, True) for p in rule_files([shipped_rules_dir()])] if include_shipped else []
    sources += [(p, False) for p in rule_files(extra)]
    loaded: list[HuntRule] = []
    filters: list[tuple[SigmaFilter, Path, bool]] = []
    parsed: list[tuple[SigmaRule, HuntRule]] = []
    for path, shipped in sources:
        documents, problem = _documents(path)
        if problem:
            loaded.append(_broken(path, shipped, problem))
            continue
        for collection in _collections(path, shipped, documents, loaded):
            filters.extend((f, path, shipped) for f in collection.filters)
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
                    entry.foreign = bool(ls.product) and str(ls.product).lower() != "aws"
                    entry.reason = (
                        f"log source is product={ls.product} service={ls.service} category={ls.category}, "
                        "not AWS CloudTrail (product: aws, service: cloudtrail)"
                    )
                else:
                    parsed.append((rule, entry))
    for rule, entry in parsed:
        _compile_filtered(rule, entry, filters, loaded)
    return loaded


_Filters = Sequence[tuple[SigmaFilter, Path, bool]]  # each filter with its file, and whether shipped


def _compile_filtered(rule: SigmaRule, entry: HuntRule, filters: _Filters, loaded: list[HuntRule]) -> None:
    """Compile RULE with the Sigma filters that apply to it. A filter that breaks the rule is left out (the
    rule then fires more, never less) and listed as broken under its own file: a bad filter of yours cannot
    quietly disable a rule, shipped or not."""
    original = copy.deepcopy(rule) if filters else rule
    applied: list[tuple[Path, bool]] = []
    try:
        for sigma_filter, path, shipped in filters:
            before = len(rule.detection.detections)
            filtered = sigma_filter.apply_on_rule(rule)
            rule = filtered if isinstance(filtered, SigmaRule) else rule
            if len(rule.detection.detections) != before:
                applied.append((path, shipped))
        entry.compiled = compile_rule(rule)
        entry.notes = _unknown_fields(rule)
        return
    except Exception as exc:  # pySigma on a malformed filter or rule may raise anything
        failure: Exception = exc
    try:
        entry.compiled = compile_rule(original)
        entry.notes = _unknown_fields(original)
    except (UnsupportedRule, SigmaError) as exc:
        entry.reason = _first_line(exc)
        return
    except Exception as exc:  # pySigma on a malformed rule may raise anything; it is that rule's problem
        entry.reason = f"cannot be compiled: {_described(exc)}"
        return
    for path, shipped in dict.fromkeys(applied) or dict.fromkeys((p, s) for _, p, s in filters):
        reason = (
            f"a filter here breaks {entry.title!r} ({entry.source}), which runs without it: "
            f"{_described(failure)}"
        )
        loaded.append(_broken(path, shipped, reason))


def _documents(path: Path) -> tuple[list[Any], str]:
    """The YAML documents of a rule file, or why it cannot be read (size, encoding, YAML)."""
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_RULE_FILE_BYTES + 1)
    except OSError as exc:
        return [], f"cannot be read ({exc.strerror or exc})"
    if len(data) > MAX_RULE_FILE_BYTES:
        return [], f"over {MAX_RULE_FILE_BYTES >> 20} MiB: too large for a Sigma rule file"
    try:
        return list(yaml.load_all(data.decode("utf-8"), Loader=SAFE_LOADER)), ""
    except UnicodeDecodeError as exc:
        return [], f"not a readable Sigma file: not UTF-8 text ({exc.reason} at byte {exc.start})"
    except yaml.YAMLError as exc:
        return [], f"not a readable Sigma file: {_first_line(exc)}"
    except (ValueError, RecursionError, MemoryError) as exc:  # e.g. an integer of 5,000 digits
        return [], f"not a readable Sigma file: {_described(exc)}"


def _collections(
    path: Path, shipped: bool, documents: list[Any], loaded: list[HuntRule]
) -> Iterator[SigmaCollection]:
    """pySigma collections of a file's documents. Documents stand alone unless the file uses Sigma's
    collection actions (`action: global/repeat/reset`), so one bad document spoils only itself; a document
    that is not a mapping, or whose condition is too long to parse, is listed as broken here."""
    kept: list[tuple[int, dict[str, Any]]] = []
    for number, document in enumerate(documents, 1):
        if document is None:  # an empty document, e.g. after a trailing `---`
            continue
        where = f"document {number}" if len(documents) > 1 else "the file"
        if not isinstance(document, dict):
            kind = type(document).__name__
            loaded.append(_broken(path, shipped, f"{where} is a YAML {kind}, not a Sigma rule (a mapping)"))
            continue
        length = _condition_chars(document)
        if length > MAX_CONDITION_CHARS:
            loaded.append(
                _broken(
                    path,
                    shipped,
                    f"{where}: condition of {length} characters (at most {MAX_CONDITION_CHARS})",
                )
            )
            continue
        kept.append((number, document))
    if not kept:
        if all(document is None for document in documents):
            loaded.append(_broken(path, shipped, "holds no Sigma rule (an empty file)"))
        return
    grouped = any("action" in document for _, document in kept)
    batches = [kept] if grouped else [[item] for item in kept]
    for batch in batches:
        try:
            yield SigmaCollection.from_dicts(
                [document for _, document in batch],
                collect_errors=True,
                source=SigmaRuleLocation(path),
                collect_filters=True,
                resolve_references=False,  # a correlation is listed, never run: its rules need not resolve
                policy=POLICY,
            )
        except SigmaError as exc:
            loaded.append(_broken(path, shipped, f"not a valid Sigma rule: {_first_line(exc)}"))
        except Exception as exc:  # pySigma on a malformed document may raise anything (TypeError, ...)
            where = "the file" if grouped or len(documents) == 1 else f"document {batch[0][0]}"
            loaded.append(_broken(path, shipped, f"{where} is not a valid Sigma rule: {_described(exc)}"))


def _condition_chars(document: dict[str, Any]) -> int:
    detection = document.get("detection")
    condition = detection.get("condition") if isinstance(detection, dict) else None
    if isinstance(condition, str):
        return len(condition)
    if isinstance(condition, list):
        return sum(len(c) for c in condition if isinstance(c, str))
    return 0


def _text(value: Any, default: str) -> str:
    """A rule attribute for display: pySigma keeps what the file said when it rejects it (`level: [high]`)."""
    return value if isinstance(value, str) and value else default


def _entry(rule: SigmaRule | SigmaCorrelationRule, path: Path, shipped: bool) -> HuntRule:
    level = str(rule.level.name).lower() if isinstance(rule.level, SigmaLevel) else _text(rule.level, "")
    return HuntRule(
        id=str(rule.id) if isinstance(rule.id, UUID) else _text(rule.id, path.stem),
        title=_text(rule.title, path.stem),
        level=level,
        tags=[str(tag) for tag in rule.tags if isinstance(tag, SigmaRuleTag) and tag.namespace == "attack"],
        author=_text(rule.author, ""),
        path=path,
        shipped=shipped,
    )


def _broken(path: Path, shipped: bool, reason: str) -> HuntRule:
    return HuntRule(
        id=path.stem,
        title=path.name,
        level="",
        tags=[],
        author="",
        path=path,
        shipped=shipped,
        reason=reason,
        placeholder=True,
    )


def id_clashes(rules: Sequence[HuntRule]) -> list[str]:
    """One line per id that several rules carry, naming every file that carries it."""
    by_id: dict[str, list[HuntRule]] = {}
    for rule in rules:
        if not rule.placeholder:
            by_id.setdefault(rule.id.lower(), []).append(rule)
    lines = []
    for same in by_id.values():
        if len(same) > 1:
            where = ", ".join(f"{r.title!r} ({r.source})" for r in same)
            lines.append(f"rule id {same[0].id} is used by {len(same)} rules: {where}; they are kept apart")
    return lines


def _is_cloudtrail(rule: SigmaRule) -> bool:
    ls = rule.logsource
    return (ls.product or "").lower() == "aws" and (ls.service or "").lower() == "cloudtrail"


def _described(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {_first_line(exc)}"


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
