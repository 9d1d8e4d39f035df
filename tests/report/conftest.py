"""The planted trail's evidence (`planted`: see tests/conftest.py), gathered once per session (per worker)."""

from __future__ import annotations

from pathlib import Path

import pytest
from audit_trail.integrity.public_keys import saved_keys
from audit_trail.report.evidence import Evidence
from audit_trail.report.gather import Request, gather
from audit_trail.store import FolderStore
from support.planted_trail import SINCE, UNTIL, Planted


def evidence_of(planted: Planted, **kw: object) -> Evidence:
    root: Path = planted.root
    request = Request(
        store=FolderStore(root),
        keys=saved_keys([str(planted.keys)], "--public-keys"),
        logs=str(root),
        since=SINCE,
        until=UNTIL,
        # as a user would type it, from the folder holding the evidence (the README's screenshot shows it)
        sources=["evidence", "public keys: evidence/public-keys"],
        command_line=[
            "audit-trail",
            "report",
            "--folder",
            "evidence",
            "--public-keys",
            "evidence/public-keys",
            "--since",
            SINCE.isoformat(),
            "--until",
            UNTIL.isoformat(),
            "-o",
            "audit.html",
        ],
        tool_version="0.1.0",
        **kw,  # type: ignore[arg-type]
    )
    return gather(request)


@pytest.fixture(scope="session")
def evidence(planted: Planted) -> Evidence:
    return evidence_of(planted)
