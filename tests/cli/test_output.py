"""The output layer against attacker-written values: nothing from a log restyles a terminal, runs in a
spreadsheet, or is cut; JSON stays exact; tables are capped and say so."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from audit_trail.cli.output import (
    TABLE_ROWS,
    OutputFormat,
    csv_cell,
    json_list,
    render,
    show_error,
    table_cell,
    to_json,
)
from support.logs import real_records, write_real_folder

HOSTILE = {
    "markup": "[white on white]mallory was here[/] [bold green]nothing to see",
    "closing_tag": "[/bold]",
    "escapes": "\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\ \x1b[2J\x1b[31mFAKE",
    "c1": "a\x9b31mb",
    "carriage_return": "evil\rGood",
    "formula": '=HYPERLINK("http://evil","click")',
    "dde": "=cmd|' /C calc'!A0",
}


class _Terminal(io.StringIO):
    """A stream that says it is a terminal, as a TTY does."""

    def isatty(self) -> bool:
        return True


def _render(rows: list[dict], fmt: OutputFormat, *, terminal: bool = False, **kw) -> str:
    out = _Terminal() if terminal else io.StringIO()
    render(rows, fmt, out=out, **kw)
    return out.getvalue()


@pytest.mark.parametrize("terminal", [False, True])
def test_log_text_in_a_table_is_plain_and_visible(terminal: bool) -> None:
    text = _render([HOSTILE], OutputFormat.table, terminal=terminal)
    # On a terminal the table is styled (bold headers); nothing of the log's own escape codes gets through.
    for raw in ("\x1b]8;;", "\x1b[2J", "\x1b[31m", "\x9b", "\r"):
        assert raw not in text
    assert "\\x1b]8;;http://evil" in text and "\\x1b[2J" in text and "\\x9b" in text
    assert "[white on white]mallory was here[/]" in text  # markup is shown, not obeyed
    assert "[/bold]" in text


@pytest.mark.parametrize("fmt", list(OutputFormat))
@pytest.mark.parametrize("terminal", [False, True])
def test_a_hostile_column_name_is_shown_as_plainly_as_a_value(fmt: OutputFormat, terminal: bool) -> None:
    """A column's name may be a `--sql` alias (`SELECT 1 AS "\x1b]0;PWNED..."`): in no format does it
    retitle or restyle the terminal, and markup in it is shown, not obeyed."""
    name = "\x1b]0;PWNED\x07\x1b[31mred\x9b[1m\u202e[bold]x"
    text = _render([{name: 1, "user_agent": "aws-cli"}], fmt, terminal=terminal)
    assert not set(text) & {"\x07", "\x9b", "\u202e"}
    if fmt is OutputFormat.json:
        assert json.loads(text) == [{name: 1, "user_agent": "aws-cli"}]
        assert "\x1b" not in text
    else:
        assert "\x1b]0;PWNED" not in text and "\x1b[31m" not in text  # a terminal's table has its own bold
        assert "\\x1b]0;PWNED\\x07\\x1b[31mred\\x9b[1m\\u202e[bold]x" in text


def test_an_error_keeps_its_own_lines_and_escapes_the_line_breaks_it_quotes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    show_error("cannot convert 'x\nPASS - all clear\u2028'", "", "LINE 1: SELECT")
    err = capsys.readouterr().err
    assert err == "Error: cannot convert 'x\\x0aPASS - all clear\\u2028'\n\nLINE 1: SELECT\n"


def test_csv_neutralises_formulas_and_shows_control_characters() -> None:
    text = _render([HOSTILE, {"markup": -5, "formula": "+1", "dde": "@SUM(A1)"}], OutputFormat.csv)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["formula"].startswith("'=HYPERLINK(")
    assert rows[0]["dde"] == "'=cmd|' /C calc'!A0"
    assert rows[0]["escapes"].startswith("\\x1b]8;;")
    assert "\x1b" not in text and "\r" not in text
    assert rows[1] == {
        **rows[1],
        "markup": "-5",
        "formula": "'+1",
        "dde": "'@SUM(A1)",
    }  # numbers stay numbers
    assert csv_cell(-5) == -5 and csv_cell("-5") == "'-5"


def test_json_is_exact() -> None:
    text = _render([HOSTILE, {"nested": {"a": [1, "x\x00y"]}}], OutputFormat.json)
    assert json.loads(text) == [
        {k: HOSTILE.get(k) for k in HOSTILE},
        {k: None for k in HOSTILE},  # columns are the first row's
    ]
    assert "\x1b" not in text  # JSON escapes control characters itself


def test_identifiers_are_never_broken_in_a_pipe() -> None:
    arn = "arn:aws:cloudtrail:eu-west-1:111122223333:trail/prod-account-activity-with-a-long-name"
    key = "AWSLogs/111122223333/CloudTrail/eu-west-1/2026/11/24/111122223333_CloudTrail_eu-west-1_x.json.gz"
    rows = [
        {
            "account": "111122223333",
            "arn": arn,
            "key": key,
            "event_id": "57ee05cd-e009-42c7-bebf-f20686734721",
        }
    ]
    text = _render(rows, OutputFormat.table, title="Findings")
    lines = text.splitlines()
    assert lines[0] == "Findings"
    assert any(arn in line and key in line and "111122223333" in line for line in lines)
    assert all(line == line.rstrip() for line in lines)


def test_identifiers_are_never_broken_on_a_narrow_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    arn = "arn:aws:cloudtrail:eu-west-1:111122223333:trail/prod-account-activity-with-a-long-name"
    rows = [{"arn": arn, "user_agent": "aws-cli/2.17.32 Python/3.11.9 Linux/6.8 exe/x86_64.ubuntu.24 " * 3}]
    text = _render(rows, OutputFormat.table, terminal=True)
    assert any(arn in line for line in text.splitlines())  # the line runs long; the ARN stays whole


def test_free_text_wraps_between_words_and_never_inside_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """A change or user agent wraps on a terminal, but its words stay whole: one may be an identifier."""
    monkeypatch.setenv("COLUMNS", "60")
    change = "groupId=sg-0a1b2c3d4e5f60789, ipPermissions[0].ipProtocol=tcp, ipPermissions[0].fromPort=22"
    rows = [{"event_id": "57ee05cd-e009-42c7-bebf-f20686734721", "change": change}]
    lines = _render(rows, OutputFormat.table, terminal=True).splitlines()
    for word in change.split():
        assert any(word in line for line in lines), word
    assert not any(change in line for line in lines)  # it did wrap


def test_a_wide_word_is_measured_on_screen_and_stays_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    """A CJK or full-width word takes two columns a character: it is measured so, and not folded."""
    from rich.cells import cell_len

    monkeypatch.setenv("COLUMNS", "70")
    full_width = "".join(chr(0xFF21 + i) for i in range(10))  # A to J, two columns each
    words = ["漢字" * 15, full_width * 3]  # 60 columns each: wider than 24 characters, within 70
    rows = [{"actor": "cjk", "user_agent": " ".join(words) + " short"}]
    lines = _render(rows, OutputFormat.table, terminal=True).splitlines()
    for word in words:
        assert cell_len(word) > 24 and any(word in line for line in lines), word


def test_one_huge_hostile_word_does_not_widen_every_row(monkeypatch: pytest.MonkeyPatch) -> None:
    """A 5,000-character user agent in one record is folded at the terminal's width, not drawn as a table
    5,000 columns wide for every row; the identifiers beside it stay whole."""
    monkeypatch.setenv("COLUMNS", "120")
    arn = "arn:aws:iam::111122223333:user/a-user-with-a-rather-long-name"
    rows = [{"principal_arn": arn, "user_agent": "aws-cli/2.17.32 Python/3.11.9"} for _ in range(20)]
    rows[7]["user_agent"] = "x" * 5000
    lines = _render(rows, OutputFormat.table, terminal=True).splitlines()
    assert max(len(line) for line in lines) < 2 * 120 + len(arn)
    assert sum(arn in line for line in lines) == 20


def test_a_table_is_capped_and_says_how_many_there_were(capsys: pytest.CaptureFixture[str]) -> None:
    rows = ({"n": i} for i in range(TABLE_ROWS + 50))
    text = _render(list(rows), OutputFormat.table, title="Events", count="rows")
    assert text.splitlines()[0] == f"Events — {TABLE_ROWS + 50} rows"
    assert len(text.splitlines()) == 2 + TABLE_ROWS
    assert f"showing {TABLE_ROWS} of {TABLE_ROWS + 50} rows" in capsys.readouterr().err
    # JSON and CSV are never capped unless asked; --limit caps every format, 0 removes the cap.
    assert len(json.loads(_render([{"n": i} for i in range(TABLE_ROWS + 50)], OutputFormat.json))) == 250
    assert len(json.loads(_render([{"n": i} for i in range(10)], OutputFormat.json, limit=3))) == 3
    assert len(
        _render([{"n": i} for i in range(TABLE_ROWS + 5)], OutputFormat.table, limit=0).splitlines()
    ) == (1 + TABLE_ROWS + 5)


def test_a_table_of_rows_without_end_reads_only_as_many_as_it_counts(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A table counts the rows past those it shows; with COUNTED (a --sql answer: `range(10^12)` never
    ends) it stops there and says "more than", instead of reading rows until the time limit."""
    read = 0

    def endless() -> Iterator[dict[str, int]]:
        nonlocal read
        while True:
            read += 1
            yield {"n": read}

    rows: Any = endless()
    text = _render(rows, OutputFormat.table, title="Query", count="rows", counted=1000)
    assert read == 1001  # the last one only tells there are more
    assert text.splitlines()[0] == "Query — more than 1000 rows"
    assert len(text.splitlines()) == 2 + TABLE_ROWS
    assert f"showing {TABLE_ROWS} of more than 1000 rows" in capsys.readouterr().err
    # Rows that end within the bound are counted exactly, as without it.
    text = _render([{"n": i} for i in range(1000)], OutputFormat.table, count="rows", counted=1000)
    assert text.splitlines()[0] == "1000 rows"
    assert f"showing {TABLE_ROWS} of 1000 rows" in capsys.readouterr().err


