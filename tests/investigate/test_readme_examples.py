"""The README's investigation and hunt examples are what the tool prints over the sample the README has the
reader make (`python -m audit_trail.investigate.sample_logs logs`), as a terminal of 120 columns shows it.

Every console example whose command reads `logs` is run, unless NOT_THE_SAMPLE says why not; a line `...`
(at any indent) in an example stands for lines left out.
"""

from __future__ import annotations

import re
import shlex
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from audit_trail.cli import output
from audit_trail.cli.app import app
from audit_trail.investigate.sample_logs import main
from support.paths import PROJECT_DIR
from typer.testing import CliRunner

README = (PROJECT_DIR / "README.md").read_text(encoding="utf-8")
WIDTH = 120
NOT_THE_SAMPLE = {
    "audit-trail query ./logs --actor mallory --follow-sessions -f csv": "a chain of role sessions, with its "
    "columns elided (tests/cli/test_sessions.py builds the chain)",
    "audit-trail activity mallory ./logs --follow-sessions": "the same chain, as a tree",
    "audit-trail verify --folder logs --public-keys logs/public-keys --since 2026-03-02 --until 2026-03-05": (
        "checked, with the tampered sample, in tests/integrity/test_readme_verify.py"
    ),
    "audit-trail verify --folder logs --public-keys logs/public-keys --since 2026-03-02 --until 2026-03-05 "
    "-f csv": "the tampered sample (tests/integrity/test_readme_verify.py)",
}


def _examples() -> Iterator[tuple[str, list[str]]]:
    """(command, the lines shown after it) of every `$ audit-trail ...` in the README that reads `logs`."""
    for block in re.findall(r"^ *```[a-z]*\n(.*?)^ *```", README, flags=re.S | re.M):
        lines = [line.rstrip() for line in block.splitlines()]
        indent = len(lines[0]) - len(lines[0].lstrip()) if lines else 0
        lines = [line[indent:] for line in lines]
        prompts = [i for i, line in enumerate(lines) if line.startswith("$ audit-trail ")]
        for n, i in enumerate(prompts):
            command = lines[i][2:]
            words = command.split()
            if not {"logs", "./logs"} & set(words) and "--list-rules" not in words:
                continue
            end = prompts[n + 1] if n + 1 < len(prompts) else len(lines)
            yield command, lines[i + 1 : end]


# An example showing no output is a command to type (`fetch` from a bucket), not one to check.
EXAMPLES = [(c, shown) for c, shown in _examples() if shown and c not in NOT_THE_SAMPLE]


def test_the_examples_are_found() -> None:
    commands = [c for c, _ in EXAMPLES]
    assert len(commands) >= 10
    assert {c.split()[1] for c in commands} >= {"who-changed", "activity", "query", "hunt", "denied"}
    assert not set(NOT_THE_SAMPLE) - {c for c, _ in _examples()}, "an exception names no example"


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cwd = tmp_path_factory.mktemp("readme")
    main([str(cwd / "logs")])
    return cwd


def printed(cwd: Path, command: str, monkeypatch: pytest.MonkeyPatch) -> tuple[int, list[str]]:
    """Exit code, and what COMMAND writes to stdout then stderr, with stdout a terminal WIDTH wide (the
    status line that a terminal's stderr also gets is left out: it erases itself)."""
    monkeypatch.chdir(cwd)
    monkeypatch.setattr(output, "_is_terminal", lambda stream: stream is sys.stdout)
    result = CliRunner().invoke(app, shlex.split(command)[1:], env={"COLUMNS": str(WIDTH)})
    return result.exit_code, [line.rstrip() for line in (result.stdout + result.stderr).splitlines()]


def _elided(line: str) -> bool:
    return line.strip() in ("...", "…")


def _pattern(shown: list[str]) -> re.Pattern[str]:
    return re.compile("".join("(?:.*\n)*?" if _elided(line) else re.escape(line) + "\n" for line in shown))


@pytest.mark.parametrize(("command", "shown"), EXAMPLES, ids=[c for c, _ in EXAMPLES])
def test_the_example_is_what_the_tool_prints(
    command: str, shown: list[str], sample: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, lines = printed(sample, command, monkeypatch)
    assert code in (0, 1, 3), lines
    text = "".join(line + "\n" for line in lines)
    if _elided(shown[-1]):
        assert _pattern(shown[:-1]).match(text), "\n".join(lines)
    else:
        assert _pattern(shown).fullmatch(text), "\n".join(lines)


def test_the_change_column_is_cut_where_the_readme_says() -> None:
    from audit_trail.investigate.events import CHANGE_CHARS, change_summary

    assert f"cut with `…` past {CHANGE_CHARS} characters" in README.replace("\n", " ")
    long = {"policyDocument": "x" * 500}
    assert len(change_summary(long)) == CHANGE_CHARS and change_summary(long).endswith("…")
