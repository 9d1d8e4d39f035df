"""Evaluate a Sigma rule, as parsed by pySigma, against CloudTrail records (plain dicts).

Why an evaluator of pySigma's parsed detection rather than a pySigma backend: backends turn a rule into a
query string for some engine; no maintained backend targets DuckDB or Python objects, and going through
SQL would re-implement Sigma's case-folding, wildcards and list semantics in another dialect over JSON
columns, where nested arrays (`requestParameters.containerDefinitions.command`) and object-valued fields
lose their meaning. Evaluating pySigma's condition tree directly keeps pySigma as the single parser
(modifiers already applied, `1 of selection_*` already expanded) and lets each rule be compiled once into
a Python predicate: strings are case-folded once, wildcard patterns become one precompiled regular
expression, and every rule gets an index key (an exact value it requires, e.g. its `eventName`) so that
one record is only tested against the few rules that can match it. That is what keeps hunting with every
rule to one pass over the files.

Semantics, as the Sigma specification states them:
- Strings match case-insensitively unless `|cased`; `*` and `?` are wildcards; `\\` escapes them.
- A list of values is OR, `|all` makes it AND; `null` matches a missing or null field.
- `|re` is a regular expression, case-sensitive unless `|i`, searched anywhere in the value (the
  specification lists `^`/`$` anchors, so a pattern is not implicitly anchored).
- `|fieldref` compares with another field of the same record (case-insensitively, with
  `contains`/`startswith`/`endswith` if combined).

Field names are CloudTrail's JSON paths. Where the record has a list on the way
(`containerDefinitions[].command[]`) each element is a value of the field and the field matches if any
value does. A field holding an object or list (`requestParameters`) is matched through its scalar leaves
and its JSON text, so `requestParameters|contains: Suspended` sees the versioning status wherever it sits.
JSON `true`/`false`/numbers match their text.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import operator
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sigma.conditions import (
    ConditionAND,
    ConditionFieldEqualsValueExpression,
    ConditionNOT,
    ConditionOR,
    ConditionValueExpression,
)
from sigma.rule import SigmaRule
from sigma.types import (
    CompareOperators,
    Placeholder,
    SigmaBool,
    SigmaCasedString,
    SigmaCIDRExpression,
    SigmaCompareExpression,
    SigmaExists,
    SigmaExpansion,
    SigmaFieldReference,
    SigmaNull,
    SigmaNumber,
    SigmaRegularExpression,
    SigmaRegularExpressionFlag,
    SigmaString,
    SigmaTimestampPart,
    SigmaType,
    SpecialChars,
)

from .patterns import (
    CONTAINS,
    ENDSWITH,
    EXACT,
    STARTSWITH,
    PatternRejected,
    any_literal,
    escape,
    regex_search,
    wildcard_match,
)

Record = Mapping[str, Any]
Predicate = Callable[[Record], bool]
ValueTest = Callable[[Any], bool]

_MISSING = object()


class UnsupportedRule(Exception):
    """The rule needs something one CloudTrail record cannot decide; the message says what."""


# --- field access ---


def field_values(record: Any, path: str) -> list[Any]:
    """Every value of a dotted field path: lists on the way are flattened, a missing field gives none.

    A present null gives [None]. Each dot is a level of nesting, as in CloudTrail's own field names. The walk
    is iterative: a record may nest lists as deep as the JSON parser allows.
    """
    out: list[Any] = []
    parts = path.split(".")
    stack: list[tuple[Any, int]] = [(record, 0)]
    while stack:
        obj, depth = stack.pop()
        if isinstance(obj, list):
            stack.extend((item, depth) for item in reversed(obj))
        elif depth == len(parts):
            out.append(obj)
        elif isinstance(obj, Mapping):
            value = obj.get(parts[depth], _MISSING)
            if value is not _MISSING:
                stack.append((value, depth + 1))
    return out


def field_present(record: Any, path: str) -> bool:
    """Whether the field exists at all (even as null or an empty list): Sigma's `|exists`."""
    parts = path.split(".")
    stack: list[tuple[Any, int]] = [(record, 0)]
    while stack:
        obj, depth = stack.pop()
        if depth == len(parts):
            return True
        if isinstance(obj, list):
            stack.extend((item, depth) for item in obj)
        elif isinstance(obj, Mapping) and parts[depth] in obj:
            stack.append((obj[parts[depth]], depth + 1))
    return False


def _json_text(value: dict[str, Any] | list[Any]) -> str | None:
    """The compact JSON text of an object-valued field. orjson stops at 255 levels of nesting, the standard
    library near the interpreter's recursion limit; deeper than that, the value is matched by its leaves."""
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:
        pass
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    except (RecursionError, ValueError, TypeError):
        return None


