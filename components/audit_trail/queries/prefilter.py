"""The byte prefilter: which log files provably hold no record a filter accepts, decided on the raw bytes.

A filter offers needles: byte strings one of which must occur in the JSON text of any record it accepts. The
scanner skips a file, without parsing it, only when `may_hold` says no needle of some filter occurs in it.

Why that is sound. A filter compares the *decoded* values of a record. A needle is taken from what the filter
compares and is chosen so that it can only lie inside one JSON string (`literal_needle`): it has no `"`, no
`\\` and no control character, and it contains a character that JSON cannot write outside a string (or it is
a run of digits and two or more dots, which no JSON number is). Inside a string, a decoded character is either
written as itself, in UTF-8, or as an escape: `\\"`, `\\\\` and the control escapes decode to characters no
needle holds, `\\/` decodes to `/` (undone before the search), and `\\uXXXX` can decode to anything (so
`may_hold` keeps any file where such an escape spells a character some needle holds). So when a record's
decoded value contains the needle, the file's bytes (with `\\/` undone) contain the needle's bytes.

Case: filters that match case-insensitively lower both sides the way DuckDB's and Trino's `lower()` do (simple
case mapping). Their needles are ASCII and lower-case, and `may_hold` compares them with the file's bytes
ASCII-lowered. Only two non-ASCII characters lower to ASCII letters, `İ` (U+0130 to `i`) and the Kelvin sign
(U+212A to `k`): a file holding either is always kept. Case-sensitive needles may be compared lowered too (a
byte string that occurs also occurs lowered), so every needle is compared lower-cased.

What a skipped file still gets: the scanner checks it is whole JSON, so its defects are reported.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

# Characters JSON text may hold outside strings: punctuation, whitespace, numbers, true/false/null.
_STRUCTURAL = frozenset("{}[],: \t\n\r0123456789+-.eEtruefalsn")
_NUMERIC = frozenset("0123456789.")
# UTF-8 of the only characters whose lower case is ASCII: İ (U+0130) and the Kelvin sign (U+212A).
_LOWER_TO_ASCII = (b"\xc4\xb0", b"\xe2\x84\xaa")
_ESCAPE = re.compile(rb"\\u([0-9A-Fa-f]{4})")
MIN_NEEDLE = 3
"""Shorter needles are in nearly every file: they cost a search and skip nothing."""


def fold(text: str) -> str:
    """Lower case as DuckDB's and Trino's `lower()` give it (Python's full case mapping turns İ into two
    characters; theirs, the simple mapping, into `i`)."""
    return text.replace("\u0130", "i").lower()


def _only_in_strings(body: str) -> bool:
    """BODY cannot occur in JSON text outside a string."""
    return any(c not in _STRUCTURAL for c in body) or (set(body) <= _NUMERIC and body.count(".") >= 2)


def literal_needle(text: str, *, folded: bool = False, in_string: bool = False) -> bytes | None:
    """TEXT as a needle, or None when its occurrence in a value would not show in the file's bytes.

    TEXT may start or end with a `"`, the delimiter of the string holding the rest. FOLDED: the filter
    matches case-insensitively (TEXT is already folded) and TEXT must be ASCII. IN_STRING: the caller knows
    TEXT can only match inside a JSON string (for instance a whole IP address), so the JSON-syntax test is
    not needed.
    """
    body = text.removeprefix('"').removesuffix('"')
    if len(body) < MIN_NEEDLE or any(c in '"\\' or ord(c) < 0x20 for c in body):
        return None
    if folded and not text.isascii():
        return None
    if not (in_string or _only_in_strings(body)):
        return None
    return text.encode().lower()


def fragment_needle(pattern: str, separators: str = "") -> bytes | None:
    """A needle for a case-insensitive glob PATTERN (already folded): one of its literal runs.

    The runs are split at `*` and `?`, at non-ASCII characters and at SEPARATORS: a value may be made of parts
    joined by a separator (the `actor` column is `role/session`), so only a run without it is sure to lie in
    one JSON string. The last run that makes a needle is taken (an ARN's last part is its most selective).
    """
    runs = re.split("[*?" + re.escape(separators) + r"]|[^\x00-\x7f]", pattern)
    for run in reversed(runs):
        needle = literal_needle(run, folded=True)
        if needle is not None:
            return needle
    return None


def any_needles(needles: Iterable[bytes | None]) -> tuple[bytes, ...]:
    """The needles of alternatives (a match satisfies one of them): none if one alternative has none."""
    out = tuple(needles)
    return () if any(n is None for n in out) else tuple(dict.fromkeys(n for n in out if n is not None))


@lru_cache(maxsize=64)
def _needle_chars(groups: tuple[tuple[bytes, ...], ...]) -> tuple[frozenset[str], bool]:
    chars = {chr(b) for group in groups for needle in group for b in needle.lower()}
    return frozenset(c for c in chars if c.isascii()), any(ord(c) >= 0x80 for c in chars)


def _escape_may_spell(data: bytes, groups: tuple[tuple[bytes, ...], ...]) -> bool:
    """A `\\uXXXX` escape in DATA may decode to a character of a needle (or one that lowers into one)."""
    ascii_chars, non_ascii = _needle_chars(groups)
    for match in _ESCAPE.finditer(data):
        char = chr(int(match[1], 16))
        if (char.isascii() and char.lower() in ascii_chars) or (not char.isascii() and non_ascii):
            return True
        if char in "\u0130\u212a" and fold(char) in ascii_chars:
            return True
    return False


def may_hold(data: bytes, groups: Sequence[Sequence[bytes]]) -> bool:
    """False only if DATA (a whole log file's JSON) provably holds no record every filter accepts: some group
    has no needle in it. Each group is one filter's needles, any one of which a matching record holds."""
    if not groups:
        return True
    frozen = tuple(tuple(group) for group in groups)
    if not data.isascii() and any(c in data for c in _LOWER_TO_ASCII):
        return True
    if b"\\u" in data and _escape_may_spell(data, frozen):
        return True
    text = data.lower()
    if b"\\/" in text:
        text = text.replace(b"\\/", b"/")
    return all(any(needle.lower() in text for needle in group) for group in frozen)
