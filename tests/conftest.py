"""Shared fixtures.

AWS APIs are served by moto in server mode on 127.0.0.1, started here; nothing leaves the host.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from support.moto_data import GENERATED_SIGNATURE, GeneratedBucket, data_client, listing
from support.paths import PROJECT_DIR

if TYPE_CHECKING:
    from audit_trail.investigate.sample_logs import KnownAnswers
    from audit_trail.plan.preview import Preview
    from support.planted_trail import Planted

TEST_REGION = "us-east-1"

# Bytecode caches, even where the environment turns them off (PYTHONDONTWRITEBYTECODE): each worker imports
# the package and every test module, which pytest rewrites for its assertions, and without the caches every
# run compiles them all again (seconds per worker). Subprocesses of the tests read the same caches.
# __pycache__ is git-ignored.
sys.dont_write_bytecode = False


@pytest.fixture(autouse=True)
def _no_term_index(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Commands under test read every file and start no background build, unless a test of the cache opts
    in (`cache_home`); a stray index would never land in the user's own cache folder either."""
    monkeypatch.setenv("AUDIT_TRAIL_NO_CACHE", "1")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


@pytest.fixture(autouse=True, scope="session")
def _cli_built_once() -> Iterator[None]:
    """Typer's `CliRunner.invoke` builds the click command from the app again on every call, reading every
    command's signature and type hints (~0.1 s); the `audit-trail` process builds it once, so the tests do."""
    import typer.main
    import typer.testing

    built: dict[int, tuple[object, Any]] = {}

    def command_of(app: typer.Typer) -> Any:
        if id(app) not in built:
            built[id(app)] = (app, typer.main.get_command(app))  # the app kept alive: its id stays its own
        return built[id(app)][1]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(typer.testing, "_get_command", command_of)
        yield


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
def rows_always(monkeypatch: pytest.MonkeyPatch) -> None:
    """A list over the index's kept rows is answered from them however little it reads: the tests' folders
    are far smaller than what is worth starting DuckDB for (`investigate.warm.MIN_BYTES`)."""
    from audit_trail.investigate import warm

    monkeypatch.setattr(warm, "MIN_BYTES", 0)


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


def _route_boto3_to(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials, and AWS_ENDPOINT_URL: boto3 clients made with no explicit endpoint reach ENDPOINT."""
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": TEST_REGION,
        "AWS_ENDPOINT_URL": endpoint,
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    # The scanner keeps one S3 client per process (`log_bytes.s3`): it must be made for this endpoint.
    from audit_trail.investigate import log_bytes

    monkeypatch.setattr(log_bytes, "_client", None)


@pytest.fixture
def aws(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A clean moto account for one test: boto3 clients made with no explicit endpoint reach it.

    Yields the endpoint URL.
    """
    import requests

    _route_boto3_to(moto_endpoint, monkeypatch)
    requests.post(f"{moto_endpoint}/moto-api/reset", timeout=10)
    yield moto_endpoint


_DATA_SERVER = """
import logging
import sys
from moto.server import ThreadedMotoServer

logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request

server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
print("http://%s:%d" % server.get_host_and_port(), flush=True)
sys.stdin.read()  # returns when the session's process ends, however it ends
"""


@pytest.fixture(scope="session")
def moto_data_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a second moto server, for buckets and trails a session fills once and its tests only read.

    It runs in a process of its own: moto's state is one per process, and `aws` resets the first server's
    state before every test. Tests that write to AWS use `aws`.
    """
    errors = tmp_path_factory.mktemp("moto-data") / "stderr.txt"
    with errors.open("w") as stderr:
        server = subprocess.Popen(
            [sys.executable, "-c", _DATA_SERVER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    assert server.stdout is not None
    endpoint = server.stdout.readline().strip()
    assert endpoint.startswith("http://127.0.0.1:"), f"moto data server did not start: {errors.read_text()}"
    yield endpoint
    server.kill()  # nothing in it is kept
    server.wait()


@pytest.fixture
def aws_data(moto_data_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """boto3 clients of this test reach the read-only data server (`moto_data_endpoint`); returns its URL."""
    _route_boto3_to(moto_data_endpoint, monkeypatch)
    return moto_data_endpoint


@pytest.fixture(scope="session")
def generated_bucket(
    moto_data_endpoint: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GeneratedBucket]:
    """The generated trail uploaded once to the data server under a prefix, its digests carrying signature
    metadata as CloudTrail writes it; tests read it through `aws_data`."""
    from support.logs import upload_folder, write_generated

    src = tmp_path_factory.mktemp("generated-bucket")
    known = write_generated(src, events=300, days=2, files_per_day=3, prefix="org/trail")
    data = GeneratedBucket(src, known, bucket="trail-logs", prefix="org/trail")
    s3 = data_client(moto_data_endpoint, "s3")
    s3.create_bucket(Bucket=data.bucket)
    upload_folder(s3, data.bucket, src, GENERATED_SIGNATURE)
    before = listing(s3, data.bucket)
    yield data
    assert listing(s3, data.bucket) == before, "a test wrote to a read-only bucket: give it its own (`aws`)"


def _state(root: Path) -> dict[Path, tuple[int, int]]:
    return {p: (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*")}


@pytest.fixture(scope="session")
def generated_trail(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, KnownAnswers]]:
    """The generated trail as `write_generated` makes it by default, written once per session for the tests
    that only read it (one that changes files makes its own)."""
    from support.logs import write_generated

    root = tmp_path_factory.mktemp("generated-trail")
    known = write_generated(root)
    before = _state(root)
    yield root, known
    assert _state(root) == before, "a test changed the shared generated trail: give it a folder of its own"


@pytest.fixture(scope="session")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Planted:
    """The trail with an audit report's facts planted in (`support.planted_trail`), made once per session."""
    from support.planted_trail import plant

    return plant(tmp_path_factory.mktemp("planted") / "logs")


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
