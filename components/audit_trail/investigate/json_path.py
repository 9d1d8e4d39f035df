"""One value at a path inside a parsed JSON record (`responseElements.credentials.accessKeyId`,
`instancesSet.items[0].instanceId`), whatever the types on the way: a missing key, a list where an object was
expected or an index past the end gives None, never an exception (records are attacker-written).

Sigma's field semantics (every value of a path, lists flattened) differ and live in `hunt.evaluate`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from typing import Any

Steps = tuple[tuple[str, int | None], ...]

_STEP = re.compile(r"([A-Za-z0-9_]+)(?:\[(\d+)\])?")


@cache
def parse_path(path: str) -> Steps:
    """`a.b[0].c` -> (("a", None), ("b", 0), ("c", None)); ValueError for anything else."""
    out = []
    for part in path.split("."):
        m = _STEP.fullmatch(part)
        if m is None:
            raise ValueError(f"not a JSON path: {path!r}")
        out.append((m.group(1), None if m.group(2) is None else int(m.group(2))))
    return tuple(out)


def at_path(value: Any, steps: Steps) -> Any:
    """The value STEPS lead to from VALUE, or None."""
    for key, index in steps:
        # `type is dict` first: parsed records are plain dicts, and the ABC check is slow on every miss
        if type(value) is not dict and not isinstance(value, Mapping):
            return None
        value = value.get(key)
        if index is not None:
            if not isinstance(value, list) or len(value) <= index:
                return None
            value = value[index]
    return value


def get(value: Any, path: str) -> Any:
    """The value at PATH (dotted, with `[n]` indexes) inside VALUE, or None."""
    return at_path(value, parse_path(path))
