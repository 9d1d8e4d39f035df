"""What every engine returns for a question."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from .scanner import ScanReport


class Answer:
    """Rows of a question (times as ISO 8601 UTC strings, JSON columns as JSON values), their columns, and
    what the local scan met on the way (None from Athena).

    The rows may stream from the engine: `stream()` reads them once, in bounded memory; `rows` reads them all
    into a list (and keeps it)."""

    def __init__(
        self, columns: Iterable[str], rows: Iterable[dict[str, Any]], report: ScanReport | None = None
    ) -> None:
        self.columns = list(columns)
        self.report = report
        self._source = rows
        self._rows: list[dict[str, Any]] | None = rows if isinstance(rows, list) else None

    @property
    def rows(self) -> list[dict[str, Any]]:
        if self._rows is None:
            self._rows = list(self._source)
        return self._rows

    def stream(self) -> Iterator[dict[str, Any]]:
        return iter(self._rows) if self._rows is not None else iter(self._source)
