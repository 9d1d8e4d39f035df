"""Log values as a person may read them: the logs are attacker-written, so a value shows every control or
bidirectional-override character as an escape (`\\x1b`, `\\u202e`) and a very long value is cut, saying how
much was left out. HTML escaping is the template engine's; this makes the text itself harmless to
read."""

from __future__ import annotations

from typing import Any

import orjson

CELL_CHARS = 300
"""What one table cell shows of a value: a request can hold 100 KB of JSON; the JSON format has it all."""
_INVISIBLE = {
    **{c: f"\\x{c:02x}" for c in (*range(0x20), 0x7F, *range(0x80, 0xA0))},
    **{c: f"\\u{c:04x}" for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C)},
}


def text(value: Any) -> str:
    """VALUE as one line of plain text (nested values as compact JSON), every invisible character shown."""
    if value is None:
        shown = ""
    elif isinstance(value, str):
        shown = value
    elif isinstance(value, bool):
        shown = "true" if value else "false"
    elif isinstance(value, (list, tuple, dict)):
        shown = orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS, default=str).decode()
    else:
        shown = str(value)
    return shown.translate(_INVISIBLE)


def cell(value: Any, limit: int = CELL_CHARS) -> str:
    """`text`, cut to LIMIT characters."""
    shown = text(value)
    if len(shown) <= limit:
        return shown
    return f"{shown[:limit]}... ({len(shown) - limit} more characters)"
