"""MITRE ATT&CK context for CloudTrail events, from TrailDiscover's catalogue shipped in the package.

The catalogue (CC BY 4.0, see data/TRAILDISCOVER.md) lists CloudTrail events attackers have used, keyed by
event source and name, with their ATT&CK tactics ("TA0007 - Discovery") and techniques. What a question uses
of it is kept in a table beside it (`data/traildiscover_tactics.json`, made from the catalogue by
`tests/support/tactics_data.py`, and checked against it by the tests): one row per event, its tactics in
ATT&CK order. Techniques are not shown anywhere, so the table leaves them out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from ..times import instant_key

if TYPE_CHECKING:
    from ..investigate.answer import Answer

# Beside the package's modules (`package-data`): read as a plain file, since importlib.resources and the zip
# reader it brings cost more to import than the read, on every question that shows tactics.
_TABLE = Path(__file__).parent.parent / "data" / "traildiscover_tactics.json"


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
def catalogue() -> Mapping[tuple[str, str], tuple[str, ...]]:
    """(eventSource, eventName) -> its tactics, in ATT&CK order."""
    rows: list[list[Any]] = orjson.loads(_TABLE.read_bytes())
    return {(source, name): tuple(tactics) for source, name, tactics in rows}


@cache
def _by_action() -> Mapping[str, tuple[str, ...]]:
    return {f"{source.split('.', 1)[0]}:{name}": tactics for (source, name), tactics in catalogue().items()}


def action_tactics(action: str | None) -> list[str]:
    """Tactics of an `events` row's action (`ec2:RunInstances`, i.e. service prefix and event name)."""
    return list(_by_action().get(action or "", ()))


def with_tactics(answer: Answer) -> Answer:
    """The answer's event rows with their ATT&CK tactics, as a last `tactics` column."""
    if "action" not in answer.columns:
        return answer
    # The column is there even with no rows: CSV headers stay the same.
    rows = ({**row, "tactics": action_tactics(row.get("action"))} for row in answer.stream())
    return answer.derived([*answer.columns, "tactics"], rows)


def event_tactics(event_source: str | None, event_name: str | None) -> tuple[str, ...]:
    """The ATT&CK tactics of an event (none when attackers are not known to use it)."""
    return catalogue().get((event_source or "", event_name or ""), ())


def record_tactics(record: Mapping[str, Any]) -> list[str]:
    """The ATT&CK tactics of one CloudTrail record's event (empty when attackers are not known to use it)."""
    return list(event_tactics(record.get("eventSource"), record.get("eventName")))


def tactic_rows(events: Iterable[tuple[str, str | None, str | None]]) -> list[dict[str, Any]]:
    """Group (event_time, eventSource, eventName) by ATT&CK tactic, in ATT&CK's order: the intrusion's shape.

    An event with several tactics counts under each; events attackers are not known to use are left out.
    """
    groups: dict[str, dict[str, Any]] = {}
    for when, source, name in events:
        for tactic in event_tactics(source, name):
            group = groups.setdefault(
                tactic, {"tactic": tactic, "events": 0, "first_seen": when, "last_seen": when}
            )
            group["events"] += 1
            group["first_seen"] = min(group["first_seen"], when, key=instant_key)
            group["last_seen"] = max(group["last_seen"], when, key=instant_key)
            group.setdefault("_actions", set()).add(f"{(source or '').split('.', 1)[0]}:{name}")
    rows = sorted(groups.values(), key=lambda g: tactic_rank(g["tactic"]))
    for row in rows:
        row["actions"] = ", ".join(sorted(row.pop("_actions")))
    return rows
