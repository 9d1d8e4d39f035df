"""A real browser opens the report: Debian's Chromium, headless, with its background networking off and a
fresh profile. It renders (a screenshot of the expected size that is not blank), it prints (a PDF with a page
per section), it asks for nothing over the network (its own network log names no URL but the file), and the
hostile values are text in the page it built (its DOM holds no element the logs wrote). One run of the browser
makes all four.

`AUDIT_TRAIL_REPORT_SCREENSHOT=docs/report.png` copies the screenshot there (the README's picture)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest
from audit_trail.report.evidence import Evidence
from audit_trail.report.render import Format, render
from support.planted_trail import HOSTILE_AGENT, HOSTILE_USER

WIDTH, HEIGHT = 1280, 1800
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-default-apps",
    "--hide-scrollbars",
    # Chromium's own update, time and account requests stay on the machine: every host name resolves to
    # nothing. (The page's requests are still logged, and checked below.)
    "--host-resolver-rules=MAP * ~NOTFOUND",
)
CONTROL = '<html><body><img src="https://example.invalid/pixel.png">control</body></html>'
"""A page that asks for an image over the network: the check must see it, or it sees nothing."""


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed: .ci/run installs it (apt-get install chromium)")
        pytest.skip("chromium is not installed here (apt-get install chromium); CI runs this test")
    return found


def browse(page: Path, profile: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    command = [chromium(), *FLAGS, f"--user-data-dir={profile}", *args, page.as_uri()]
    done = subprocess.run(command, capture_output=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    return done


def page_requests(net_log: Path) -> set[str]:
    """The URLs the page itself asked for, from Chromium's network log: requests made for a `file://` page
    (the browser's own requests belong to no page)."""
    log = json.loads(net_log.read_text())
    start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    return {
        e["params"]["url"]
        for e in log["events"]
        if e["type"] == start and str(e["params"].get("network_isolation_key", "")).startswith("file://")
    }


class Dom(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


@pytest.fixture(scope="module")
def page(evidence: Evidence, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("browser") / "report.html"
    path.write_bytes(render(evidence, Format.html))
    return path


@dataclass(frozen=True)
class Browsed:
    """What one Chromium run made of the page."""

    screenshot: Path
    net_log: Path
    dom: str
    pdf: Path


@pytest.fixture(scope="module")
def browsed(page: Path, tmp_path_factory: pytest.TempPathFactory) -> Browsed:
    """The page opened once (Chromium takes seconds to start): a screenshot, its DOM, a PDF, a network log."""
    folder = tmp_path_factory.mktemp("browsed")
    shot, net_log, pdf = folder / "report.png", folder / "net.json", folder / "report.pdf"
    done = browse(
        page,
        folder / "profile",
        f"--window-size={WIDTH},{HEIGHT}",
        f"--screenshot={shot}",
        f"--log-net-log={net_log}",
        "--dump-dom",
        f"--print-to-pdf={pdf}",
        "--no-pdf-header-footer",
    )
    return Browsed(shot, net_log, done.stdout.decode(), pdf)


def test_the_page_renders_and_asks_for_nothing_over_the_network(browsed: Browsed, tmp_path: Path) -> None:
    from PIL import Image

    with Image.open(browsed.screenshot) as image:
        assert image.size == (WIDTH, HEIGHT)
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20) or []
    assert len(colours) > 50  # text, tables, badges and charts, not a blank page
    white = max(count for count, rgb in colours if rgb == (255, 255, 255))
    assert white < 0.95 * WIDTH * HEIGHT
    assert {u for u in page_requests(browsed.net_log) if not u.startswith(("file:", "data:"))} == set()
    control, net_log = tmp_path / "control.html", tmp_path / "net.json"
    control.write_text(CONTROL)
    browse(
        control,
        tmp_path / "profile-control",
        f"--screenshot={tmp_path / 'c.png'}",
        f"--log-net-log={net_log}",
    )
    assert page_requests(net_log) == {"https://example.invalid/pixel.png"}
    if target := os.environ.get("AUDIT_TRAIL_REPORT_SCREENSHOT"):
        shutil.copyfile(browsed.screenshot, target)


def test_hostile_values_stay_text_in_the_browser_s_own_dom(browsed: Browsed) -> None:
    dom = Dom()
    dom.feed(browsed.dom)
    assert "script" not in dom.tags and "img" not in dom.tags
    text = "".join(dom.text)
    assert HOSTILE_AGENT in text and HOSTILE_USER in text


def test_the_page_prints_a_page_per_section(browsed: Browsed) -> None:
    data = browsed.pdf.read_bytes()
    assert data.startswith(b"%PDF")
    pages = len(re.findall(rb"/Type\s*/Page(?!s)", data))
    assert pages >= 7  # the summary, five sections on pages of their own, and the full lists
