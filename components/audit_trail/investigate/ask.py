"""One entry point for every question, whichever engine answers it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import TYPE_CHECKING, NamedTuple

from ..errors import UserError
from ..queries.glue_table import DEFAULT_DATABASE, DEFAULT_TABLE, DEFAULT_WORKGROUP

if TYPE_CHECKING:  # the engines load when a question is asked: `--help` and `--version` need none of them
    from ..queries.filters import Filter
    from ..queries.questions import Question
    from ..window import Window
    from .answer import Answer
    from .sources import FileIndex, LogFile


class Engine(StrEnum):
    local = "local"
    athena = "athena"


# A named tuple, not a frozen dataclass: defining one of those costs about a millisecond at every start.
class AthenaTarget(NamedTuple):
    """Where the component's `athena` option put the table and workgroup."""

    database: str = DEFAULT_DATABASE
    table: str = DEFAULT_TABLE
    workgroup: str = DEFAULT_WORKGROUP


def ask(
    question: Question | None,
    *,
    source: str | None,
    window: Window,
    engine: Engine = Engine.local,
    target: AthenaTarget | None = None,
    sql: str | None = None,
    row_filters: Sequence[Filter] = (),
    progress: Callable[[str], None] | None = None,
    index: FileIndex | None = None,
    files: Sequence[LogFile] | None = None,
) -> Answer:
    """Answer QUESTION (or raw SQL over `events` narrowed by ROW_FILTERS) over SOURCE or on Athena.

    INDEX: the local engine's term index (`cache.index`), None to read every file. FILES: SOURCE's log files
    in WINDOW, when the caller listed them already."""
    if engine is Engine.athena:
        from . import athena

        if source:
            raise UserError(
                f"SOURCE {source!r}: --engine athena reads the Glue table over the trail's bucket, not a "
                "source; drop SOURCE, or use --engine local to scan it."
            )
        t = target or AthenaTarget()
        return athena.answer(
            question,
            window,
            sql=sql,
            row_filters=row_filters,
            database=t.database,
            table=t.table,
            workgroup=t.workgroup,
            progress=progress,
        )
    if not source:
        raise UserError(
            "SOURCE is missing: give a folder of CloudTrail logs (e.g. one written by `audit-trail fetch`) "
            "or an s3:// prefix (e.g. s3://my-trail-bucket/AWSLogs/), or use --engine athena."
        )
    from . import local

    return local.answer(
        source,
        question,
        window,
        sql=sql,
        row_filters=row_filters,
        progress=progress,
        index=index,
        files=files,
    )
