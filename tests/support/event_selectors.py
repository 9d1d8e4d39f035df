"""Which events a trail's advanced event selectors record: a small evaluator of CloudTrail's semantics.

Follows the CloudTrail API reference, AdvancedEventSelector and AdvancedFieldSelector
(docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_AdvancedFieldSelector.html), and the user guide's
"Filtering data events by using advanced event selectors":

- an event is recorded when at least one selector matches it;
- a selector matches when every one of its field selectors matches;
- a field selector matches when every operator it carries holds: `Equals`, `StartsWith`, `EndsWith` hold
  when the field's value matches one of the listed values; `NotEquals`, `NotStartsWith`, `NotEndsWith` hold
  when it matches none of them;
- `resources.ARN` is compared with the ARNs of the event's resources of the selector's `resources.type`
  (an S3 object event lists the object, of type AWS::S3::Object, and its bucket);
- a field the record does not have matches no inclusive operator and every exclusive one.

Selectors are read in the form the engine receives them (`fieldSelectors`, `equals`, `notStartsWiths`, as
`audit-trail plan --json` shows), in the API's (`FieldSelectors`, `Equals`, `NotStartsWith`) or in the
component's pure functions' (`field_selectors`, `not_starts_withs`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

Test = Callable[[str, str], bool]

_OPERATORS: dict[str, tuple[Test, bool]] = {
    # operator -> (comparison, exclusive)
    "equals": (lambda value, wanted: value == wanted, False),
    "startsWith": (lambda value, wanted: value.startswith(wanted), False),
    "endsWith": (lambda value, wanted: value.endswith(wanted), False),
    "notEquals": (lambda value, wanted: value == wanted, True),
    "notStartsWith": (lambda value, wanted: value.startswith(wanted), True),
    "notEndsWith": (lambda value, wanted: value.endswith(wanted), True),
}


def _operator(key: str) -> str | None:
    """`equals`/`Equals` -> equals; `notStartsWiths`/`NotStartsWith`/`not_starts_withs` -> notStartsWith."""
    head, *rest = key.split("_")
    name = head[:1].lower() + head[1:] + "".join(part.capitalize() for part in rest)
    if name.endswith("Withs"):
        name = name[:-1]
    return name if name in _OPERATORS else None


def _text(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _values(record: Mapping[str, Any], field: str, resource_type: str | None) -> list[str] | None:
    """The values FIELD has in RECORD (several for resources.ARN), or None when the record lacks it."""
    if field == "resources.ARN":
        resources = record.get("resources") or []
        arns = [r["ARN"] for r in resources if resource_type is None or r.get("type") == resource_type]
        return arns or None
    if field == "resources.type":
        types = [r["type"] for r in record.get("resources") or []]
        return types or None
    value: Any = record
    for part in field.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return None if value is None else [_text(value)]


def _field_matches(spec: Mapping[str, Any], record: Mapping[str, Any], resource_type: str | None) -> bool:
    field = spec.get("field") or spec.get("Field")
    assert isinstance(field, str), spec
    values = _values(record, field, resource_type)
    for key, wanted in spec.items():
        operator = _operator(key)
        if operator is None:
            continue
        compare, exclusive = _OPERATORS[operator]
        hits = [v for v in values or [] if any(compare(v, w) for w in wanted)]
        if exclusive and hits:
            return False
        if not exclusive and not hits:
            return False
    return True


def _field_selectors(selector: Mapping[str, Any]) -> Sequence[Mapping[str, Any]]:
    found = selector.get("fieldSelectors", selector.get("FieldSelectors", selector.get("field_selectors")))
    assert isinstance(found, list), selector
    return found


def selector_matches(selector: Mapping[str, Any], record: Mapping[str, Any]) -> bool:
    fields = _field_selectors(selector)
    types = [
        f.get("equals", f.get("Equals", [None]))[0]
        for f in fields
        if (f.get("field") or f.get("Field")) == "resources.type"
    ]
    resource_type = types[0] if types else None
    return all(_field_matches(f, record, resource_type) for f in fields)


def records(selectors: Iterable[Mapping[str, Any]], record: Mapping[str, Any]) -> bool:
    """Whether a trail with these advanced SELECTORS records RECORD."""
    return any(selector_matches(s, record) for s in selectors)
