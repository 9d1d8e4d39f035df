"""A small evaluator of CloudWatch Logs JSON filter patterns - the subset the CIS patterns use - for tests.

Grammar: `{ expr }` with `||`, `&&`, parentheses, and comparisons `$.path = value`, `$.path != value` (value
quoted or bare, `*` a wildcard) and `$.path NOT EXISTS`. Enough to see which real CloudTrail records a pattern
matches; not a full implementation of the CloudWatch syntax.
"""

from __future__ import annotations

import re
from fnmatch import fnmatchcase
from typing import Any

_TOKEN = re.compile(r'\s*(\|\||&&|\(|\)|!=|=|NOT EXISTS|\$\.[\w.]+|"[^"]*"|[^\s()=!&|"]+)')
_MISSING = object()


def _tokens(pattern: str) -> list[str]:
    body = pattern.strip()
    assert body.startswith("{") and body.endswith("}"), pattern
    body, tokens, pos = body[1:-1], [], 0
    while body[pos:].strip():
        match = _TOKEN.match(body, pos)
        assert match, f"cannot parse {body[pos:]!r}"
        tokens.append(match.group(1))
        pos = match.end()
    return tokens


def _lookup(record: Any, path: str) -> Any:
    for part in path[2:].split("."):
        if not isinstance(record, dict) or part not in record:
            return _MISSING
        record = record[part]
    return record


def matches(pattern: str, record: dict[str, Any]) -> bool:
    tokens = _tokens(pattern)
    pos = 0

    def peek() -> str | None:
        return tokens[pos] if pos < len(tokens) else None

    def take() -> str:
        nonlocal pos
        pos += 1
        return tokens[pos - 1]

    def either() -> bool:
        result = both()
        while peek() == "||":
            take()
            result = both() or result
        return result

    def both() -> bool:
        result = term()
        while peek() == "&&":
            take()
            result = term() and result
        return result

    def term() -> bool:
        if peek() == "(":
            take()
            result = either()
            assert take() == ")"
            return result
        value = _lookup(record, take())
        operator = take()
        if operator == "NOT EXISTS":
            return value is _MISSING
        expected = take().strip('"')
        equal = value is not _MISSING and fnmatchcase(
            str(value).lower() if isinstance(value, bool) else str(value), expected
        )
        return equal if operator == "=" else not equal

    result = either()
    assert pos == len(tokens), f"unparsed: {tokens[pos:]}"
    return result
