"""The `audit-trail` command line: each command is a few lines over one library function."""

from __future__ import annotations

import typer

from .commands import register_all

app = typer.Typer(
    name="audit-trail",
    help="Preview, investigate and verify an AWS account's CloudTrail audit trail.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """Preview, investigate and verify an AWS account's CloudTrail audit trail."""


register_all(app)


def main() -> None:
    app()
