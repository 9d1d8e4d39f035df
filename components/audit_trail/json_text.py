"""JSON text of parsed records, however deep they nest.

orjson reads up to 1,024 levels of nesting but writes at most 255: a record an intruder nested 300 levels
deep (a root `StopLogging` with a deep `requestParameters`) was read, then dropped from every answer as
"nested too deeply" when its row was written. Past orjson's limit the standard library writes the text,
in orjson's form (compact, or indented by two; non-ASCII as itself), so the record is answered like any
other.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

import orjson

_LEVELS_READ = 1024  # orjson.loads refuses deeper text: no parsed value nests deeper
_FRAMES_PER_LEVEL = 2  # the standard library's encoder recurses once for a container, once for its item


def dumps(value: Any, option: int = 0, default: Callable[[Any], Any] | None = None) -> bytes:
    """VALUE as `orjson.dumps(value, option=OPTION, default=DEFAULT)` writes it (OPT_INDENT_2 and
    OPT_NON_STR_KEYS are honoured), at any depth orjson can read."""
    try:
        return orjson.dumps(value, option=option, default=default)
    except orjson.JSONEncodeError as exc:
        if str(exc) != "Recursion limit reached":
            raise
    indented = bool(option & orjson.OPT_INDENT_2)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, _LEVELS_READ * _FRAMES_PER_LEVEL + 200))
    try:
        text = json.dumps(
            value,
            ensure_ascii=False,
            indent=2 if indented else None,
            separators=(",", ": ") if indented else (",", ":"),
            default=default,
        )
    except RecursionError:
        raise orjson.JSONEncodeError("Recursion limit reached") from None
    finally:
        sys.setrecursionlimit(limit)
    return text.encode()
