"""Text tests for Sigma values that cost time linear in the text, whatever the rule says.

A rule may be the user's and a field value the attacker's (`userAgent` is whatever the caller sent), so no
test may backtrack: Python's `re` takes exponential time on `^(a+)+$` against 35 characters and polynomial
time on a wildcard string such as `*a*a*a*a*b`. Every regular expression here is Google's RE2 (a finite
automaton: linear in the text, no backtracking). RE2 lacks backreferences and lookaround; a rule using them
cannot run, and says so, rather than being run by a backtracking engine.

A list of many literal values (`contains` with thousands of indicators) is tested in one pass of the text:
an Aho-Corasick automaton for substrings, a set per length for prefixes and suffixes, a set for exact values.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable

import ahocorasick  # type: ignore[import-not-found]
import re2  # type: ignore[import-untyped]
from sigma.policy import SigmaPolicy
from sigma.policy.regex_engine import RegexEngine, RegexPattern

TextTest = Callable[[str], bool]


class PatternRejected(Exception):
    """RE2 cannot compile the pattern (a construct it lacks, or too large); the message says which."""


def _options() -> re2.Options:
    options = re2.Options()
    options.log_errors = False  # RE2 would print its own parse errors on stderr; the caller reports them
    return options


_OPTIONS = _options()
_LACKS = "RE2, the linear-time engine hunt uses (no backreferences \\1, no lookaround (?=...) (?<=...))"


def compile_re2(pattern: str) -> re2._Regexp:
    """PATTERN compiled by RE2, or PatternRejected saying why it cannot be."""
    try:
        return re2.compile(pattern, _OPTIONS)
    except re2.error as exc:
        detail = exc.args[0].decode(errors="replace") if exc.args and isinstance(exc.args[0], bytes) else exc
        raise PatternRejected(f"regular expression {pattern!r} cannot run on {_LACKS}: {detail}") from None
    except UnicodeEncodeError:
        raise PatternRejected(f"regular expression {pattern!r} is not valid UTF-8 text") from None


class QuietRE2Engine(RegexEngine):
    """pySigma's check of `|re` values, with RE2 (as its own safe default) but without RE2's stderr log."""

    def compile(self, pattern: str, flags: int = 0) -> RegexPattern:
        prefix = "".join(letter for flag, letter in _PYTHON_FLAGS if flags & flag)
        compiled: RegexPattern = compile_re2(f"(?{prefix}){pattern}" if prefix else pattern)
        return compiled

    @property
    def error(self) -> type[Exception]:
        return PatternRejected


_PYTHON_FLAGS = ((2, "i"), (8, "m"), (16, "s"))  # re.IGNORECASE, re.MULTILINE, re.DOTALL
POLICY = SigmaPolicy(regex_engine=QuietRE2Engine())
"""The pySigma policy rules are parsed with: RE2 for regular expressions, no template vars, no external
sources (pySigma's safe profile)."""


def regex_search(pattern: str, flags: str) -> TextTest:
    """Sigma `|re`: a search anywhere in the text (anchors only where the rule writes them), case-sensitive
    unless the `i` flag; `m` and `s` as in Perl. FLAGS is a subset of "ims"."""
    compiled = compile_re2(f"(?{flags}){pattern}" if flags else pattern)
    search = compiled.search
    return lambda text: search(text) is not None


def wildcard_match(pattern: str, *, cased: bool) -> TextTest:
    """A Sigma string with `*`/`?` wildcards, PATTERN already in RE2 syntax: the whole text must match."""
    compiled = compile_re2(f"(?s){pattern}" if cased else f"(?si){pattern}")
    fullmatch = compiled.fullmatch
    return lambda text: fullmatch(text) is not None


def escape(literal: str) -> str:
    result: str = re2.escape(literal)
    return result


# --- many literal values at once ---

EXACT, CONTAINS, STARTSWITH, ENDSWITH = "exact", "contains", "startswith", "endswith"


def any_literal(kind: str, needles: Iterable[str]) -> TextTest:
    """A test that TEXT equals / contains / starts with / ends with one of NEEDLES (already in the case the
    caller compares in), in one pass of the text, whatever the number of needles."""
    wanted = set(needles)
    if kind == EXACT:
        return wanted.__contains__
    if kind == CONTAINS:
        if "" in wanted:  # the empty string is in every text
            return lambda text: True
        automaton = ahocorasick.Automaton()
        for needle in wanted:
            automaton.add_word(needle, None)
        automaton.make_automaton()
        iterate = automaton.iter
        return lambda text: next(iterate(text), None) is not None
    by_length: dict[int, set[str]] = defaultdict(set)
    for needle in wanted:
        by_length[len(needle)].add(needle)
    lengths = sorted(by_length.items())
    if kind == STARTSWITH:
        return lambda text: any(text[:n] in group for n, group in lengths if n <= len(text))
    if kind == ENDSWITH:
        return lambda text: any(text[len(text) - n :] in group for n, group in lengths if n <= len(text))
    raise ValueError(kind)
