"""Shared fixtures.

AWS APIs are served by moto in server mode on 127.0.0.1, started here; nothing leaves the host.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from support.paths import PROJECT_DIR

if TYPE_CHECKING:
    from audit_trail.plan.preview import Preview

TEST_REGION = "us-east-1"


@pytest.fixture(autouse=True)
def _no_term_index(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Commands under test read every file and start no background build, unless a test of the cache opts
    in (`cache_home`); a stray index would never land in the user's own cache folder either."""
    monkeypatch.setenv("AUDIT_TRAIL_NO_CACHE", "1")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


@pytest.fixture
def cache_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The term index on, in a cache folder of the test's own."""
    monkeypatch.delenv("AUDIT_TRAIL_NO_CACHE")
    return tmp_path / "cache" / "audit-trail"


@pytest.fixture
def settled(monkeypatch: pytest.MonkeyPatch) -> None:
    """A file the test has just written may be indexed: the guard against changes within the file system's
    timestamp granularity (`cache.build.RACY_SECONDS`) would otherwise leave it out for two seconds."""
    from audit_trail.cache import build

    monkeypatch.setattr(build, "RACY_SECONDS", 0.0)


@pytest.fixture
def background(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """What each command asked to index after answering (locations), instead of a process that outlives the
    test: tests build the index in the foreground, so that nothing depends on timing."""
    from audit_trail.cache import build

    asked: list[list[str]] = []

    def record(index: Any, files: Sequence[Any]) -> bool:
        asked.append([f.location for f in files])
        return index.problem is None and bool(files)

    monkeypatch.setattr(build, "in_background", record)
    return asked


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """URL of a moto server on a free loopback port, shared by the session (reset per test by `aws`)."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A clean moto account for one test: boto3 clients made with no explicit endpoint reach it.

    Yields the endpoint URL. Credentials are fake; AWS_ENDPOINT_URL routes every boto3 client to moto.
    """
    import requests

    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": TEST_REGION,
        "AWS_ENDPOINT_URL": moto_endpoint,
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    requests.post(f"{moto_endpoint}/moto-api/reset", timeout=10)
    yield moto_endpoint


# --- The Pulumi program under mocks: the same machinery as `audit-trail plan` -------------------------------


@pytest.fixture
def preview_stack() -> Callable[..., Preview]:
    """Run the real `__main__.py` for a stack: its Pulumi.<stack>.yaml, then `key=value` overrides."""
    from audit_trail.plan.preview import run
    from audit_trail.project import find_project, stack_config

    project = find_project(PROJECT_DIR)

    def _run(stack: str = "dev", *overrides: str) -> Preview:
        config = stack_config(project, stack, overrides)
        return run(project.program, config, stack=stack, project=project.name)

    return _run


@pytest.fixture
def preview_program() -> Callable[..., Preview]:
    """Run a program - a `__main__.py` path, or a function building resources - with a raw config dict."""
    from audit_trail.plan.preview import run

    def _run(program: Path | Callable[[], None], config: dict[str, str] | None = None) -> Preview:
        return run(program, config)

    return _run
