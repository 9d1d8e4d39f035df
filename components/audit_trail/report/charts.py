"""The report's charts, drawn by matplotlib's own SVG backend: static SVG, no JavaScript, no font or image
fetched, text kept as text (small, selectable, escaped by matplotlib's XML writer), ids salted per chart so
several charts live in one page. Log values (actor names) are labels: shown through `cells` and with
matplotlib's math-text parsing off, so a `$...$` in a user name is text, not a formula to parse.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from ..integrity.continuity import Coverage
from . import cells
from .evidence import Charts, RegionContinuity, Table

COLOURS = {
    Coverage.COVERED: "#2e7d32",
    Coverage.MISSING: "#c62828",
    Coverage.INVALID: "#6a1b9a",
    Coverage.RESTART: "#ef6c00",
    Coverage.PENDING: "#9e9e9e",
}
REGION_COLOURS = ("#1565c0", "#2e7d32", "#ef6c00", "#6a1b9a", "#00838f", "#ad1457", "#5d4037", "#546e7a")
LABEL_CHARS = 48
_NO_METADATA = {"Creator": None, "Date": None, "Format": None, "Type": None}


@contextmanager
def _style(salt: str) -> Iterator[None]:
    import matplotlib as mpl

    with mpl.rc_context(
        {
            "svg.fonttype": "none",
            "svg.hashsalt": salt,
            "text.parse_math": False,
            "font.size": 9,
            "axes.spines.top": False,
            "axes.spines.right": False,
        }
    ):
        yield


def _svg(figure: Any) -> str:
    """The figure as an inline `<svg>` element (no XML prolog or DOCTYPE: HTML needs neither)."""
    out = io.StringIO()
    figure.savefig(out, format="svg", metadata=_NO_METADATA, bbox_inches="tight")
    text = out.getvalue()
    return text[text.index("<svg") :]


def _figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def events_per_day(charts: Charts) -> str:
    """Stacked bars: each UTC day's records, by region."""
    with _style("per-day"):
        fig = _figure(10, 3.2)
        ax = fig.subplots()
        days = list(charts.per_day)
        regions = sorted({r for counts in charts.per_day.values() for r in counts})
        bottom = [0] * len(days)
        for n, region in enumerate(regions):
            values = [charts.per_day[d].get(region, 0) for d in days]
            colour = REGION_COLOURS[n % len(REGION_COLOURS)]
            ax.bar(days, values, bottom=bottom, label=cells.cell(region, LABEL_CHARS), color=colour)
            bottom = [b + v for b, v in zip(bottom, values, strict=True)]
        ax.set_ylabel("records")
        ax.set_title("Records per UTC day, by region")
        ax.tick_params(axis="x", labelrotation=60)
        if regions:
            ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
        return _svg(fig)


def top_actors(charts: Charts) -> str:
    """Horizontal bars: the identities with the most records, most at the top."""
    with _style("actors"):
        shown = list(reversed(charts.top_actors))
        fig = _figure(10, 0.35 * max(len(shown), 1) + 1)
        ax = fig.subplots()
        labels = [
            f"{n + 1}. {cells.cell(actor, LABEL_CHARS)}" for n, (actor, _) in enumerate(reversed(shown))
        ]
        ax.barh(list(reversed(labels)), [count for _, count in shown], color=REGION_COLOURS[0])
        ax.set_xlabel("records")
        ax.set_title("Top actors")
        return _svg(fig)


def timeline(regions: list[RegionContinuity], events: Table, since: datetime, until: datetime) -> str:
    """One bar per account and region across the period, coloured by what covers each hour; the trail's
    own events as marked lines across all bars."""
    import matplotlib.dates as mdates

    with _style("timeline"):
        fig = _figure(10, 0.45 * max(len(regions), 1) + 1.6)
        ax = fig.subplots()
        labels = []
        for y, region in enumerate(regions):
            labels.append(f"{region.account} {cells.cell(region.region, LABEL_CHARS)}")
            for coverage in Coverage:
                spans = [
                    (mdates.date2num(r.start), mdates.date2num(r.end) - mdates.date2num(r.start))
                    for r in region.runs
                    if r.coverage is coverage
                ]
                if spans:
                    ax.broken_barh(spans, (y - 0.35, 0.7), color=COLOURS[coverage])
        for n, event in enumerate(events.rows[:40]):  # the first 40: a busy month stays readable
            x = mdates.date2num(datetime.fromisoformat(event["event_time"]))
            ax.axvline(x, color="#212121", linewidth=0.8, linestyle="--")
            name = cells.cell(str(event["action"]).split(":")[-1], LABEL_CHARS)
            failed = " (failed)" if event.get("error_code") else ""
            ax.annotate(
                f"{name}{failed}",
                (x, len(regions) - 0.4 + 0.35 * (n % 3)),
                rotation=0,
                fontsize=7,
                annotation_clip=False,
            )
        ax.set_yticks(range(len(regions)), labels)
        ax.set_ylim(-0.6, len(regions) + 0.6)
        ax.set_xlim(mdates.date2num(since), mdates.date2num(until))
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(ax.xaxis.get_major_locator()))
        handles = [_patch(COLOURS[c], c.value) for c in Coverage if any(r.hours[c] for r in regions)]
        if handles:
            ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
        ax.set_title("Logging continuity: what covers each hour (UTC), and the trail's own events")
        return _svg(fig)


def _patch(colour: str, label: str) -> Any:
    from matplotlib.patches import Patch

    return Patch(color=colour, label=label)
