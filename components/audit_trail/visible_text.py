"""Text from the logs as a person may read it, on a terminal, in a CSV cell or on a page.

The logs are attacker-written, so every character that acts instead of showing, or shows nothing, is written
as an escape (`\\x1b`, `\\u202e`): the C0 and C1 controls and DEL (they move the cursor, restyle or retitle a
terminal), Unicode's format characters and line separators (categories Cf, Zl, Zp), every space but the
plain one (Zs), the characters Unicode says a renderer shows as nothing (Default_Ignorable_Code_Point:
variation selectors, the combining grapheme joiner, Hangul fillers, ...) and two whose glyph is blank by
design: a bidirectional override reorders what follows it on the screen (the "Trojan Source" attack,
CVE-2021-42574), a zero-width space or a combining grapheme joiner makes `mal\\u200blory` or
`mal\\u034flory` look like `mallory`, and a no-break, em or ogham space (`mal\\u1680lory`) or the Braille
blank passes for a plain space or a dash.
"""

from __future__ import annotations

import re
from typing import Any

from . import json_text

# Every character of Unicode's categories Cf, Zl and Zp (Unicode 14, Python 3.11's `unicodedata`; a test
# checks the list against it), as inclusive ranges.
_FORMAT_RANGES = (
    (0x00AD, 0x00AD),
    (0x0600, 0x0605),
    (0x061C, 0x061C),
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x0890, 0x0891),
    (0x08E2, 0x08E2),
    (0x180E, 0x180E),
    (0x200B, 0x200F),
    (0x2028, 0x202E),
    (0x2060, 0x2064),
    (0x2066, 0x206F),
    (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x13438),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
)


def _escape(code: int) -> str:
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


# Unicode's category Zs but U+0020 (the same Unicode, and the same test).
_SPACE_RANGES = (
    (0x00A0, 0x00A0),
    (0x1680, 0x1680),
    (0x2000, 0x200A),
    (0x202F, 0x202F),
    (0x205F, 0x205F),
    (0x3000, 0x3000),
)

# Unicode's Default_Ignorable_Code_Point as DerivedCoreProperties.txt lists it (Unicode 17, the `regex`
# module's; a test checks the list against it): what a renderer shows as nothing when it has no glyph for the
# character (The Unicode Standard, chapter 5, "Default Ignorable Code Points"), the unassigned code points of
# these ranges included. Most of it is in Cf above; the rest has a category that `unicodedata` cannot tell
# from text that shows (Mn for U+034F and the variation selectors, Lo for the Hangul fillers).
_IGNORABLE_RANGES = (
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x061C, 0x061C),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)

# Two characters whose glyph is blank by design, though Unicode calls neither a space nor ignorable: U+2800
# BRAILLE PATTERN BLANK (no dot raised) and U+1D159 MUSICAL SYMBOL NULL NOTEHEAD. A name made of them, or with
# one inside, looks empty or spaced (`mal\u2800lory`).
_BLANK_RANGES = (
    (0x2800, 0x2800),
    (0x1D159, 0x1D159),
)

INVISIBLE = {
    code: _escape(code)
    for code in sorted(
        {
            *range(0x20),
            0x7F,
            *range(0x80, 0xA0),
            *(
                code
                for first, last in (*_FORMAT_RANGES, *_SPACE_RANGES, *_IGNORABLE_RANGES, *_BLANK_RANGES)
                for code in range(first, last + 1)
            ),
        }
    )
}
"""What `str.translate` needs to show every such character as its escape."""


def visible(text: str) -> str:
    """TEXT with every control (line breaks too: the text is one line, whatever it quotes), format,
    line-separator, ignorable and blank character shown as an escape (and the bytes of a name that is not
    UTF-8, `as_unicode`)."""
    shown = text if text.isascii() else as_unicode(text)
    return shown.translate(INVISIBLE)


def _json_escape(code: int) -> bytes:
    if code < 0x10000:
        return b"\\u%04x" % code
    high, low = divmod(code - 0x10000, 0x400)  # a UTF-16 surrogate pair, as JSON writes it (RFC 8259, 7)
    return b"\\u%04x\\u%04x" % (0xD800 + high, 0xDC00 + low)


