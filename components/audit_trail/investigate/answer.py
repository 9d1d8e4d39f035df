"""What every engine returns for a question."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .scanner import ScanReport


@dataclass
class Answer:
    """Rows of a question (times as ISO 8601 UTC strings), their columns, and what the local scan met on the
    way (None from Athena)."""

    columns: list[str]
    rows: list[dict[str, Any]]
    report: ScanReport | None = None
