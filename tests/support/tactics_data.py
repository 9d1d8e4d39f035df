"""The package's ATT&CK table (`audit_trail/data/traildiscover_tactics.json`) as TrailDiscover's catalogue
(`traildiscover_events.json`, beside it) gives it: what the test compares, and what
`python tests/support/tactics_data.py` writes when the catalogue is updated. The table holds only what a
question uses, so that a command showing tactics does not parse the catalogue's descriptions and links."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from audit_trail.hunt.attack import tactic_rank

DATA = Path(__file__).resolve().parents[2] / "components" / "audit_trail" / "data"
CATALOGUE = DATA / "traildiscover_events.json"
TABLE = DATA / "traildiscover_tactics.json"


def _name(label: str) -> str:
    """'TA0007 - Discovery' -> 'Discovery'."""
    return label.split(" - ", 1)[1].strip() if " - " in label else label.strip()


def derive(raw: list[dict[str, Any]]) -> list[list[Any]]:
    """[eventSource, eventName, tactics (in ATT&CK order)] per event, an event listed twice merged; a "T…"
    label filed under tactics is a technique, not a tactic."""
    merged: dict[tuple[str, str], set[str]] = {}
    for entry in raw:
        tactics = merged.setdefault((entry["eventSource"], entry["eventName"]), set())
        labels = entry.get("mitreAttackTactics") or ()
        tactics.update(_name(label) for label in labels if label.startswith("TA"))
    return [[source, name, sorted(t, key=tactic_rank)] for (source, name), t in sorted(merged.items())]


def render(rows: list[list[Any]]) -> str:
    return "[\n" + ",\n".join(json.dumps(row) for row in rows) + "\n]\n"


if __name__ == "__main__":
    TABLE.write_text(render(derive(json.loads(CATALOGUE.read_text(encoding="utf-8")))), encoding="utf-8")
    print(f"wrote {TABLE}", file=sys.stderr)
