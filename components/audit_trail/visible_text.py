"""Text from the logs as a person may read it, on a terminal, in a CSV cell or on a page.

The logs are attacker-written, so every character that acts instead of showing, or shows nothing, is written
as an escape (`\\x1b`, `\\u202e`): the C0 and C1 controls and DEL (they move the cursor, restyle or retitle a
terminal), Unicode's format characters and line separators (categories Cf, Zl, Zp), and every space but
the plain one (Zs): a bidirectional override reorders what follows it on the screen (the "Trojan Source"
attack, CVE-2021-42574), a zero-width space makes `mal\\u200blory` look like `mallory`, and a no-break, em
or ogham space (`mal\\u1680lory`) passes for a plain space or a dash.
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

INVISIBLE = {
    code: _escape(code)
    for code in (
        *range(0x20),
        0x7F,
        *range(0x80, 0xA0),
        *(code for first, last in (*_FORMAT_RANGES, *_SPACE_RANGES) for code in range(first, last + 1)),
    )
}
"""What `str.translate` needs to show every such character as its escape."""
_INVISIBLE_BUT_NEWLINE = {code: shown for code, shown in INVISIBLE.items() if code != 0x0A}


def visible(text: str, *, keep_newlines: bool = False) -> str:
    """TEXT with every control, format and line-separator character shown as an escape (and the bytes of a
    name that is not UTF-8, `as_unicode`)."""
    shown = text if text.isascii() else as_unicode(text)
    return shown.translate(_INVISIBLE_BUT_NEWLINE if keep_newlines else INVISIBLE)


def _json_escape(code: int) -> bytes:
    if code < 0x10000:
        return b"\\u%04x" % code
    high, low = divmod(code - 0x10000, 0x400)
    return b"\\u%04x\\u%04x" % (0xD800 + high, 0xDC00 + low)


def _json_pattern() -> re.Pattern[bytes]:
    # The UTF-8 forms of the characters JSON leaves as they are (DEL, C1, format and separator characters),
    # one alternative per leading bytes with the last byte as a class: a search in one pass of C.
    by_lead: dict[bytes, list[int]] = {}
    for code in INVISIBLE:
        if code >= 0x7F:
            encoded = chr(code).encode()
            by_lead.setdefault(encoded[:-1], []).append(encoded[-1])
    parts = [
        re.escape(lead) + b"[" + b"".join(re.escape(bytes([b])) for b in last) + b"]"
        for lead, last in by_lead.items()
    ]
    return re.compile(b"|".join(parts))


_JSON_INVISIBLE = _json_pattern()
_JSON_ESCAPES = {chr(code).encode(): _json_escape(code) for code in INVISIBLE if code >= 0x7F}


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