def value_texts(value: Any) -> Iterator[str]:
    """The texts a string pattern is matched against for one field value (none for null)."""
    if value is None:
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, bool):
        yield "true" if value else "false"
    elif isinstance(value, (int, float)):
        yield orjson.dumps(value).decode()
    elif isinstance(value, (dict, list)):
        text = _json_text(value)
        if text is not None:
            yield text
        yield from _leaf_texts(value)


def _leaf_texts(value: Any) -> Iterator[str]:
    """The texts of every scalar inside VALUE, in document order (an iterative walk: no depth limit)."""
    stack: list[Any] = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, Mapping):
            stack.extend(reversed(list(node.values())))
        elif isinstance(node, list):
            stack.extend(reversed(node))
        else:
            yield from value_texts(node)


# --- values ---


def _memo(text_test: ValueTest) -> ValueTest:
    """A regular-expression test remembered per text: a trail repeats the same ARNs, agents and names, and
    a pattern such as `.+:assumed-role/aws:.+` costs far more per search than a cache lookup."""
    return functools.lru_cache(maxsize=4096)(text_test)


@dataclass(frozen=True)
class _Literal:
    """A Sigma string without inner wildcards: one of `patterns`' kinds, its text in the case compared."""

    kind: str
    needle: str
    cased: bool


def _literal(value: SigmaString) -> _Literal | None:
    """The literal test a string is (`abc`, `abc*`, `*abc`, `*abc*`), or None if it has inner wildcards."""
    cased = isinstance(value, SigmaCasedString)
    parts = list(value.s)
    text = [p for p in parts if isinstance(p, str)]
    star = SpecialChars.WILDCARD_MULTI
    if not value.contains_special():
        kind = EXACT
    elif len(parts) == 2 and len(text) == 1 and parts[1] is star:
        kind = STARTSWITH
    elif len(parts) == 2 and len(text) == 1 and parts[0] is star:
        kind = ENDSWITH
    elif len(parts) == 3 and len(text) == 1 and parts[0] is star and parts[2] is star:
        kind = CONTAINS
    else:
        return None
    needle = "".join(text)
    return _Literal(kind, needle if cased else needle.lower(), cased)


def _one_literal(kind: str, needle: str) -> ValueTest:
    if kind == EXACT:
        return needle.__eq__
    if kind == CONTAINS:
        return lambda text: needle in text
    if kind == STARTSWITH:
        return lambda text: text.startswith(needle)
    return lambda text: text.endswith(needle)


def _literals_test(kind: str, needles: Sequence[str], cased: bool) -> ValueTest:
    """A text test: the text (case-folded unless CASED) is / contains / starts / ends with one of NEEDLES,
    in one pass of the text however many NEEDLES there are."""
    inner = _one_literal(kind, needles[0]) if len(needles) == 1 else any_literal(kind, needles)
    if cased:
        return inner
    return lambda text: inner(text.lower())


def _string_test(value: SigmaString) -> tuple[ValueTest, str | None]:
    """A test of one text against a Sigma string, and the exact lower-cased value it requires (index)."""
    if any(isinstance(part, Placeholder) for part in value.s):
        raise UnsupportedRule(f"placeholder in value '{value}' needs a processing pipeline (|expand)")
    literal = _literal(value)
    if literal is not None:
        exact = literal.needle.lower() if literal.kind == EXACT else None
        return _literals_test(literal.kind, [literal.needle], literal.cased), exact
    pattern = "".join(
        escape(p) if isinstance(p, str) else ".*" if p is SpecialChars.WILDCARD_MULTI else "."
        for p in value.s
    )
    return _memo(_re2_rule(wildcard_match, pattern, cased=isinstance(value, SigmaCasedString))), None


def _re2_rule(build: Callable[..., ValueTest], *args: Any, **kwargs: Any) -> ValueTest:
    try:
        return build(*args, **kwargs)
    except PatternRejected as exc:
        raise UnsupportedRule(str(exc)) from None


def _text_test(text_test: ValueTest) -> ValueTest:
    """Lift a test of one text to a test of one field value (object values through their texts)."""

    def test(value: Any) -> bool:
        if type(value) is str:
            return text_test(value)
        return any(text_test(text) for text in value_texts(value))

    return test


_SIGMA_FLAGS = {
    SigmaRegularExpressionFlag.IGNORECASE: "i",
    SigmaRegularExpressionFlag.MULTILINE: "m",
    SigmaRegularExpressionFlag.DOTALL: "s",
}


