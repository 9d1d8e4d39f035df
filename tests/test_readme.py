"""The README tells the truth about the CLI: every `audit-trail` command and option it shows exists, and the
console examples it shows are what the tool prints."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator

import pytest
import typer
from audit_trail.cli.app import app
from support.paths import PROJECT_DIR
from typer.testing import CliRunner

README = (PROJECT_DIR / "README.md").read_text(encoding="utf-8")
COMMANDS = typer.main.get_command(app).commands  # type: ignore[attr-defined]


def _code_blocks(text: str) -> Iterator[str]:
    yield from re.findall(r"^```[a-z]*\n(.*?)^```", text, flags=re.S | re.M)


def _invocations() -> Iterator[str]:
    """Every `audit-trail ...` command line the README shows, in code blocks and inline code."""
    for block in _code_blocks(README):
        lines = block.splitlines()
        prompted = [line[2:] for line in lines if line.startswith("$ ")]
        # In a console example only the prompted lines are commands; the rest is what they printed.
        for line in prompted or lines:
            line = line.strip()
            if line.startswith("audit-trail "):
                yield line.split("  #")[0].split(" # ")[0].strip()
    yield from re.findall(r"`(audit-trail [^`]+)`", README)


def _words(line: str) -> list[str]:
    line = line.split(" | ")[0].split(" > ")[0].split(" 2>")[0]
    try:
        return shlex.split(line)
    except ValueError:  # an inline span cut at a quote
        return line.split()


INVOCATIONS = sorted(set(_invocations()))


def test_the_readme_shows_the_commands() -> None:
    shown = {_words(line)[1] for line in INVOCATIONS if len(_words(line)) > 1}
    assert {"plan", "fetch", "query", "hunt", "verify", "doctor", "who-changed", "activity"} <= shown


@pytest.mark.parametrize("line", INVOCATIONS)
def test_every_command_and_option_the_readme_shows_exists(line: str) -> None:
    words = _words(line)
    name = words[1]
    if name.startswith("-"):  # `audit-trail --version`, `audit-trail --help`
        assert name in ("--version", "--help", "-h")
        return
    if name in ("...", "…", "COMMAND"):
        return
    assert name in COMMANDS, f"no command {name!r} ({line})"
    options = {o for p in COMMANDS[name].params for o in (*p.opts, *p.secondary_opts)} | {"--help", "-h"}
    for word in words[2:]:
        if word.startswith("-") and not re.fullmatch(r"-\d.*", word):
            flag = word.split("=", 1)[0]
            assert flag in options, f"{name} has no option {flag} ({line})"


def _examples() -> Iterator[tuple[str, str, int]]:
    """(command, expected output, expected exit code) of the README's console examples that end in
    `$ echo $?`: a command, what it printed, and its exit code."""
    for block in _code_blocks(README):
        m = re.fullmatch(r"\$ (audit-trail [^\n]+)\n(.*?)\$ echo \$\?\n(\d+)\n", block, flags=re.S)
        if m:
            yield m.group(1), m.group(2), int(m.group(3))


EXAMPLES = list(_examples())


def test_there_are_console_examples_to_check() -> None:
    assert EXAMPLES


@pytest.mark.parametrize(("command", "expected", "code"), EXAMPLES, ids=[c for c, _, _ in EXAMPLES])
def test_console_examples_are_what_the_tool_prints(
    command: str, expected: str, code: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(PROJECT_DIR)
    result = CliRunner().invoke(app, shlex.split(command)[1:])
    assert result.exit_code == code
    assert result.stdout + result.stderr == expected


def test_the_exit_code_table_is_the_one_the_commands_print() -> None:
    from audit_trail.errors import EXIT_CODE_MEANINGS

    rows = dict(re.findall(r"^\| (\d) \| (.+) \|$", README, re.MULTILINE))
    assert {int(code): text.replace("`", "") for code, text in rows.items()} == {
        int(code): meaning for code, meaning in EXIT_CODE_MEANINGS.items()
    }


def test_the_readme_says_how_many_tests_there_are(request: pytest.FixtureRequest) -> None:
    """The count in the README's development section is this suite's, when the whole suite is collected."""
    option = request.config.option
    if (
        request.config.args not in ([], ["tests"], [str(PROJECT_DIR / "tests")])
        or option.keyword
        or option.markexpr
    ):
        pytest.skip("a part of the suite was chosen: the count is of the whole")
    shown = re.search(r"runs ([\d,]+) tests on two workers", README.replace("\n", " "))
    assert shown, "the README no longer says how many tests there are"
    assert int(shown.group(1).replace(",", "")) == len(request.session.items)
