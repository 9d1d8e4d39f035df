"""CLI start-up: the investigation and integrity commands never load Pulumi or the AWS provider SDK (only
`plan` needs them, and importing them costs more than half a second at every start)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.logs import write_real_folder

HEAVY = ("pulumi", "pulumi_aws")


def _loaded_after(code: str) -> list[str]:
    """Which HEAVY modules a fresh interpreter holds after running CODE."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    loaded: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return loaded


def test_importing_the_cli_loads_no_pulumi() -> None:
    assert _loaded_after("import audit_trail.cli") == []


def test_query_hunt_and_verify_run_without_pulumi(tmp_path: Path) -> None:
    write_real_folder(tmp_path)
    code = f"""
from typer.testing import CliRunner
from audit_trail.cli.app import app
runner = CliRunner()
for args in (["query", {str(tmp_path)!r}, "-f", "json"], ["hunt", {str(tmp_path)!r}, "--summary"],
             ["verify", "--folder", {str(tmp_path)!r}]):
    result = runner.invoke(app, args)
    # verify without --public-keys stops with a usage error after loading everything it uses
    assert result.exit_code == (2 if args[0] == "verify" else 0), (args, result.output)
"""
    assert _loaded_after(code) == []


START_UP_FREE = (
    "pulumi",
    "pulumi_aws",
    "sigma",
    "boto3",
    "botocore",
    "duckdb",
    "rich",
    "yaml",
    "cryptography",
)


def test_version_and_a_selective_query_load_only_what_they_use(tmp_path: Path, cache_home: Path) -> None:
    """`--version` and `query --actor` on a folder, with the cache on, load none of the heavy libraries: the
    listing is merged without DuckDB, the folder read without boto3, JSON written without Rich."""
    write_real_folder(tmp_path / "logs")
    code = f"""
import sys
from typer.testing import CliRunner
from audit_trail.cli.app import app
runner = CliRunner()
for args in (["--version"], ["query", {str(tmp_path / "logs")!r}, "--actor", "alice", "-f", "json"]):
    result = runner.invoke(app, args)
    assert result.exit_code == 0, (args, result.output)
import json
print(json.dumps(sorted({{m.split(".")[0] for m in sys.modules}} & set({START_UP_FREE!r}))))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


def _console(*args: str) -> subprocess.CompletedProcess[str]:
    """The console script's own entry point, as `audit-trail ARGS` runs it."""
    code = "import sys; from audit_trail.cli import main; sys.argv[0] = 'audit-trail'; main()"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=False)


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["quer"], "Error: No such command 'quer'. Did you mean 'query'?"),
        (["query", ".", "--bogus"], "Error: No such option: --bogus"),
        (["query", ".", "-f", "xml"], "Error: Invalid value for '--format' / '-f': 'xml' is not one of"),
        # click gives this error no context, which left it without its usage lines
        (["query", ".", "--since"], "Error: Option '--since' requires an argument."),
        (["hunt", ".", "--min-level"], "Error: Option '--min-level' requires an argument."),
    ],
)
def test_a_usage_error_is_one_plain_error_line(args: list[str], error: str) -> None:
    """As every other error: the usage, the help hint and `Error: ...`, no box drawing in a pipe or log."""
    done = _console(*args)
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert lines[0].startswith("Usage: audit-trail") and any(line.startswith(error) for line in lines)
    assert not any(c in done.stderr for c in "╭│╰") and "Traceback" not in done.stderr


def test_ctrl_c_while_the_command_starts_is_exit_130_without_a_traceback() -> None:
    """Ctrl-C during the second or so of imports before a command runs ended in Python's traceback."""
    code = (
        "import sys\n"
        "class Interrupting:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'audit_trail.cli.app':\n"
        "            raise KeyboardInterrupt\n"
        "sys.meta_path.insert(0, Interrupting())\n"
        "from audit_trail.cli import main\n"
        "main()\n"
    )
    done = subprocess.run([sys.executable, "-c", code, "--version"], capture_output=True, text=True)
    assert done.returncode == 130 and done.stderr == "" and done.stdout == ""


def test_a_run_builds_only_the_command_it_names_and_keeps_every_other_path() -> None:
    """Typer builds a command's options from its signature at each start: a run builds the one it names.
    The root help, a name that is no command and a group's command still behave as with every command."""
    probe = (
        "from audit_trail.cli.app import app, _only_the_command_run\n"
        "_only_the_command_run(['who-changed', 'arn:aws:s3:::b', 'logs/'])\n"
        "print(len(app.registered_commands), app.registered_commands[0].name, len(app.registered_groups))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["1", "who-changed", "0"]
    root = _console("--help")
    assert root.returncode == 0 and all(c in root.stdout for c in ("query", "hunt", "verify", "cache"))
    typo = _console("quer")
    assert typo.returncode == 2 and "Did you mean 'query'" in typo.stderr
    group = _console("cache", "--help")
    assert group.returncode == 0 and "clear" in group.stdout
    one = _console("who-changed", "--help")
    assert one.returncode == 0 and "RESOURCE" in one.stdout


STOPPED = """
import os, signal, sys, tempfile, time
from audit_trail.cli.app import stop_cleanly_when_told

stop_cleanly_when_told()
worker = os.fork()
if worker == 0:  # a scanner worker forked with the handler dies by the signal, as by default
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(5)
    os._exit(0)
print(os.waitpid(worker, 0)[1], flush=True)
with tempfile.TemporaryDirectory(prefix="audit-trail-") as scratch:
    print(scratch, flush=True)
    os.kill(os.getpid(), getattr(signal, sys.argv[1]))
    time.sleep(5)
"""


@pytest.mark.parametrize("name", ["SIGTERM", "SIGHUP"])
def test_a_terminated_command_removes_its_scratch_folder(name: str) -> None:
    """`kill`, a closed terminal or a CI timeout: the command stops through its cleanup (killed outright,
    it left its scratch folders, and `report` its copies of the logs) with the shell's code for the signal."""
    ended = subprocess.run(
        [sys.executable, "-c", STOPPED, name], capture_output=True, text=True, timeout=30, check=False
    )
    number = getattr(signal, name)
    assert ended.returncode == 128 + number, ended.stderr
    status, scratch = ended.stdout.split()
    assert os.WIFSIGNALED(int(status)) and os.WTERMSIG(int(status)) == signal.SIGTERM
    assert not Path(scratch).exists()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "kill"])
def test_a_stop_ends_the_command_when_its_reader_stopped_reading(tmp_path: Path, signum: int) -> None:
    """`audit-trail query ... | less`, and less no longer reading: a stop went into the last write of the
    rows (the JSON writer's, then the one on the way out) and waited there for a reader that never came."""
    write_real_folder(tmp_path)
    code = "import sys; from audit_trail.cli import main; sys.argv[0] = 'audit-trail'; main()"
    args = ["query", str(tmp_path), "--sql", "SELECT * FROM events, range(300)", "-f", "json", "--no-cache"]
    done = subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert done.stdout is not None and done.stderr is not None
    assert done.stdout.read(1) == b"["  # the rows are coming; from here on nothing reads them
    time.sleep(1)  # the pipe fills, and the command waits in a write
    done.send_signal(signum)
    try:
        assert done.wait(timeout=10) == 128 + signum
    finally:
        done.kill()
    assert b"Traceback" not in done.stderr.read()
