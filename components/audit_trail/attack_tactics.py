"""MITRE ATT&CK tactics of CloudTrail events, from TrailDiscover's catalogue shipped in the package.

The catalogue (CC BY 4.0, see data/TRAILDISCOVER.md) lists CloudTrail events attackers have used, keyed by
event source and name, with their ATT&CK tactics ("TA0007 - Discovery") and techniques. What a question uses
of it is kept in a table beside it (`data/traildiscover_tactics.json`, made from the catalogue by
`tests/support/tactics_data.py`, and checked against it by the tests): one row per event, its tactics in
ATT&CK order. Techniques are not shown anywhere, so the table leaves them out.

A leaf: the scanner's workers add an event's tactics to the rows they write, and the hunt reads them too.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import orjson

# Beside the package's modules (`package-data`): read as a plain file, since importlib.resources and the zip
# reader it brings cost more to import than the read, on every question that shows tactics.
_TABLE = Path(__file__).parent / "data" / "traildiscover_tactics.json"


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


def event_tactics(event_source: str | None, event_name: str | None) -> tuple[str, ...]:
    """The ATT&CK tactics of an event (none when attackers are not known to use it)."""
    return catalogue().get((event_source or "", event_name or ""), ())


def with_tactics(rows: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """ROWS of events, each with its action's tactics as a last column, `tactics`."""
    return ({**row, "tactics": action_tactics(row.get("action"))} for row in rows)
