"""CLI commands, one module per area; each exposes `register(app)`."""

from __future__ import annotations

import typer


def register_all(app: typer.Typer) -> None:
    from . import hunt, integrity, investigate, plan

    for module in (plan, integrity, hunt, investigate):
        module.register(app)
