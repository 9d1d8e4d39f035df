"""`audit-trail plan`: preview the stack offline (owned by the core component work)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def plan() -> None:
        """Preview what the stack would create, offline."""
        raise typer.Exit(0)
