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
    on stderr, but for the cache's own lines and what the index changed in the count of files read: those
    it ruled out, and, for an answer from its kept rows, those it answered from (it reads their rows where a
    scan's prefilter may have skipped their bytes, so the files and records read may differ; the files
    listed and the rows matching may not). Rows and stderr."""
    code, out, err = cli(*question, source, "-f", "json")
    assert code == 0, err
    plain_code, plain_out, plain_err = cli(*question, source, "-f", "json", "--no-cache")
    assert plain_code == 0, plain_err
    assert orjson.loads(out) == orjson.loads(plain_out)
    report = [line for line in err.splitlines() if not line.startswith("Cache:")]
    plain = plain_err.splitlines()
    assert len(report) == len(plain), (report, plain)
    for number, line in enumerate(report):
        if _FROM_ROWS in line:
            assert _listed_and_matching(line) == _listed_and_matching(plain[number]), (line, plain[number])
            report[number] = plain[number]
        else:
            report[number] = re.sub(r", \d+ of them known from the cache", "", line)
    assert report == plain, (report, plain)
    return orjson.loads(out), err


_FROM_ROWS = "of them from the cache's copy of their events"


def _listed_and_matching(summary: str) -> tuple[str, str]:
    found = re.fullmatch(r"\d+ of (\d+) log files read \(.*\), \d+ records, (\d+) matching\.", summary)
    assert found, summary
    return found[1], found[2]
