"""The README's sample and `verify` examples are what the tools print: the generator's lines, the summary of
`verify` on the sample, and the findings after the tampering the README describes."""

from __future__ import annotations

import gzip
import re
import shlex
import shutil
from pathlib import Path

import pytest
from audit_trail.cli.app import app
from audit_trail.investigate.sample_logs import main
from support.paths import PROJECT_DIR
from typer.testing import CliRunner

README = (PROJECT_DIR / "README.md").read_text(encoding="utf-8")
ACCOUNT_PATH = "logs/AWSLogs/123456789012"
VERIFY = (
    "audit-trail verify --folder logs --public-keys logs/public-keys --since 2026-03-02 --until 2026-03-05"
)


def example(command: str) -> list[str]:
    """The lines the README shows after `$ COMMAND`, up to the end of its block or the next prompt."""
    block = re.search(rf"^\$ {re.escape(command)}\n(.*?)^(?:```|\$ )", README, flags=re.S | re.M)
    assert block, f"the README shows no `$ {command}`"
    return block.group(1).splitlines()


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cwd = tmp_path_factory.mktemp("readme")
    main([str(cwd / "logs")])
    return cwd


def run(cwd: Path, command: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(cwd)
    result = CliRunner().invoke(app, shlex.split(command)[1:], env={"COLUMNS": "200"})
    return result.stdout


def test_the_generator_prints_what_the_readme_shows(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    main(["logs"])
    assert capsys.readouterr().out.splitlines() == example(
        "python -m audit_trail.investigate.sample_logs logs"
    )


def test_verify_on_the_sample_ends_in_the_summary_the_readme_shows(sample, monkeypatch):
    assert run(sample, VERIFY, monkeypatch).splitlines()[-2:] == example(VERIFY)[-2:]


def test_the_tampered_sample_gives_the_findings_the_readme_shows(sample, tmp_path, monkeypatch):
    shutil.copytree(sample / "logs", tmp_path / "logs")
    # As the README says: two digests of us-east-1 deleted, a eu-west-1 log edited, a file planted.
    digests = tmp_path / ACCOUNT_PATH / "CloudTrail-Digest/us-east-1/2026/03/04"
    for hour in ("19", "20"):
        for path in digests.glob(f"*_20260304T{hour}0000Z.json.gz*"):
            path.unlink()
    edited = sorted((tmp_path / ACCOUNT_PATH / "CloudTrail/eu-west-1/2026/03/03").glob("*.json.gz"))[0]
    edited.write_bytes(gzip.compress(gzip.decompress(edited.read_bytes()).replace(b"alice", b"carol")))
    planted = "123456789012_CloudTrail_us-east-1_20260303T1030Z_Xq7KfP2mNbR4sVt1.json.gz"
    shutil.copy(edited, tmp_path / ACCOUNT_PATH / "CloudTrail/us-east-1/2026/03/03" / planted)
    assert run(tmp_path, f"{VERIFY} -f csv", monkeypatch).splitlines() == example(f"{VERIFY} -f csv")
    summary = run(tmp_path, VERIFY, monkeypatch).splitlines()[-1]
    assert f"`{summary}`" in README
