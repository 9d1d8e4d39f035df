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


STOPPED_TWICE = """
import multiprocessing, os, signal, sys, tempfile, time
from audit_trail.cli import app

app.AGAIN_IGNORED_SECONDS = float(sys.argv[2])
app.stop_cleanly_when_told()
worker = multiprocessing.get_context("fork").Process(target=time.sleep, args=(30,), daemon=True)
worker.start()
print(worker.pid, flush=True)
first, again = (getattr(signal, name) for name in sys.argv[1].split(","))
try:
    with tempfile.TemporaryDirectory(prefix="audit-trail-") as scratch:
        print(scratch, flush=True)
        try:
            os.kill(os.getpid(), first)
            time.sleep(5)
        finally:  # the cleanup, which the second signal comes into
            time.sleep(0.3)
            os.kill(os.getpid(), again)
            time.sleep(0.1)
            print("cleaned up", flush=True)
except KeyboardInterrupt:  # as Typer ends the command
    sys.exit(130)
"""


@pytest.mark.parametrize("signals", ["SIGINT,SIGINT", "SIGINT,SIGTERM", "SIGTERM,SIGINT", "SIGHUP,SIGTERM"])
def test_a_stop_signal_during_a_stop_s_cleanup_is_ignored(signals: str) -> None:
    """Ctrl-C pressed twice, or `kill` just after Ctrl-C: the second signal raised inside the first one's
    cleanup, which it cut short, and the command ended with the second signal's code."""
    ended = subprocess.run(
        [sys.executable, "-c", STOPPED_TWICE, signals, "5"],
        capture_output=True,
        text=True,
        timeout=30,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    first = getattr(signal, signals.split(",")[0])
    assert ended.returncode == 128 + first and ended.stderr == ""
    _, scratch, *rest = ended.stdout.splitlines()
    assert rest == ["cleaned up"] and not Path(scratch).exists()


def _ended(pid: int) -> bool:
    """Whether process PID has ended (gone, or a zombie nobody has reaped yet)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the worker's state in /proc")
def test_a_stop_signal_long_after_the_first_ends_a_stop_that_hangs() -> None:
    """The way out of a cleanup that hangs: once the first stop has gone on for a while, another stop signal
    kills the command at once, as it did before, and its worker processes with it (they would wait for
    work forever)."""
    ended = subprocess.run(
        [sys.executable, "-c", STOPPED_TWICE, "SIGTERM,SIGINT", "0.1"],
        capture_output=True,
        text=True,
        timeout=30,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    worker, scratch = ended.stdout.splitlines()
    Path(scratch).rmdir()
    assert ended.returncode == -signal.SIGINT
    deadline = time.monotonic() + 5
    while not _ended(int(worker)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _ended(int(worker))


@pytest.mark.parametrize(
    ("first", "again"),
    [(signal.SIGINT, signal.SIGINT), (signal.SIGINT, signal.SIGTERM), (signal.SIGTERM, signal.SIGINT)],
    ids=["ctrl-c twice", "ctrl-c then kill", "kill then ctrl-c"],
)
def test_stop_signals_sent_again_and_again_end_the_command_as_the_first_does(
    tmp_path: Path, first: int, again: int
) -> None:
    """Ctrl-C hammered during an incident while a long DuckDB query runs: a stop signal after the first
    landed somewhere in its clean stop (DuckDB's interrupt, the scratch folder's removal, the interpreter's
    exit) and killed the process by the signal, left the scratch folder, took the later signal's exit code
    or had DuckDB's binding print leaked-object lines."""
    write_real_folder(tmp_path / "logs")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    console = "import sys; from audit_trail.cli import main; sys.argv[0] = 'audit-trail'; main()"
    slow = "SELECT sum(hash(a.range + b.range)) FROM range(100000) a, range(1000000) b"
    done = subprocess.Popen(
        [sys.executable, "-c", console, "query", str(tmp_path / "logs"), "--sql", slow, "--no-cache"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "TMPDIR": str(scratch)},
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.monotonic() + 20
        while not any(scratch.glob("audit-trail-*")) and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.5)  # the scan is done and the query runs
        done.send_signal(first)
        stopped = time.monotonic()
        if again == first:
            time.sleep(0.005)
        else:
            # Another signal comes once the first is surely being handled: sent sooner, it may reach a busy
            # machine's handlers first, and then it is the first.
            while any(scratch.iterdir()) and done.poll() is None and time.monotonic() < stopped + 5:
                time.sleep(0.001)
        while done.poll() is None and time.monotonic() < stopped + 5:
            done.send_signal(again)
            time.sleep(0.002)
        took = time.monotonic() - stopped
        code = done.wait(timeout=10)
    finally:
        done.kill()
    _, stderr = done.communicate()
    assert code == 128 + first and stderr == b"", stderr.decode(errors="replace")[-2000:]
    assert took < 2 and not any(scratch.iterdir())


def test_a_command_run_in_the_caller_s_process_gives_its_signal_handlers_back(tmp_path: Path) -> None:
    """The app run inside another program (a test's runner): each command takes Ctrl-C, `kill` and SIGHUP
    for as long as it runs, and the program has its own handlers back after it."""
    from audit_trail.cli.app import app
    from typer.testing import CliRunner

    write_real_folder(tmp_path)
    stopping = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    before = {s: signal.getsignal(s) for s in stopping}
    done = CliRunner().invoke(app, ["query", str(tmp_path), "--sql", "SELECT 1 AS one", "--no-cache"])
    assert done.exit_code == 0, done.output
    assert {s: signal.getsignal(s) for s in stopping} == before
