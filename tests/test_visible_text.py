"""Every character that acts on a terminal or shows nothing is shown as an escape in text, and written as a
JSON escape in JSON (the same value): attacker-written text can neither restyle nor disguise itself."""

from __future__ import annotations

import io
import json
import sys
import unicodedata

import orjson
import pytest
import regex
from audit_trail.cli.output import OutputFormat, note, render, to_json
from audit_trail.visible_text import INVISIBLE, as_unicode, inert_json, visible
from hypothesis import given
from hypothesis import strategies as st

SPOOFS = {
    "bidi": "invoice\u202efdp.exe",  # shows as "invoiceexe.pdf"
    "isolate": "a\u2066b\u2069c",
    "zero_width": "mal\u200blory",  # looks like mallory
    "soft_hyphen": "ad\u00admin",
    "tag": "x\U000e0041y",
    "separator": "one\u2028two",
    "c1": "a\x9b31mb",
    "del": "a\x7fb",
}


def test_the_table_covers_unicodes_format_separator_and_ignorable_characters_and_the_controls() -> None:
    ignorable = regex.compile(r"\p{Default_Ignorable_Code_Point}")
    expected = {
        code
        for code in range(sys.maxunicode + 1)
        if unicodedata.category(chr(code)) in ("Cf", "Zl", "Zp", "Cc")
        or (unicodedata.category(chr(code)) == "Zs" and code != 0x20)
        or ignorable.match(chr(code))
    }
    assert set(INVISIBLE) == expected | {0x2800, 0x1D159}  # and the two blank glyphs


# Characters outside Cf, Zs, Zl and Zp that show nothing, or a blank, where they stand.
LOOK_ALIKES = {
    "\u034f": "\\u034f",  # combining grapheme joiner
    "\ufe0f": "\\ufe0f",  # variation selector 16
    "\U000e0100": "\\U000e0100",  # variation selector 17
    "\u115f": "\\u115f",  # Hangul choseong filler
    "\u3164": "\\u3164",  # Hangul filler
    "\uffa0": "\\uffa0",  # halfwidth Hangul filler
    "\u17b4": "\\u17b4",  # Khmer vowel inherent aq
    "\u180b": "\\u180b",  # Mongolian free variation selector one
    "\U000e0fff": "\\U000e0fff",  # unassigned, but ignorable
    "\u2800": "\\u2800",  # Braille pattern blank
    "\U0001d159": "\\U0001d159",  # musical symbol null notehead
}


@pytest.mark.parametrize("fmt", list(OutputFormat))
@pytest.mark.parametrize("char", LOOK_ALIKES)
def test_a_character_that_shows_nothing_cannot_pass_for_mallory(char: str, fmt: OutputFormat) -> None:
    """`mal\u034flory` looks like `mallory`: a table, a CSV cell and a message show the escape; JSON keeps the
    same value, written as an escape (a surrogate pair past U+FFFF, as JSON spells one)."""
    name = f"mal{char}lory"
    assert visible(name) == f"mal{LOOK_ALIKES[char]}lory"
    out = io.StringIO()
    render([{"actor": name}], fmt, out=out)
    text = out.getvalue()
    assert char not in text
    if fmt is OutputFormat.json:
        code = ord(char)
        high, low = divmod(code - 0x10000, 0x400)
        escape = f"\\u{code:04x}" if code < 0x10000 else f"\\u{0xD800 + high:04x}\\u{0xDC00 + low:04x}"
        assert escape in text and json.loads(text) == [{"actor": name}]
    else:
        assert f"mal{LOOK_ALIKES[char]}lory" in text


def test_json_escapes_exactly_those_characters() -> None:
    """Every code point at once: JSON escapes each of the table's characters, and no other."""
    every = "".join(chr(code) for code in range(0x20, sys.maxunicode + 1) if not 0xD800 <= code <= 0xDFFF)
    written = inert_json(orjson.dumps(every)).decode()
    assert json.loads(written) == every
    assert set(every) - set(written) == {chr(code) for code in INVISIBLE if code >= 0x20}


def test_a_space_that_is_not_the_plain_one_is_shown_as_an_escape() -> None:
    """A no-break, ogham or ideographic space passes for a plain space or a dash: `mal lory`."""
    assert visible("mal\u1680lory") == "mal\\u1680lory"
    assert visible("a\u00a0b\u3000c d") == "a\\xa0b\\u3000c d"
    assert json.loads(inert_json(orjson.dumps("mal\u1680lory"))) == "mal\u1680lory"
    assert b"\\u1680" in inert_json(orjson.dumps("mal\u1680lory"))


def test_text_shows_each_as_an_escape() -> None:
    assert visible(SPOOFS["zero_width"]) == "mal\\u200blory"
    assert visible(SPOOFS["bidi"]) == "invoice\\u202efdp.exe"
    assert visible(SPOOFS["tag"]) == "x\\U000e0041y"
    assert visible("é 漢字 🙂 ok\n") == "é 漢字 🙂 ok\\x0a"


@given(st.text())
def test_json_stays_the_same_value_and_holds_none_of_them(value: str) -> None:
    written = inert_json(orjson.dumps({"v": value, value: [value]}))
    assert json.loads(written) == {"v": value, value: [value]}
    assert not set(written.decode()) & {chr(code) for code in INVISIBLE if code != 0x0A}


@pytest.mark.parametrize("fmt", list(OutputFormat))
def test_no_format_lets_one_through(fmt: OutputFormat) -> None:
    out = io.StringIO()
    render([SPOOFS], fmt, out=out)
    text = out.getvalue()
    raw = {chr(code) for code in INVISIBLE if code != 0x0A}
    assert not set(text) & raw, fmt
    if fmt is OutputFormat.json:
        assert json.loads(text) == [SPOOFS] and to_json([SPOOFS]) + "\n" == text


def test_messages_show_them_too(capsys: pytest.CaptureFixture[str]) -> None:
    note("skipped file logs/invoice\u202efdp.json.gz: not gzip data")
    assert "invoice\\u202efdp" in capsys.readouterr().err


def test_a_name_that_is_not_utf8_shows_its_bytes_everywhere() -> None:
    name = b"bad\xff\x1b.json.gz".decode("utf-8", "surrogateescape")  # as os.listdir gives it
    assert visible(name) == "bad\\xff\\x1b.json.gz"
    assert json.loads(to_json({name: [name]})) == {"bad\\xff\x1b.json.gz": ["bad\\xff\x1b.json.gz"]}
    assert as_unicode("\ud800 alone") == "\\ud800 alone"
