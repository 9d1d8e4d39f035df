"""MITRE ATT&CK context for CloudTrail events, from TrailDiscover's catalogue shipped in the package.

The catalogue (CC BY 4.0, see data/TRAILDISCOVER.md) lists CloudTrail events attackers have used, keyed by
event source and name, with their ATT&CK tactics ("TA0007 - Discovery") and techniques. What a question uses
of it is kept in a table beside it (`data/traildiscover_tactics.json`, made from the catalogue by
`tests/support/tactics_data.py`, and checked against it by the tests): one row per event, its tactics in
ATT&CK order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import orjson

if TYPE_CHECKING:
    from ..investigate.answer import Answer

# Beside the package's modules (`package-data`): read as a plain file, since importlib.resources and the zip
# reader it brings cost more to import than the read, on every question that shows tactics.
_TABLE = Path(__file__).parent.parent / "data" / "traildiscover_tactics.json"


# A named tuple, not a frozen dataclass: defining one of those costs about a millisecond at every start.
class AttackContext(NamedTuple):
    """What the catalogue says of one event: tactics (in ATT&CK order), techniques, seen in the wild."""

    tactics: tuple[str, ...]
    techniques: tuple[str, ...]
    used_in_wild: bool


# ATT&CK Enterprise tactic order: an intrusion read left to right.
TACTIC_ORDER = (
    "Reconnaissance",
    "Resource Development",
    "Initial Access",
    "Execution",
    "Persistence",
    "Privilege Escalation",
    "Defense Evasion",
    "Credential Access",
    "Discovery",
    "Lateral Movement",
    "Collection",
    "Command and Control",
    "Exfiltration",
    "Impact",
)


def tactic_rank(name: str) -> int:
    """A tactic's place in ATT&CK's order (an unknown one last)."""
    return TACTIC_ORDER.index(name) if name in TACTIC_ORDER else len(TACTIC_ORDER)


@cache
def catalogue() -> Mapping[tuple[str, str], AttackContext]:
    """(eventSource, eventName) -> context."""
    rows: list[list[Any]] = orjson.loads(_TABLE.read_bytes())
    return {(s, n): AttackContext(tuple(t), tuple(q), w) for s, n, t, q, w in rows}


@cache
def _by_action() -> Mapping[str, AttackContext]:
    return {f"{source.split('.', 1)[0]}:{name}": context for (source, name), context in catalogue().items()}


def action_tactics(action: str | None) -> list[str]:
    """Tactics of an `events` row's action (`ec2:RunInstances`, i.e. service prefix and event name)."""
    context = _by_action().get(action or "")
    return list(context.tactics) if context else []


def with_tactics(answer: Answer) -> Answer:
    """The answer's event rows with their ATT&CK tactics, as a last `tactics` column."""
    if "action" not in answer.columns:
        return answer
    # The column is there even with no rows: CSV headers stay the same.
    rows = ({**row, "tactics": action_tactics(row.get("action"))} for row in answer.stream())
    return answer.derived([*answer.columns, "tactics"], rows)


def attack_context(event_source: str | None, event_name: str | None) -> AttackContext | None:
    if not event_source or not event_name:
        return None
    return catalogue().get((event_source, event_name))


def record_tactics(record: Mapping[str, Any]) -> list[str]:
    """The ATT&CK tactics of one CloudTrail record's event (empty when attackers are not known to use it)."""
    context = attack_context(record.get("eventSource"), record.get("eventName"))
    return list(context.tactics) if context else []


def tactic_rows(events: Iterable[tuple[str, str | None, str | None]]) -> list[dict[str, Any]]:
    """Group (event_time, eventSource, eventName) by ATT&CK tactic, in ATT&CK's order: the intrusion's shape.

    An event with several tactics counts under each; events attackers are not known to use are left out.
    """
    groups: dict[str, dict[str, Any]] = {}
    for when, source, name in events:
        context = attack_context(source, name)
        for tactic in context.tactics if context else ():
            group = groups.setdefault(
                tactic, {"tactic": tactic, "events": 0, "first_seen": when, "last_seen": when}
            )
            group["events"] += 1
            group["first_seen"] = min(group["first_seen"], when)
            group["last_seen"] = max(group["last_seen"], when)
            group.setdefault("_actions", set()).add(f"{(source or '').split('.', 1)[0]}:{name}")
    rows = sorted(groups.values(), key=lambda g: tactic_rank(g["tactic"]))
    for row in rows:
        row["actions"] = ", ".join(sorted(row.pop("_actions")))
    return rows
