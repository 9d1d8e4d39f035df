"""An `Evidence` as a file: one self-contained HTML page (Jinja2, autoescaped; charts as inline SVG; a
Content-Security-Policy that lets the page load nothing and run nothing), JSON (`Evidence.to_dict`), or
Markdown for a ticket. Written atomically: a temporary file beside the target, renamed over it.
"""

from __future__ import annotations

import os
import re
import tempfile
from enum import StrEnum
from pathlib import Path
from typing import Any

import orjson

from ..errors import UserError
from ..integrity.continuity import Coverage
from ..visible_text import as_unicode, inert_json, json_bytes
from . import cells, charts
from .evidence import Evidence


class Format(StrEnum):
    html = "html"
    json = "json"
    md = "md"


def check_output(path: Path, flag: str = "--output") -> None:
    """Refuse, before any work, an output that cannot be written as a file: a folder, or in a missing one; or
    anything there but a plain file (a device, a FIFO, a symlink), which writing the report would replace."""
    if path.is_dir():
        raise UserError(
            f"{flag} {path}: a folder; give the file to write, e.g. {path / 'audit-report.html'}."
        )
    if path.is_symlink() or (path.exists() and not path.is_file()):
        raise UserError(
            f"{flag} {path}: not a plain file (a symlink, a device or a FIFO), which the report would "
            "replace; give the path of a file to write."
        )
    parent = path.parent
    if not parent.is_dir():
        raise UserError(
            f"{flag} {path}: the folder {parent} does not exist; create it or choose another path."
        )
    if not os.access(parent, os.W_OK):
        raise UserError(f"{flag} {path}: the folder {parent} is not writable; choose another path.")


def write_atomically(path: Path, data: bytes) -> None:
    """DATA at PATH, all or nothing: readers see the old file or the whole new one, never a part."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def to_json(evidence: Evidence) -> bytes:
    """The evidence as JSON, inert as every JSON the tools write (`cat` on a terminal shows it as it is)."""
    return inert_json(json_bytes(evidence.to_dict(), orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS))


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~>-])")


def _md(value: Any, limit: int = cells.CELL_CHARS) -> str:
    """A value as inert Markdown for a table cell: HTML characters as entities, Markdown's own escaped."""
    shown = cells.cell(value, limit).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKDOWN_SPECIAL.sub(r"\\\1", shown)


def _environment(autoescape: bool) -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("audit_trail.report", "templates"),
        autoescape=autoescape,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["cell"] = cells.cell
    env.filters["md"] = _md
    env.filters["status_class"] = lambda status: "s-" + str(status).lower().replace(" ", "-")
    return env


def _context(evidence: Evidence) -> dict[str, Any]:
    return {
        "e": evidence,
        "sections": evidence.sections(),
        "coverages": list(Coverage),
        "verify": evidence.verify,
        "findings": [f.row() for f in evidence.verify.findings],
    }


def to_html(evidence: Evidence) -> bytes:
    from markupsafe import Markup

    # The SVG is matplotlib's, every label in it escaped by its XML writer: trusted markup, unlike any value.
    svgs = {
        "timeline": Markup(
            charts.timeline(evidence.continuity, evidence.trail_events, evidence.since, evidence.until)
        ),
        "per_day": Markup(charts.events_per_day(evidence.charts)),
        "actors": Markup(charts.top_actors(evidence.charts)),
    }
    page = _environment(True).get_template("report.html.j2").render(**_context(evidence), svg=svgs)
    return as_unicode(page).encode()  # a file name that is not UTF-8: its bytes escaped


def to_markdown(evidence: Evidence) -> bytes:
    return as_unicode(_environment(False).get_template("report.md.j2").render(**_context(evidence))).encode()


def render(evidence: Evidence, fmt: Format) -> bytes:
    if fmt is Format.json:
        return to_json(evidence)
    if fmt is Format.md:
        return to_markdown(evidence)
    return to_html(evidence)