def _utf8_sequences(first: int, last: int) -> list[list[tuple[int, int]]]:
    """The UTF-8 forms of the code points FIRST to LAST (no surrogate among them) as sequences of byte
    ranges, each byte within its range: the splitting of RE2's and Rust's regex `Utf8Sequences`, at each
    length's end, then wherever a range of trailing bytes would not be whole."""
    for top in (0x7F, 0x7FF, 0xFFFF):
        if first <= top < last:
            return _utf8_sequences(first, top) + _utf8_sequences(top + 1, last)
    for bits in (6, 12, 18):
        mask = (1 << bits) - 1
        if first & ~mask != last & ~mask:
            if first & mask:
                return _utf8_sequences(first, first | mask) + _utf8_sequences((first | mask) + 1, last)
            if last & mask != mask:
                return _utf8_sequences(first, (last & ~mask) - 1) + _utf8_sequences(last & ~mask, last)
    return [list(zip(chr(first).encode(), chr(last).encode(), strict=True))]


def _byte_range(first: int, last: int) -> bytes:
    one = re.escape(bytes([first]))
    return one if first == last else b"[" + one + b"-" + re.escape(bytes([last])) + b"]"


def _json_pattern() -> re.Pattern[bytes]:
    # The UTF-8 forms of the characters JSON leaves as they are (DEL, C1, format, separator, ignorable and
    # blank characters), one alternative per run of code points and leading byte. Each starts with its own
    # literal byte: `re` then skips in C to the bytes that can start a match (with a class first it would try
    # a match at every byte of the text).
    runs: list[list[int]] = []
    for code in INVISIBLE:  # in order
        if code < 0x7F:
            continue
        if runs and runs[-1][1] == code - 1:
            runs[-1][1] = code
        else:
            runs.append([code, code])
    parts = [
        re.escape(bytes([lead])) + b"".join(_byte_range(*r) for r in rest)
        for first, last in runs
        for (lead_first, lead_last), *rest in _utf8_sequences(first, last)
        for lead in range(lead_first, lead_last + 1)
    ]
    return re.compile(b"|".join(parts))


class _JsonEscapes(dict[bytes, bytes]):
    """The JSON escape of each character `_JSON_INVISIBLE` finds (its UTF-8 bytes), made the first time it is
    met: made all at once, the 4,000 tags and ignorables would cost every command's start."""

    def __missing__(self, encoded: bytes) -> bytes:
        escape = self[encoded] = _json_escape(ord(encoded.decode()))
        return escape


_JSON_INVISIBLE = _json_pattern()
_JSON_ESCAPES = _JsonEscapes()


def inert_json(data: bytes) -> bytes:
    """JSON text DATA (UTF-8) with each such character that JSON leaves as it is written as a `\\uXXXX`
    escape instead: the same JSON value, which a terminal shows without acting on it."""
    if data.isascii() and b"\x7f" not in data:  # DEL is ASCII
        return data
    return _JSON_INVISIBLE.sub(lambda match: _JSON_ESCAPES[match[0]], data)


def as_unicode(text: str) -> str:
    """TEXT as any file or JSON text can hold it: a local name that is not UTF-8 (Python keeps its bytes as
    lone surrogates) with those bytes written as backslash escapes (`\\xff`)."""
    try:
        text.encode("utf-8")  # the check that there is no surrogate
    except UnicodeEncodeError:
        try:
            return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        except UnicodeEncodeError:  # a surrogate that stands for no byte
            return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def as_unicode_everywhere(value: Any) -> Any:
    """VALUE (dicts, lists and tuples of JSON-like values) with every string, key or value, `as_unicode`."""
    if isinstance(value, str):
        return as_unicode(value)
    if isinstance(value, dict):
        return {as_unicode_everywhere(k): as_unicode_everywhere(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [as_unicode_everywhere(v) for v in value]
    return value


def json_bytes(value: Any, option: int) -> bytes:
    """VALUE as orjson writes it with OPTION (`default=str`); a string JSON cannot hold (a local file's name
    that is not UTF-8) is written `as_unicode`, its bytes escaped."""
    try:
        return json_text.dumps(value, option=option, default=str)
    except TypeError:
        return json_text.dumps(as_unicode_everywhere(value), option=option, default=str)
