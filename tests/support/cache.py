"""The term index as a user meets it: commands run in-process, answers compared with `--no-cache`."""

from __future__ import annotations

import re
from typing import Any

import orjson
from audit_trail.cli.app import app
from typer.testing import CliRunner

runner = CliRunner()


def cli(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def cache_lines(err: str) -> list[str]:
    """The lines about the cache (its warnings) in a command's stderr."""
    return [line for line in err.splitlines() if line.startswith("Cache:")]


def same_answer(source: str, *question: str) -> tuple[list[Any], str]:
    """The JSON answer with the index, after checking it is the one `--no-cache` gives, and so is the report
    on stderr, but for the counts of files the index ruled out or answered from its copy of their rows, and
    the cache's own lines. Rows and stderr."""
    code, out, err = cli(*question, source, "-f", "json")
    assert code == 0, err
    plain_code, plain_out, plain_err = cli(*question, source, "-f", "json", "--no-cache")
    assert plain_code == 0, plain_err
    assert orjson.loads(out) == orjson.loads(plain_out)
    report = "".join(line + "\n" for line in err.splitlines() if not line.startswith("Cache:"))
    report = re.sub(r"\d+ of them from the cache's copy of their events; ", "", report)
    assert re.sub(r", \d+ of them known from the cache", "", report) == plain_err
    return orjson.loads(out), err
