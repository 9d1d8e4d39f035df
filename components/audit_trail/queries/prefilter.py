"""The byte prefilter: which log files provably hold no record a filter accepts, decided on the raw bytes.

A filter offers needles: byte strings one of which must occur in the JSON text of any record it accepts. The
scanner skips a file, without parsing it, only when `may_hold` says no needle of some filter occurs in it.

Why that is sound. A filter compares the *decoded* values of a record (a field holding a number or an object,
as attackers may write, is compared as its JSON text, which the file may spell otherwise: `1e2` for `100.0`).
A needle is a part every match must contain, chosen so that it can only lie inside one JSON string
(`literal_needle`): it has no `"`, no `\\` and no control character (a `"` may only delimit it), and it holds
a character JSON cannot write outside a string (or it is digits and two or more dots, which no JSON number
is). Inside a string, a decoded character is either written as itself, in UTF-8, or as an escape: `\\"`,
`\\\\` and the control escapes decode to characters no needle holds, `\\/` decodes to `/` (undone before the
search), and `\\uXXXX` can decode to anything (so `may_hold` keeps any file where such an escape spells a
character some needle holds). So when a record's decoded value contains the needle, the file's bytes (with
`\\/` undone) contain the needle's bytes.

Case: filters that match case-insensitively lower both sides the way DuckDB's and Trino's `lower()` do (simple
case mapping). Their needles (`Folded`) are ASCII and lower-case, and `may_hold` compares them with the file's
bytes ASCII-lowered. Only two non-ASCII characters lower to ASCII letters, `İ` (U+0130 to `i`) and the Kelvin
sign (U+212A to `k`): a file holding either is kept. Other needles are compared as they are, or lowered too
when the file had to be lowered anyway (a byte string that occurs also occurs lowered). Lowering a file costs
about what searching it does, so it is done only when a folded needle has a letter.

What a skipped file still gets: the scanner checks it is whole JSON, so its defects are reported.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

# Characters JSON text may hold outside strings: punctuation, whitespace, numbers, true/false/null.
_STRUCTURAL = frozenset("{}[],: \t\n\r0123456789+-.eEtruefalsn")
_NUMERIC = frozenset("0123456789.")
# UTF-8 of the only characters whose lower case is ASCII: İ (U+0130) and the Kelvin sign (U+212A).
_LOWER_TO_ASCII = (b"\xc4\xb0", b"\xe2\x84\xaa")
_ESCAPE = re.compile(rb"\\u([0-9A-Fa-f]{4})")
MIN_NEEDLE = 3
"""Shorter needles are in nearly every file: they cost a search and skip nothing."""


class Folded(bytes):
    """A needle of a case-insensitive filter (ASCII, lower-case): compared with the file lowered."""


def fold(text: str) -> str:
    """Lower case as DuckDB's and Trino's `lower()` give it, one character at a time: Python's full case
    mapping turns İ into two characters (theirs, the simple mapping, into `i`), and a capital sigma ending a
    word into the final small sigma (theirs, always into the small sigma)."""
    return text.replace("\u0130", "i").replace("\u03a3", "\u03c3").lower()


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
    return Folded(text.encode()) if folded else text.encode()


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


@dataclass(frozen=True)
class _Search:
    """What a set of needle groups asks of a file: computed once per scan plan."""

    chars: frozenset[str]  # the ASCII characters of the needles, lower-cased
    non_ascii: bool  # a needle holds a non-ASCII character
    lowered: bool  # a folded needle holds a letter: the file is searched lowered

    @staticmethod
    def of(groups: tuple[tuple[bytes, ...], ...]) -> _Search:
        # Folded and plain needles compare equal as bytes: the cache key tells them apart.
        return _Search._of(tuple(tuple((n, isinstance(n, Folded)) for n in group) for group in groups))

    @staticmethod
    @lru_cache(maxsize=64)
    def _of(groups: tuple[tuple[tuple[bytes, bool], ...], ...]) -> _Search:
        needles = [(n, folded) for group in groups for n, folded in group]
        chars = {chr(b) for n, _ in needles for b in n.lower()}
        lowered = any(folded and n.lower() != n.upper() for n, folded in needles)
        return _Search(
            frozenset(c for c in chars if c.isascii()), any(ord(c) >= 0x80 for c in chars), lowered
        )


def _escape_may_spell(data: bytes, search: _Search) -> bool:
    """A `\\uXXXX` escape in DATA may decode to a character of a needle (or one that lowers into one)."""
    for match in _ESCAPE.finditer(data):
        char = chr(int(match[1], 16))
        if (char.isascii() and char.lower() in search.chars) or (not char.isascii() and search.non_ascii):
            return True
        if char in "\u0130\u212a" and fold(char) in search.chars:
            return True
    return False


def may_hold(data: bytes, groups: Sequence[Sequence[bytes]]) -> bool:
    """False only if DATA (a whole log file's JSON) provably holds no record every filter accepts: some group
    has no needle in it. Each group is one filter's needles, any one of which a matching record holds."""
    return Needles(groups)(data) if groups else True


class Needles:
    """`may_hold` for fixed GROUPS, prepared once: the scanner asks it of every file and every record.

    A record's own JSON text (as orjson writes it again) is searched the same way as a file's: it spells each
    decoded string as itself but for `"`, `\\` and control characters, which no needle holds, so a record a
    filter accepts holds one of its needles."""

    def __init__(self, groups: Sequence[Sequence[bytes]]) -> None:
        self.groups = tuple(tuple(group) for group in groups)
        self._search = _Search.of(self.groups)
        self._lowered = tuple(tuple(n.lower() for n in group) for group in self.groups)

    def __call__(self, data: bytes) -> bool:
        frozen, search = self.groups, self._search
        if not frozen:
            return True
        if search.lowered and not data.isascii() and any(c in data for c in _LOWER_TO_ASCII):
            return True
        escapes = b"\\" in data  # one fast byte search spares CloudTrail's own files the two below
        if escapes and b"\\u" in data and _escape_may_spell(data, search):
            return True
        text = data.lower() if search.lowered else data
        if escapes and b"\\/" in text:
            text = text.replace(b"\\/", b"/")
        # Loops rather than all(any(...)): this runs for every record, and the generators cost more than
        # the searches.
        for group in self._lowered if search.lowered else frozen:
            for needle in group:
                if needle in text:
                    break
            else:
                return False
        return True
