"""`audit-trail cache info|build|clear`: the term index that lets questions skip log files (`cache.index`)."""

from typing import TYPE_CHECKING, Annotated

import typer

from ..errors import CannotRunError, UserError
from .options import RegionOpt, SourceArg, command, parse_window
from .output import FormatOption, OutputFormat, note, progress_line, render

if TYPE_CHECKING:
    from ..cache.index import TermIndex


def _index() -> "TermIndex":
    from ..cache.index import TermIndex

    try:
        return TermIndex()
    except ValueError as exc:  # AUDIT_TRAIL_CACHE_MAX_MB
        raise UserError(str(exc)) from None


def _usable(index: "TermIndex") -> None:
    if index.problem is not None:  # an unwritable folder or a full disk: the machine's limit, exit 3
        raise CannotRunError(f"Cache: {index.problem}")


def register(app: typer.Typer) -> None:
    group = typer.Typer(
        name="cache",
        help="The term index kept between questions: one skips the files an earlier one read in vain.",
        no_args_is_help=True,
    )
    app.add_typer(group)

    @command(group, "info")
    def info(fmt: FormatOption = OutputFormat.table) -> None:
        """Where the index is, how large, and how many log files it knows.

        Its bound is AUDIT_TRAIL_CACHE_MAX_MB (1024 by default); past it the folders used least recently go.

        Example: audit-trail cache info -f json
        """
        index = _index()
        shown = index.info()
        _usable(index)
        render(shown.rows(), fmt, columns=["setting", "value"], title="Term index")

    @command(group, "build")
    def build(
        source: SourceArg = None,
        since: Annotated[
            str | None, typer.Option("--since", help="Only the days from this one (default: every day).")
        ] = None,
        region: RegionOpt = None,
    ) -> None:
        """Index SOURCE's log files now, instead of in the background after each question.

        A file is indexed as it is when read; a file that changes later is read again by the next question
        (and indexed again after it).

        Example: audit-trail cache build ./logs --since 30d
        """
        from ..cache.build import build as build_index
        from ..investigate.sources import list_log_files

        if not source:
            raise UserError("SOURCE is missing: give the folder or s3:// prefix to index, e.g. ./logs.")
        window = parse_window(since, None, region)
        index = _index()
        files = list_log_files(source, window)
        with progress_line() as progress:
            done = build_index(index, files, progress=progress)
        _usable(index)
        for line in index.warnings:
            note(f"Cache: {line}", style="yellow")
        note(
            f"{done.files} log files indexed in {done.folders} folders ({done.seconds:.1f} s); "
            f"{len(files) - done.files} already known or not indexable."
            + (
                f" {done.evicted} folders used least recently dropped to stay in bound."
                if done.evicted
                else ""
            ),
            style="dim",
        )
        index.close()

    @command(group, "clear")
    def clear() -> None:
        """Empty the index, and the lists of files of builds not yet started; questions read every file
        until it is built again.

        Example: audit-trail cache clear
        """
        from ..cache.build import clear_pending

        index = _index()
        freed = index.clear()
        clear_pending(index.folder)
        note(f"Term index cleared ({freed / 2**20:.1f} MiB).", style="dim")