def test_json_and_csv_stream_an_iterator() -> None:
    def rows():
        for i in range(3):
            yield {"n": i}

    assert json.loads(_render(rows(), OutputFormat.json)) == [{"n": 0}, {"n": 1}, {"n": 2}]
    assert _render(iter([]), OutputFormat.json) == "[]\n"  # type: ignore[arg-type]


def test_a_long_json_list_is_written_as_one_list_would_be_as_it_comes() -> None:
    values = [
        {"n": i, "text": "x" * 10_000, "nested": {"ips": [f"198.51.100.{i % 7}"], "y": {}}}
        for i in range(300)
    ]
    produced = 0
    pending: list[int] = []

    def stream() -> Iterator[dict[str, Any]]:
        nonlocal produced
        for value in values:
            produced += 1
            yield value

    class Out(io.StringIO):
        def write(self, text: str) -> int:
            pending.append(produced)
            return super().write(text)

    out = Out()
    assert json_list(stream(), out) == 300
    assert out.getvalue() == to_json(values) + "\n"  # the layout of the whole list, byte for byte
    assert 1 < pending[1] < 300  # values are written as they come (3 MB of them), not once all were read
    empty = io.StringIO()
    assert json_list(iter(()), empty) == 0 and empty.getvalue() == "[]\n"