def _regex_test(value: SigmaRegularExpression) -> ValueTest:
    flags = "".join(sorted(_SIGMA_FLAGS[flag] for flag in value.flags))
    return _text_test(_memo(_re2_rule(regex_search, str(value.regexp), flags)))


def _number_test(value: SigmaNumber) -> ValueTest:
    number = value.number
    text = str(number)

    def test(field_value: Any) -> bool:
        if isinstance(field_value, bool):
            return False
        if isinstance(field_value, (int, float)):
            return field_value == number
        return isinstance(field_value, str) and field_value.strip() == text

    return test


def _bool_test(value: SigmaBool) -> ValueTest:
    expected = bool(value)
    text = "true" if expected else "false"
    return lambda v: v is expected or (isinstance(v, str) and v.lower() == text)


_COMPARE = {
    CompareOperators.LT: operator.lt,
    CompareOperators.LTE: operator.le,
    CompareOperators.GT: operator.gt,
    CompareOperators.GTE: operator.ge,
    CompareOperators.NEQ: operator.ne,
}


def _compare_test(value: SigmaCompareExpression) -> ValueTest:
    op = _COMPARE[value.op]
    number = value.number.number

    def test(field_value: Any) -> bool:
        if isinstance(field_value, bool) or field_value is None:
            return False
        try:
            return bool(op(float(field_value), number))
        except (TypeError, ValueError):
            return False

    return test


def _cidr_test(value: SigmaCIDRExpression) -> ValueTest:
    network = value.network

    def test(field_value: Any) -> bool:
        if not isinstance(field_value, str):
            return False
        try:
            return ipaddress.ip_address(field_value.strip()) in network
        except ValueError:  # CloudTrail's sourceIPAddress may be a service name
            return False

    return test


@dataclass(frozen=True)
class _Leaf:
    """One compiled `field: value` test and, when it demands an exact value, that value for the index."""

    predicate: Predicate
    index: tuple[str, frozenset[str]] | None = None


def _field_leaf(field: str, value: SigmaType) -> _Leaf:
    getter = _getter(field)
    if isinstance(value, SigmaNull):
        return _Leaf(lambda r: all(v is None for v in getter(r)))
    if isinstance(value, SigmaExists):
        want = bool(value)
        return _Leaf(lambda r: field_present(r, field) is want)
    if isinstance(value, SigmaFieldReference):
        return _Leaf(_fieldref_predicate(getter, value))
    if isinstance(value, SigmaExpansion):
        leaves = [_field_leaf(field, v) for v in value.values]
        preds = [leaf.predicate for leaf in leaves]
        return _Leaf(lambda r: any(p(r) for p in preds))
    index: tuple[str, frozenset[str]] | None = None
    test: ValueTest
    if isinstance(value, SigmaString):
        text_test, exact = _string_test(value)
        test = _text_test(text_test)
        if exact is not None:
            index = (field, frozenset([exact]))
    elif isinstance(value, SigmaRegularExpression):
        test = _regex_test(value)
    elif isinstance(value, SigmaTimestampPart):
        raise UnsupportedRule("time-part modifiers (|minute, |hour, ...) are not supported")
    elif isinstance(value, SigmaNumber):
        test = _number_test(value)
    elif isinstance(value, SigmaBool):
        test = _bool_test(value)
    elif isinstance(value, SigmaCompareExpression):
        test = _compare_test(value)
    elif isinstance(value, SigmaCIDRExpression):
        test = _cidr_test(value)
    else:
        raise UnsupportedRule(f"value type {type(value).__name__} of field '{field}' is not supported")
    return _Leaf(_field_predicate(field, test), index)


def _field_predicate(field: str, test: ValueTest) -> Predicate:
    """The record has a value of FIELD that passes TEST (a missing or null field never does)."""
    lookup = _lookup(field)

    def predicate(record: Record) -> bool:
        found = lookup(record)
        if found is _MISSING or found is None:  # no value to match
            return False
        if found is _LIST or type(found) is list:
            return any(map(test, field_values(record, field)))
        return test(found)

    return predicate


def _fieldref_predicate(getter: Callable[[Record], list[Any]], ref: SigmaFieldReference) -> Predicate:
    other = _getter(ref.field)
    relation: Callable[[str, str], bool]
    if ref.starts_with and ref.ends_with:
        relation = _contains
    elif ref.starts_with:  # the value starts with the referenced one: `|fieldref|startswith`
        relation = str.startswith
    elif ref.ends_with:
        relation = str.endswith
    else:
        relation = operator.eq

    def predicate(record: Record) -> bool:
        theirs = [t.lower() for v in other(record) for t in value_texts(v)]
        if not theirs:
            return False
        return any(relation(t.lower(), b) for v in getter(record) for t in value_texts(v) for b in theirs)

    return predicate


