"""The page is one self-contained, printable, inert HTML file: every value from the logs stays text, nothing
is fetched, no script runs; JSON carries the same content in its documented shape; Markdown is inert too."""

from __future__ import annotations

import json
import os
import re
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import pytest
from audit_trail.errors import UserError
from audit_trail.report import charts
from audit_trail.report.evidence import FORMAT_VERSION, Charts, Evidence
from audit_trail.report.render import Format, check_output, render, write_atomically
from support.planted_trail import HOSTILE_AGENT, HOSTILE_USER

HOSTILE = (HOSTILE_AGENT, HOSTILE_USER)
FETCHING = frozenset({"src", "href", "xlink:href", "action", "formaction", "poster", "data", "srcset"})
"""Attributes that name a resource; only `#anchor` values, on the page itself, are allowed."""
CSS_FETCH = re.compile(r"""url\(\s*["']?(?!#)|@import""")
"""CSS that fetches: `url()` naming anything but an element of the page (matplotlib clips with `url(#id)`)."""


class Elements(HTMLParser):
    """The elements, attributes, text and CSS of a page, as a browser's parser reads them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str]] = []
        self.text: list[str] = []
        self.css: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend((name, value or "") for name, value in attrs)
        self.css.extend(value or "" for name, value in attrs if name == "style")
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        (self.css if self._in_style else self.text).append(data)

    def fetches(self) -> list[str]:
        named = [f"{n}={v}" for n, v in self.attrs if n in FETCHING and not v.startswith("#")]
        return named + [m for css in self.css for m in CSS_FETCH.findall(css)]


@pytest.fixture(scope="module")
def page(evidence: Evidence) -> str:
    return render(evidence, Format.html).decode()


def parsed(page: str) -> Elements:
    elements = Elements()
    elements.feed(page)
    return elements


def test_hostile_values_are_text_not_markup(page: str) -> None:
    elements = parsed(page)
    assert "script" not in elements.tags and "img" not in elements.tags
    assert elements.fetches() == []
    assert not [name for name, _ in elements.attrs if name.startswith("on")]
    text = "".join(elements.text)
    for value in HOSTILE:
        assert value in text  # shown, as text
        assert value not in page  # never as markup


def test_the_page_fetches_nothing_and_forbids_itself_to(page: str) -> None:
    assert parsed(page).fetches() == []
    assert {"link", "iframe", "object", "embed", "style"} & set(parsed(page).tags) == {"style"}
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)
    assert policy is not None and "default-src 'none'" in policy.group(1)
    assert "script-src" not in policy.group(1)  # so default-src 'none' forbids every script


def test_the_page_prints_with_a_page_per_section(page: str) -> None:
    assert "@media print" in page and "break-before: page" in page and "@page" in page
    sections = re.findall(r'<section class="page" id="([^"]+)"', page)
    assert sections[:5] == ["continuity", "integrity", "configuration", "activity", "charts"]


def test_each_section_links_to_its_full_list(page: str, evidence: Evidence) -> None:
    ids = set(re.findall(r'\bid="([^"]+)"', page))
    links = set(re.findall(r'href="#([^"]+)"', page))
    assert links <= ids
    assert {"summary", "gaps", "trail-events", "integrity-problems", "root-usage"} <= ids
    assert len(re.findall(r"<svg\b", page)) == 3  # timeline, records per day, top actors
    assert len(page) < 400_000


def test_a_hostile_actor_in_a_chart_is_escaped_text() -> None:
    hostile = [("<script>alert(1)</script>", 5), ("$\\frac{1}{0}$ & \x1b[31m", 3), ("\u202eevil", 1)]
    svg = charts.top_actors(Charts({"2026-03-02": {"us-east-1": 9}}, hostile, 9))
    elements = parsed(svg)
    assert "script" not in elements.tags
    text = "".join(elements.text)
    assert "<script>alert(1)</script>" in text
    assert "$\\frac{1}{0}$ & \\x1b[31m" in text  # math text not parsed, control characters shown
    assert "\\u202eevil" in text and "\u202e" not in svg
    assert elements.fetches() == []


def test_json_has_the_documented_shape(evidence: Evidence) -> None:
    data = json.loads(render(evidence, Format.json))
    assert data["format_version"] == FORMAT_VERSION
    assert list(data) == [
        "format_version", "produced", "period", "sources", "profile", "summary", "continuity", "integrity",
        "configuration", "activity", "charts",
    ]  # fmt: skip
    assert [s["section"] for s in data["summary"]] == [s.anchor for s in evidence.sections()]
    region = data["continuity"]["regions"][0]
    assert set(region) == {"account", "region", "status", "hours", "timeline", "gaps"}
    assert {"start", "end", "hours", "coverage", "digests", "trail_events"} <= set(region["gaps"][0])
    assert data["integrity"]["findings"] == [f.row() for f in evidence.verify.findings]
    tables = {t["id"]: t for t in data["activity"]["tables"]}
    assert tables["failed-sign-ins"]["total"] == 3
    assert HOSTILE_AGENT in {r["user_agent"] for r in tables["failed-sign-ins"]["rows"]}  # exact, as data
    assert data["configuration"] == {"status": "NOT CHECKED", "reason": evidence.configuration_skipped}


def test_json_is_inert_and_exact(evidence: Evidence) -> None:
    """A value that would reorder or restyle a terminal (`cat report.json`) is written as a JSON escape."""
    hostile = "logs/invoice\u202efdp\x9b31m\u034f\U000e0100"
    text = render(replace(evidence, sources=[hostile]), Format.json).decode()
    assert json.loads(text)["sources"] == [hostile]
    assert not set(text) & {"\u202e", "\x9b", "\u034f", "\U000e0100"}
    assert "invoice\\u202efdp\\u009b31m\\u034f\\udb40\\udd00" in text


def test_markdown_is_inert(evidence: Evidence) -> None:
    text = render(evidence, Format.md).decode()
    for value in HOSTILE:
        assert value not in text
    assert "&lt;script&gt;alert\\(1\\)&lt;/script&gt;" in text
    assert text.startswith("# Audit evidence")


def test_an_output_that_cannot_be_a_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="a folder"):
        check_output(tmp_path)
    with pytest.raises(UserError, match="does not exist"):
        check_output(tmp_path / "missing" / "report.html")
    check_output(tmp_path / "report.html")
    # what writing the report would replace with a file of its own
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "to-null").symlink_to(os.devnull)
    (tmp_path / "kept.html").write_text("old")
    (tmp_path / "to-file").symlink_to(tmp_path / "kept.html")
    for name in ("fifo", "to-null", "to-file"):
        with pytest.raises(UserError, match="not a plain file"):
            check_output(tmp_path / name)
    check_output(tmp_path / "kept.html")  # an earlier report is replaced whole


def test_writing_replaces_the_file_whole_and_leaves_nothing_behind(tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    target.write_text("old")
    write_atomically(target, b"new")
    assert target.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]
