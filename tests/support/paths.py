"""Where things are, for tests in any sub-folder."""

from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent
DATA = TESTS / "data"
"""Real CloudTrail records and reference texts copied into the repository (see the notices beside them)."""
PROJECT_DIR = TESTS.parent
"""The repository root: the Pulumi project, README, pyproject.toml."""
