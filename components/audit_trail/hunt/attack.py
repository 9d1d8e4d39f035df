"""MITRE ATT&CK context for CloudTrail events: the tactics' order, and the events of an intrusion grouped
by tactic (the tactics of each event are in `attack_tactics`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..attack_tactics import event_tactics
from ..times import instant_key

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
