"""The tampering matrix over the sample's own signed chain (`sample_logs`): at the start, in the middle and at
the end of the window, with `--until` long past and just now. Each case: the verdict (exit code 0 or 1) and
every key named."""

from __future__ import annotations

import gzip
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from audit_trail.cli.app import app
from audit_trail.integrity.continuity import Coverage
from audit_trail.integrity.public_keys import saved_keys
from audit_trail.integrity.verify import Problem, VerifyReport, verify_logs
from audit_trail.investigate.sample_logs import ACCOUNT, generate
from audit_trail.store import FolderStore
from support.digest_factory import new_signer
from typer.testing import CliRunner

START = datetime(2026, 3, 2, tzinfo=UTC)
SINCE, UNTIL = START, START + timedelta(hours=25)  # the one-day sample's whole chain: 25 hourly digests
PAST = UNTIL + timedelta(days=30)
REGION = "us-east-1"
DIGESTS = f"AWSLogs/{ACCOUNT}/CloudTrail-Digest/{REGION}"
LOGS = f"AWSLogs/{ACCOUNT}/CloudTrail/{REGION}"


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sample") / "logs"
    generate(root, events=200, days=1)
    return root


def digest(h: int) -> str:
    """The key of the digest of hour H of the sample (it ends at START + H + 1 hours)."""
    end = START + timedelta(hours=h + 1)
    name = f"{ACCOUNT}_CloudTrail-Digest_{REGION}_audit_us-east-1_{end:%Y%m%dT%H%M%SZ}.json.gz"
    return f"{DIGESTS}/{end:%Y/%m/%d}/{name}"


def logs_of(root: Path, h: int) -> list[str]:
    """The sample's log files delivered in hour H (those the hour's digest lists)."""
    fields = json.loads(gzip.decompress((root / digest(h)).read_bytes()))
    return [entry["s3Object"] for entry in fields["logFiles"]]


def plant(root: Path, h: int, minute: int = 30) -> str:
    t = START + timedelta(hours=h, minutes=minute)
    key = f"{LOGS}/{t:%Y/%m/%d}/{ACCOUNT}_CloudTrail_{REGION}_{t:%Y%m%dT%H%MZ}_planted{h}.json.gz"
    (root / key).parent.mkdir(parents=True, exist_ok=True)
    (root / key).write_bytes(gzip.compress(b'{"Records": []}'))
    return key


def edit(root: Path, key: str) -> None:
    content = (
        gzip.decompress((root / key).read_bytes())
        .replace(b"mallory", b"nobody1")
        .replace(b"Describe", b"Xescribe")
    )
    (root / key).write_bytes(gzip.compress(content + b" "))


def resign(root: Path, h: int) -> None:
    """Drop the hour's log files from its digest and sign it with a key CloudTrail never had."""
    from support.digest_factory import sign_digest

    path = root / digest(h)
    fields = json.loads(gzip.decompress(path.read_bytes()))
    fields["logFiles"] = []
    body, metadata = sign_digest(fields, ATTACKER)
    path.write_bytes(body)
    path.with_name(path.name + ".meta.json").write_text(json.dumps(metadata))


ATTACKER = new_signer()


@dataclass
class Case:
    tamper: Callable[[Path], set[tuple[Problem, str]]]
    """Changes the folder; returns the findings it must cause."""
    now: datetime = PAST
    ok: bool = False
    pending: tuple[float, int] = (0, 0)
    """(hours, log files) not yet due."""


def delete_digests(*hours: int) -> Callable[[Path], set[tuple[Problem, str]]]:
    def tamper(root: Path) -> set[tuple[Problem, str]]:
        expected = set()
        for h in hours:
            expected |= {(Problem.UNDIGESTED, key) for key in logs_of(root, h)}
            (root / digest(h)).unlink()
            expected.add((Problem.DIGEST_MISSING, digest(h)))
        return expected

    return tamper


def on_logs(h: int, action: str) -> Callable[[Path], set[tuple[Problem, str]]]:
    def tamper(root: Path) -> set[tuple[Problem, str]]:
        (key,) = logs_of(root, h)
        if action == "edit":
            edit(root, key)
            return {(Problem.LOG_MODIFIED, key)}
        (root / key).unlink()
        return {(Problem.LOG_DELETED, key)}

    return tamper


def resigned(h: int, last: bool = False) -> Callable[[Path], set[tuple[Problem, str]]]:
    def tamper(root: Path) -> set[tuple[Problem, str]]:
        listed = logs_of(root, h)
        resign(root, h)
        expected = {(Problem.BAD_SIGNATURE, digest(h)), *((Problem.UNDIGESTED, k) for k in listed)}
        return expected if last else expected | {(Problem.CHAIN_BROKEN, digest(h))}

    return tamper


