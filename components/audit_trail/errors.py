"""What stops a command, and the one exit-code table every command follows.

Plain exceptions: the libraries raise them, the component raises them, and only the CLI (`cli/app.py`) turns
them into a message and an exit code. No CLI framework is imported here.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """The exit code of every `audit-trail` command. Findings and failures never share a code."""

    OK = 0
    FINDINGS = 1
    BAD_INPUT = 2
    CANNOT_RUN = 3


EXIT_CODE_MEANINGS: dict[ExitCode, str] = {
    ExitCode.OK: "ran; nothing that fails (verify PASS, doctor PASS or only WARN, hunt below --fail-on, "
    "report written)",
    ExitCode.FINDINGS: "findings: verify FAIL, doctor FAIL (WARN too with --strict), a hunt hit at or above "
    "--fail-on, a report section FAIL with --fail-on-findings",
    ExitCode.BAD_INPUT: "bad input: a flag, a config key, a file or a rule given by the user",
    ExitCode.CANNOT_RUN: "could not run: AWS or network error, missing credentials, bucket, workgroup or "
    "table, a source with no log files where the command needs them, a dead worker, scratch space full, "
    "memory exhausted",
}
"""The exit-code table, as the README and every command's --help show it."""


class AuditTrailError(Exception):
    """Something that stops a command; the message says what and what to do. Never shown as a traceback.

    Each argument is one line of the message (most have one). A line break inside one is the text of what
    it quotes (a value from the logs, DuckDB's error about it, a file's name) and is shown as an escape: a
    log must not start a line of its own (`PASS - ...`) under the message."""

    exit_code: ExitCode = ExitCode.CANNOT_RUN

    @property
    def lines(self) -> tuple[str, ...]:
        return tuple(str(line) for line in self.args)

    def __str__(self) -> str:
        return "\n".join(self.lines)


class UserError(AuditTrailError):
    """Bad input (config key, flag, file, rule): the message names it, says what is accepted and what to
    do."""

    exit_code = ExitCode.BAD_INPUT


class CannotRunError(AuditTrailError):
    """The command could not do its work: AWS refused or was unreachable, the source holds nothing to read,
    a worker died, scratch space ran out. The message names the resource and what to do."""

    exit_code = ExitCode.CANNOT_RUN


_TRACEBACK = "Traceback (most recent call last):"


def without_traceback(message: str) -> str:
    """MESSAGE without the Python traceback a library quoted in it, whole: DuckDB does, when a module it needs
    to convert a value fails to import. What comes before it is kept, then the exception's own line."""
    head, found, trace = message.partition(_TRACEBACK)
    if not found:
        return message
    last = next((line.strip() for line in reversed(trace.splitlines()) if line.strip()), "")
    return f"{head.rstrip()} {last}".strip()
