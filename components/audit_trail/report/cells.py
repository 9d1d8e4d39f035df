"""Log values as a person may read them: the logs are attacker-written, so a value shows every control or
invisible character as an escape (`\\x1b`, `\\u202e`: `visible_text`) and a very long value is cut, saying how
much was left out. HTML escaping is the template engine's; this makes the text itself harmless to
read."""

from __future__ import annotations

from typing import Any

import orjson

from .. import json_text
from ..visible_text import visible

CELL_CHARS = 300
"""What one table cell shows of a value: a request can hold 100 KB of JSON; the JSON format has it all."""


def text(value: Any) -> str:
    """VALUE as one line of plain text (nested values as compact JSON), every invisible character shown."""
    if value is None:
        shown = ""
    elif isinstance(value, str):
        shown = value
    elif isinstance(value, bool):
        shown = "true" if value else "false"
    elif isinstance(value, (list, tuple, dict)):
        shown = json_text.dumps(value, option=orjson.OPT_NON_STR_KEYS, default=str).decode()
    else:
        shown = str(value)
    return visible(shown)


def cell(value: Any, limit: int = CELL_CHARS) -> str:
    """`text`, cut to LIMIT characters."""
    shown = text(value)
    if len(shown) <= limit:
        return shown
    return f"{shown[:limit]}... ({len(shown) - limit} more characters)"