def hide_the_end(root: Path) -> set[tuple[Problem, str]]:
    """The reviewers' reproducer: delete the newest digests, edit logs of their hours, plant another."""
    edited = [*logs_of(root, 18), *logs_of(root, 24)]
    expected = delete_digests(*range(18, 25))(root)
    for key in edited:
        edit(root, key)
    return expected | {(Problem.UNDIGESTED, plant(root, 20))}


def plant_in(h: int, problem: Problem) -> Callable[[Path], set[tuple[Problem, str]]]:
    return lambda root: {(problem, plant(root, h))}


def unnoticed(tamper: Callable[[Path], object]) -> Callable[[Path], set[tuple[Problem, str]]]:
    """TAMPER, expected to cause no finding."""

    def run(root: Path) -> set[tuple[Problem, str]]:
        tamper(root)
        return set()

    return run


def planted_names(root: Path) -> set[tuple[Problem, str]]:
    bad_digest = (
        f"{DIGESTS}/2026/03/02/{ACCOUNT}_CloudTrail-Digest_{REGION}_audit_us-east-1_20260399T000000Z.json.gz"
    )
    bad_log = f"{LOGS}/2026/03/02/{ACCOUNT}_CloudTrail_{REGION}_20260302T2599Z_x.json.gz"
    for key in (bad_digest, bad_log):
        (root / key).write_bytes(b"planted")
    return {(Problem.UNEXPECTED, bad_digest), (Problem.UNEXPECTED, bad_log)}


CASES = {
    "untouched": Case(lambda root: set(), ok=True),
    "delete one digest at the start, no logs in its hour": Case(delete_digests(0)),
    "delete one digest near the start, logs in its hour": Case(delete_digests(6)),
    "delete one digest in the middle, logs in its hour": Case(delete_digests(12)),
    "delete one digest in the middle, no logs in its hour": Case(delete_digests(13)),
    "delete one digest at the end, no logs in its hour": Case(delete_digests(23)),
    "delete the last digest, logs in its hour": Case(delete_digests(24)),
    "delete two consecutive digests at the start": Case(delete_digests(0, 1)),
    "delete two consecutive digests in the middle": Case(delete_digests(12, 13)),
    "delete the last two digests": Case(delete_digests(23, 24)),
    "delete the last digests, edit and plant logs in their hours": Case(hide_the_end),
    "edit a log at the start": Case(on_logs(6, "edit")),
    "edit a log in the middle": Case(on_logs(12, "edit")),
    "edit a log at the end": Case(on_logs(24, "edit")),
    "delete a log at the start": Case(on_logs(6, "delete")),
    "delete a log at the end": Case(on_logs(24, "delete")),
    "plant a log in a covered hour": Case(plant_in(12, Problem.UNEXPECTED)),
    "plant a log at the start": Case(plant_in(0, Problem.UNEXPECTED)),
    "re-sign the first digest with another key": Case(resigned(0)),
    "re-sign a digest in the middle with another key": Case(resigned(12)),
    "re-sign the last digest with another key": Case(resigned(24, last=True)),
    "planted names": Case(planted_names),
    # Until just now: the newest hour's digest is not due yet, so its absence is no proof of anything.
    "just now, the last digest not yet delivered": Case(
        unnoticed(lambda root: (root / digest(24)).unlink()),
        now=UNTIL + timedelta(minutes=30),
        ok=True,
        pending=(1, 1),
    ),
    "just now, a log planted in the last hour": Case(
        unnoticed(lambda root: plant(root, 24)), now=UNTIL + timedelta(minutes=30), ok=True, pending=(0, 1)
    ),
    "two hours on, the last digest is due": Case(delete_digests(24), now=UNTIL + timedelta(hours=2)),
}


def verify(root: Path, now: datetime) -> VerifyReport:
    keys = saved_keys([str(root / "public-keys")], "--public-keys")
    return verify_logs(FolderStore(root), keys, SINCE, UNTIL, regions={REGION}, now=now)


@pytest.mark.parametrize("name", list(CASES))
def test_tampering_matrix(sample, tmp_path, name):
    case = CASES[name]
    root = tmp_path / "logs"
    shutil.copytree(sample, root)
    expected = case.tamper(root)
    report = verify(root, case.now)
    assert report.ok is case.ok
    named = {(f.problem, f.key) for f in report.findings if f.result == "FAIL"}
    assert named == expected
    (region,) = report.regions
    assert (region.hours(Coverage.PENDING), region.pending) == case.pending


def test_the_cli_exit_codes_on_the_sample(sample, tmp_path):
    root = tmp_path / "logs"
    shutil.copytree(sample, root)
    args = ["verify", "--folder", str(root), "--public-keys", str(root / "public-keys")]
    args += ["--since", "2026-03-02T00:00Z", "--until", "2026-03-03T01:00Z", "--region", REGION]
    result = CliRunner().invoke(app, args, env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    assert "PASS - every hour of the window has a valid digest" in result.output
    hide_the_end(root)
    result = CliRunner().invoke(app, args, env={"COLUMNS": "400"})
    assert result.exit_code == 1
    assert "FAIL - digest missing: 7, undigested: 3." in result.output
