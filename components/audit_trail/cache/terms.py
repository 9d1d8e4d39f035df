"""What the index remembers of a log file: its terms, enough to prove later that the file holds no needle.

A question's filters offer needles (`queries.prefilter`): byte strings one of which any matching record's
JSON contains, once the writer's escapes are undone. The prefilter searches a file's bytes for them; the
index answers the same question from the file's *terms*, without reading the file again.

The terms of a file are the maximal runs of ASCII letters and digits in its text, lower-cased, after the
JSON escapes are decoded, plus its dotted numbers (`203.0.113.7`, `2.15.0`). A needle in the text has the
same runs (each lying inside one term of the file) and the same dotted numbers (each inside one of the
file's), so `probes(needle)` lists parts that every file holding the needle has inside one of its terms.
Lower-casing both sides makes this hold for case-insensitive needles too; `İ` and the Kelvin sign, the two
characters whose lower case is ASCII, are lowered first, as `queries.prefilter.fold` does.

The index leaves out every term made only of hexadecimal digits: the pieces of request and event ids
(`8365b44c`, `cf88`), account ids, numbers. They are nine in ten of a file's distinct terms and useless for
finding who did what. A probe lies inside such a term only if it is made of hexadecimal digits itself, so
such probes are never used: a needle made only of them (an event id) is answered by reading the files.
Dotted numbers hold a dot, so they are kept.
"""

from __future__ import annotations

import re

FORMAT = "terms-8"
"""Changes whenever what a term is, which files have terms, or how the index stores them changes: an index
written under another format is discarded."""

EMBEDDED_RECORDS = b"cloudtrailevent"
"""The term of the key under which `aws cloudtrail lookup-events` output holds each record as JSON inside a
string. The scanner decodes that string once more, so an escape in it (`\\u004d` in the file) reaches the
filters as a character the terms never saw (`M`): a file with this term is not answered for, only read."""

# ASCII letters lower-cased, digits and dots kept, every other byte a separator.
_KEEP = b"abcdefghijklmnopqrstuvwxyz0123456789."
_TABLE = bytes(c + 32 if 0x41 <= c <= 0x5A else (c if bytes([c]) in _KEEP else 0x20) for c in range(256))
_ESCAPE = re.compile(rb"\\(?:u([0-9a-fA-F]{4})|.)", re.DOTALL)
_LOWER_TO_ASCII = ((b"\xc4\xb0", b"i"), (b"\xe2\x84\xaa", b"k"))  # İ (U+0130), Kelvin sign (U+212A)
_DOTTED = re.compile(rb"[0-9]+(?:\.[0-9]+){2,}")
_RUN = re.compile(rb"[a-z0-9]+")
_HEX = b"0123456789abcdef"
MIN_PROBE = 3
"""Shorter runs are in nearly every file: checking them skips nothing."""


def _decode_escape(match: re.Match[bytes]) -> bytes:
    code = match[1]
    if code is None:  # \" \\ \/ \n ...: each decodes to a separator
        return b" "
    return chr(int(code, 16)).encode("utf-8", "surrogatepass")


def _text(data: bytes) -> bytes:
    """DATA's JSON strings as they decode (escapes undone), with İ and the Kelvin sign lowered to ASCII."""
    if b"\\" in data:
        data = _ESCAPE.sub(_decode_escape, data)
    if not data.isascii():
        for char, lower in _LOWER_TO_ASCII:
            data = data.replace(char, lower)
    return data


def file_terms(data: bytes) -> set[bytes]:
    """The terms of a log file's text (see the module's docstring)."""
    # Splitting at quotes first and keeping each distinct string once spares re-reading the keys and values
    # every record repeats; quotes are separators anyway, so the terms are the same.
    text = b" ".join(set(_text(data).split(b'"'))).translate(_TABLE)
    terms = set(_DOTTED.findall(text))
    for chunk in set(text.split()):
        for run in chunk.split(b".") if b"." in chunk else (chunk,):
            if run.strip(_HEX):  # not only hexadecimal digits (strip leaves nothing of such a run)
                terms.add(run)
    return terms


def probes(needle: bytes) -> tuple[bytes, ...]:
    """Parts of NEEDLE every file holding it has inside one of its terms; empty if none can be checked."""
    text = _text(needle).translate(_TABLE)
    found = _DOTTED.findall(text)
    for run in _RUN.findall(text):
        # A run of hexadecimal digits might lie inside a term of them, which the index leaves out.
        if len(run) >= MIN_PROBE and run.strip(_HEX):
            found.append(run)
    return tuple(dict.fromkeys(found))