def _nested(levels: int) -> Any:
    value: Any = 1
    for _ in range(levels):
        value = [value]
    return value


def test_each_value_is_written_on_its_own() -> None:
    """A row nested as deep as orjson writes (a planted record can be) is written as `to_json` writes it; a
    value orjson refuses fails alone, after the values before it are out."""
    deep = {"request_parameters": _nested(253)}
    out = io.StringIO()
    assert json_list([{"n": 1}, deep, {"n": 2}], out) == 3
    assert json.loads(out.getvalue())[1] == deep
    out = io.StringIO()
    with pytest.raises(TypeError):
        json_list([{"n": 1}, {"n": 2}, {"n": 2**70}, {"n": 3}], out)
    assert out.getvalue() == '[\n  {\n    "n": 1\n  },\n  {\n    "n": 2\n  }'


def test_long_lists_in_a_cell_are_summarised() -> None:
    ips = [f"198.51.100.{i}" for i in range(240)]
    assert (
        table_cell(ips) == "198.51.100.0, 198.51.100.1, 198.51.100.2, 198.51.100.3, 198.51.100.4 (+235 more)"
    )
    assert table_cell(["a", "b"]) == "a, b"


def test_progress_goes_to_a_terminal_only(capsys: pytest.CaptureFixture[str]) -> None:
    from audit_trail.cli.output import progress_line

    with progress_line() as progress:  # stderr is captured here: not a terminal
        assert progress is None
    assert capsys.readouterr().err == ""


def test_json_is_utf8_whatever_the_stream_says_and_text_before_it_comes_first() -> None:
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="ascii")
    out.write("before ")
    assert json_list([{"ua": "é 漢字 🙂"}], out) == 1
    text = raw.getvalue().decode("utf-8")
    assert text == "before " + to_json([{"ua": "é 漢字 🙂"}]) + "\n"


@pytest.mark.parametrize("fmt", ["json", "csv", "table"])
def test_a_value_an_ascii_stdout_cannot_hold_is_escaped_not_a_crash(tmp_path: Path, fmt: str) -> None:
    # An error code in another script, on a stdout set to ASCII (PYTHONIOENCODING, an old locale, a Windows
    # console): each format still answers, and shows the value.
    records = real_records()[:3]
    records[0]["errorCode"] = "é漢"
    write_real_folder(tmp_path, records)
    code = "import sys; from audit_trail.cli import main; sys.argv[0] = 'audit-trail'; main()"
    args = ["query", str(tmp_path), "-f", fmt, "--no-cache", "--limit", "0" if fmt != "table" else "10"]
    env = {**os.environ, "PYTHONIOENCODING": "ascii", "COLUMNS": "400"}
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, env=env, check=False)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    shown = done.stdout.decode("utf-8")
    assert ("é漢" if fmt == "json" else "\\xe9\\u6f22") in shown
    assert "3 matching" in done.stderr.decode("ascii")


def test_a_json_document_is_utf8_whatever_the_stream_says() -> None:
    from audit_trail.cli.output import json_document

    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="ascii")
    json_document({"key": "AWSLogs/é/\u202e.json.gz"}, out)
    text = raw.getvalue().decode("utf-8")
    assert json.loads(text) == {"key": "AWSLogs/é/\u202e.json.gz"} and "\u202e" not in text
