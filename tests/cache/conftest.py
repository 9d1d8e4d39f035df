"""Fixtures of the term index's tests: files count as settled at once, and no build runs in the background."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from audit_trail.cache import build


@pytest.fixture
def settled(monkeypatch: pytest.MonkeyPatch) -> None:
    """A file the test has just written may be indexed: the guard against changes within the file system's
    timestamp granularity (`build.RACY_SECONDS`) would otherwise leave it out for two seconds."""
    monkeypatch.setattr(build, "RACY_SECONDS", 0.0)


@pytest.fixture
def background(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """What each command asked to index after answering (locations), instead of a process that outlives the
    test: the tests build the index in the foreground, so that nothing depends on timing."""
    asked: list[list[str]] = []

    def record(index: Any, files: Sequence[Any]) -> bool:
        asked.append([f.location for f in files])
        return index.problem is None and bool(files)

    monkeypatch.setattr(build, "in_background", record)
    return asked
