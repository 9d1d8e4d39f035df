"""Sigma's rule levels, in order of severity (Sigma specification, "level")."""

from __future__ import annotations

from ..errors import UserError

LEVELS = ("informational", "low", "medium", "high", "critical")


def level_rank(level: str) -> int:
    return LEVELS.index(level)


def parse_level(value: str, option: str) -> str:
    """A level given on the command line (`--min-level`, `--fail-on`), checked."""
    level = value.strip().lower()
    if level not in LEVELS:
        raise UserError(f"{option} {value!r} is not a Sigma level; use one of: {', '.join(LEVELS)}.")
    return level