def _contains(text: str, part: str) -> bool:
    return part in text


_LIST = object()  # a list on the way: the field has several values


def _lookup(field: str) -> Callable[[Record], Any]:
    """The value at a path through nested objects; _MISSING if absent, _LIST if a list is on the way."""
    parts = tuple(field.split("."))
    if len(parts) == 1:
        (only,) = parts
        return lambda record: record.get(only, _MISSING)
    if len(parts) == 2:
        first, second = parts

        def two(record: Record) -> Any:
            obj = record.get(first, _MISSING)
            if type(obj) is dict:
                return obj.get(second, _MISSING)
            return _LIST if type(obj) is list else _MISSING

        return two

    def deep(record: Record) -> Any:
        obj: Any = record
        for part in parts:
            if type(obj) is not dict:
                return _LIST if type(obj) is list else _MISSING
            obj = obj.get(part, _MISSING)
        return obj

    return deep


def _getter(field: str) -> Callable[[Record], list[Any]]:
    """All values of a field (see `field_values`), without the general walk in the common case."""
    lookup = _lookup(field)

    def get(record: Record) -> list[Any]:
        value = lookup(record)
        if value is _MISSING:
            return []
        if value is _LIST or type(value) is list:
            return field_values(record, field)
        return [value]

    return get


def _keyword_pattern(value: SigmaString) -> SigmaString:
    """A keyword matches anywhere in a value: `*value*` unless it says where itself."""
    if not value.startswith(SpecialChars.WILDCARD_MULTI):
        value = SpecialChars.WILDCARD_MULTI + value
    if not value.endswith(SpecialChars.WILDCARD_MULTI):
        value = value + SpecialChars.WILDCARD_MULTI
    return value


def _keyword_predicate(text_test: ValueTest) -> Predicate:
    return lambda record: any(text_test(text) for text in _leaf_texts(record))


def _keyword_leaf(value: SigmaType) -> _Leaf:
    """A value without a field is a full-text search: it matches if it occurs in any scalar of the record."""
    if isinstance(value, SigmaString):
        text_test, _ = _string_test(_keyword_pattern(value))
        return _Leaf(_keyword_predicate(text_test))
    if isinstance(value, SigmaRegularExpression):
        return _Leaf(_keyword_predicate(_regex_test(value)))
    raise UnsupportedRule(f"keyword value of type {type(value).__name__} is not supported")


# --- conditions ---


def _compile(node: Any) -> _Leaf:
    if isinstance(node, ConditionFieldEqualsValueExpression):
        return _field_leaf(node.field, node.value)
    if isinstance(node, ConditionValueExpression):
        return _keyword_leaf(node.value)
    if isinstance(node, ConditionNOT):
        inner = _compile(node.args[0]).predicate
        return _Leaf(lambda r: not inner(r))
    if isinstance(node, ConditionAND):
        children = [_compile(arg) for arg in node.args]
        return _Leaf(_all(tuple(c.predicate for c in children)), _and_index(children))
    if isinstance(node, ConditionOR):
        children = _or_children(node.args)
        return _Leaf(_any(tuple(c.predicate for c in children)), _or_index(children))
    raise UnsupportedRule(f"condition element {type(node).__name__} is not supported")


def _or_children(args: Sequence[Any]) -> list[_Leaf]:
    """The alternatives of an OR, compiled; literal strings of one field, kind and case (a list of values
    in the rule) become one leaf that tests them all in one pass of the text (see `patterns.any_literal`)."""
    groups: dict[tuple[str | None, str, bool], list[str]] = {}
    others: list[_Leaf] = []
    for arg in args:
        key = _literal_key(arg)
        if key is None:
            others.append(_compile(arg))
        else:
            (field, kind, cased), needle = key
            groups.setdefault((field, kind, cased), []).append(needle)
    merged: list[_Leaf] = []
    for (field, kind, cased), needles in groups.items():
        text_test = _literals_test(kind, needles, cased)
        if field is None:  # keywords: full-text search over every scalar of the record
            merged.append(_Leaf(_keyword_predicate(text_test)))
            continue
        index = (field, frozenset(n.lower() for n in needles)) if kind == EXACT else None
        merged.append(_Leaf(_field_predicate(field, _text_test(text_test)), index))
    return [*merged, *others]


