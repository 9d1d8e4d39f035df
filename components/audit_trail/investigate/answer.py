"""What every engine returns for a question."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from .scanner import ScanReport
from .sources import FileIndex, LogFile


class Answer:
    """Rows of a question (times as ISO 8601 UTC strings, JSON columns as JSON values), their columns, and
    what the local scan met on the way (None from Athena).

    The rows may stream from the engine: `stream()` reads them once, in bounded memory; `rows` reads them all
    into a list (and keeps it)."""

    def __init__(
        self,
        columns: Iterable[str],
        rows: Iterable[dict[str, Any]],
        report: ScanReport | None = None,
        *,
        unindexed: Sequence[LogFile] = (),
        index: FileIndex | None = None,
        texts: Iterator[Any] | None = None,
    ) -> None:
        self.columns = list(columns)
        self.report = report
        self.index = index
        """The term index the scan consulted (None: none was)."""
        self.unindexed = unindexed
        """The files read that the index did not know: what a build after answering should index."""
        self.texts = texts
        """The same rows as the JSON text a JSON answer writes for each (`orjson.Fragment`s, indented by
        two), when the engine has it: read either these or the rows, once. A broad answer's hundred thousand
        rows are then written without being decoded and written again."""
        self._source = rows
        self._rows: list[dict[str, Any]] | None = rows if isinstance(rows, list) else None

    def derived(self, columns: Iterable[str], rows: Iterable[dict[str, Any]]) -> Answer:
        """Other rows (computed from these) with this answer's report and index."""
        return Answer(columns, rows, self.report, unindexed=self.unindexed, index=self.index)

    @property
    def rows(self) -> list[dict[str, Any]]:
        if self._rows is None:
            self._rows = list(self._source)
        return self._rows

    def stream(self) -> Iterator[dict[str, Any]]:
        return iter(self._rows) if self._rows is not None else iter(self._source)