def _literal_key(node: Any) -> tuple[tuple[str | None, str, bool], str] | None:
    """(field or None for a keyword, kind, cased) and the needle, for an OR alternative that is a literal."""
    value = getattr(node, "value", None)
    if not (isinstance(value, SigmaString) and type(value) in _PLAIN_STRINGS):
        return None  # a regex, number, expansion, ... or a subclass with a meaning of its own
    field: str | None
    if isinstance(node, ConditionFieldEqualsValueExpression):
        field = node.field
    elif isinstance(node, ConditionValueExpression):
        field, value = None, _keyword_pattern(value)
    else:
        return None
    if any(isinstance(part, Placeholder) for part in value.s):
        return None  # left to `_string_test`, which says why it cannot run
    literal = _literal(value)
    if literal is None:
        return None
    return (field, literal.kind, literal.cased), literal.needle


_PLAIN_STRINGS = (SigmaString, SigmaCasedString)


def _all(preds: tuple[Predicate, ...]) -> Predicate:
    if len(preds) == 2:
        first, second = preds
        return lambda r: first(r) and second(r)

    return lambda record: all(p(record) for p in preds)


def _any(preds: tuple[Predicate, ...]) -> Predicate:
    if len(preds) == 2:
        first, second = preds
        return lambda r: first(r) or second(r)
    return lambda record: any(p(record) for p in preds)


_INDEX_PREFERENCE = ("eventName", "eventSource")


def _rank(index: tuple[str, frozenset[str]]) -> tuple[int, int]:
    field, values = index
    pref = _INDEX_PREFERENCE.index(field) if field in _INDEX_PREFERENCE else len(_INDEX_PREFERENCE)
    return (pref, len(values))


def _and_index(children: Sequence[_Leaf]) -> tuple[str, frozenset[str]] | None:
    """An AND requires whatever any of its parts requires: keep the most selective requirement."""
    found = [c.index for c in children if c.index is not None]
    return min(found, key=_rank) if found else None


def _or_index(children: Sequence[_Leaf]) -> tuple[str, frozenset[str]] | None:
    """An OR requires one of its parts' values only if every part requires a value of the same field."""
    if not children or any(c.index is None for c in children):
        return None
    fields = {c.index[0] for c in children if c.index is not None}
    if len(fields) != 1:
        return None
    return (fields.pop(), frozenset().union(*(c.index[1] for c in children if c.index is not None)))


@dataclass(frozen=True)
class CompiledRule:
    """A rule as a predicate over one record, and the exact values of one field it requires (or None)."""

    predicate: Predicate
    index: tuple[str, frozenset[str]] | None


def compile_rule(rule: SigmaRule) -> CompiledRule:
    """Compile a parsed rule once; raises UnsupportedRule with the reason it cannot run."""
    leaves = [_compile(condition.parsed) for condition in rule.detection.parsed_condition]
    if len(leaves) == 1:
        return CompiledRule(leaves[0].predicate, leaves[0].index)
    preds = tuple(leaf.predicate for leaf in leaves)  # several conditions in one rule are alternatives
    return CompiledRule(lambda r: any(p(r) for p in preds), _or_index(leaves))


class RuleMatcher:
    """Test a record against many compiled rules, visiting only those whose index value it has."""

    def __init__(self, rules: Sequence[CompiledRule]) -> None:
        self._always: list[tuple[int, Predicate]] = []
        by_field: dict[str, dict[str, list[tuple[int, Predicate]]]] = {}
        for position, rule in enumerate(rules):
            if rule.index is None:
                self._always.append((position, rule.predicate))
                continue
            field, values = rule.index
            table = by_field.setdefault(field, {})
            for value in values:
                table.setdefault(value, []).append((position, rule.predicate))
        self._tables = [(_lookup(field), _getter(field), table) for field, table in by_field.items()]

    def matches(self, record: Record) -> list[int]:
        """Positions (in the list given to the constructor) of the rules the record fires, in order."""
        hits: list[int] = [position for position, predicate in self._always if predicate(record)]
        for lookup, getter, table in self._tables:
            value = lookup(record)
            if type(value) is str:  # the usual case: one string
                candidates = table.get(value.lower(), ())
            elif value is _MISSING or value is None:
                continue
            else:
                keys = {text.lower() for v in getter(record) for text in value_texts(v)}
                candidates = [c for key in keys for c in table.get(key, ())]
            for position, predicate in candidates:
                if position not in hits and predicate(record):
                    hits.append(position)
        if len(hits) > 1:
            hits.sort()
        return hits
