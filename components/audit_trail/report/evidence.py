"""What a report holds, as data: every section's results, kept as the library calls returned them, and the one
JSON shape of `--format json` (`Evidence.to_dict`, `FORMAT_VERSION`; the README lists its keys).

Statuses: PASS, WARN, FAIL, or NOT CHECKED (with why). Lists of events are capped at `MAX_ROWS` rows each; the
count beside them is always the whole count, and a capped list says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ..integrity.continuity import Coverage, Gap, hours_text
from ..integrity.doctor import Check
from ..integrity.verify import VerifyReport
from ..times import iso

FORMAT_VERSION = 1
MAX_ROWS = 5000
"""Rows of one list (events, hits) the report carries; its count is exact, and the commands give them all."""
TOP_ROWS = 10
"""Rows of a list a section shows before linking to the whole list."""

PASS, WARN, FAIL, NOT_CHECKED = "PASS", "WARN", "FAIL", "NOT CHECKED"
_RANK = {PASS: 0, NOT_CHECKED: 0, WARN: 1, FAIL: 2}


def worst(statuses: list[str]) -> str:
    checked = [s for s in statuses if s != NOT_CHECKED]
    return max(checked, key=_RANK.__getitem__) if checked else NOT_CHECKED


@dataclass
class Table:
    """One list of rows: how many there were in all (`total`), and at most MAX_ROWS of them."""

    anchor: str
    title: str
    columns: tuple[str, ...]
    rows: list[dict[str, Any]] = field(default_factory=list)
    total: int = 0
    finding: bool = False
    """A row here is a finding (root usage, sign-in without MFA, a high or critical hit), not just activity
    to review."""
    about: str = ""
    """How the rows were found: the question or command that gives the same answer."""

    def add(self, row: dict[str, Any]) -> None:
        self.total += 1
        if len(self.rows) < MAX_ROWS:
            self.rows.append(row)

    @property
    def truncated(self) -> bool:
        return self.total > len(self.rows)

    @property
    def top(self) -> list[dict[str, Any]]:
        return self.rows[:TOP_ROWS]

    @property
    def status(self) -> str:
        if not self.total:
            return PASS
        return FAIL if self.finding else WARN

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.anchor,
            "title": self.title,
            "about": self.about,
            "status": self.status,
            "total": self.total,
            "truncated": self.truncated,
            "columns": list(self.columns),
            "rows": self.rows,
        }


@dataclass(frozen=True)
class Run:
    """Consecutive hours of one account and region with the same coverage."""

    start: datetime
    end: datetime
    coverage: Coverage

    @property
    def hours(self) -> float:
        return round((self.end - self.start) / timedelta(hours=1), 2)

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": iso(self.start),
            "end": iso(self.end),
            "hours": self.hours,
            "coverage": self.coverage.value,
        }


@dataclass
class RegionContinuity:
    account: str
    region: str
    runs: list[Run]
    gaps: list[Gap]
    hours: dict[Coverage, float]
    gap_events: list[list[dict[str, Any]]]
    """For each gap, the trail's own events from an hour before it starts to an hour after it ends."""

    @property
    def status(self) -> str:
        if self.hours[Coverage.MISSING] or self.hours[Coverage.INVALID] or self.hours[Coverage.RESTART]:
            return FAIL
        return PASS

    def to_dict(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "region": self.region,
            "status": self.status,
            "hours": {k.value: v for k, v in self.hours.items()},
            "timeline": [r.to_dict() for r in self.runs],
            "gaps": [
                {**g.row(), "trail_events": events}
                for g, events in zip(self.gaps, self.gap_events, strict=True)
            ],
        }


@dataclass
class ControlRow:
    """One clause of the profile's standard: the live checks evidencing it, and what the stack configures."""

    clause: str
    text: str
    checks: list[str]
    configured: list[str]
    status: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "clause": self.clause,
            "text": self.text,
            "checks": self.checks,
            "configured": self.configured,
            "status": self.status,
        }


@dataclass
class Retention:
    """How long the log bucket keeps the trail's files, against what the profile's standard requires."""

    in_force_days: int | None
    """The expiry rule's days (None: no rule expires them, or `in_force` says why it is unknown)."""
    in_force: str
    required_days: int
    clause: str
    text: str

    @property
    def status(self) -> str:
        if self.in_force_days is None:
            return FAIL if self.in_force.startswith("unknown") else PASS
        return FAIL if self.in_force_days < self.required_days else PASS

    def to_dict(self) -> dict[str, Any]:
        return {
            "in_force_days": self.in_force_days,
            "in_force": self.in_force,
            "required_days": self.required_days,
            "clause": self.clause,
            "text": self.text,
            "status": self.status,
        }


@dataclass
class Configuration:
    """`doctor`'s checks of the live trail, each with the profile's clauses it evidences."""

    trail: str
    region: str
    checks: list[Check]
    check_clauses: dict[str, list[str]]
    controls: list[ControlRow]
    retention: Retention | None

    @property
    def status(self) -> str:
        statuses = [c.status.name for c in self.checks]
        statuses += [c.status for c in self.controls]
        if self.retention is not None:
            statuses.append(self.retention.status)
        return worst(statuses)

    def to_dict(self) -> dict[str, Any]:
        return {
            "trail": self.trail,
            "region": self.region,
            "status": self.status,
            "checks": [{**c.row(), "clauses": self.check_clauses.get(c.check, [])} for c in self.checks],
            "controls": [c.to_dict() for c in self.controls],
            "retention": self.retention.to_dict() if self.retention else None,
        }


@dataclass
class Charts:
    """What the charts draw, as numbers (the JSON carries them; the page draws them)."""

    per_day: dict[str, dict[str, int]]
    """UTC day -> region -> records delivered for it."""
    top_actors: list[tuple[str, int]]
    records: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "records": self.records,
            "events_per_day": self.per_day,
            "top_actors": [{"actor": a, "events": n} for a, n in self.top_actors],
        }


@dataclass
class SectionLine:
    anchor: str
    title: str
    status: str
    line: str


@dataclass
class Evidence:
    tool_version: str
    command_line: list[str]
    produced_at: datetime
    since: datetime
    until: datetime
    sources: list[str]
    profile: str | None
    profile_from: str
    verify: VerifyReport
    continuity: list[RegionContinuity]
    trail_events: Table
    configuration: Configuration | None
    configuration_skipped: str
    activity: list[Table]
    hunt_rules: list[dict[str, Any]]
    charts: Charts
    scan_notes: list[str]

    # --- the summary: one line per section ------------------------------------------------------------------

    @property
    def continuity_status(self) -> str:
        return worst([r.status for r in self.continuity]) if self.continuity else FAIL

    def hours(self, coverage: Coverage) -> float:
        return round(sum(r.hours[coverage] for r in self.continuity), 2)

    @property
    def activity_status(self) -> str:
        return worst([t.status for t in self.activity])

    def sections(self) -> list[SectionLine]:
        total = round(sum(sum(r.hours.values()) for r in self.continuity), 2)
        gaps = sum(len(r.gaps) for r in self.continuity)
        off = self.hours(Coverage.RESTART)
        missing = self.hours(Coverage.MISSING) + self.hours(Coverage.INVALID)
        continuity = (
            f"{hours_text(self.hours(Coverage.COVERED))} of {hours_text(total)} region-hours covered by a "
            f"valid digest in {len(self.continuity)} account/region(s); {gaps} gap(s): "
            f"{hours_text(missing)} h without a valid digest, "
            f"{hours_text(off)} h with logging or validation off"
            + (
                f", {hours_text(self.hours(Coverage.PENDING))} h not due yet"
                if self.hours(Coverage.PENDING)
                else ""
            )
            + (f"; {self.trail_events.total} trail configuration event(s)" if self.trail_events.total else "")
        )
        failures = [f for f in self.verify.findings if f.result == "FAIL"]
        integrity = (
            f"{sum(r.digests for r in self.verify.regions)} digest files and "
            f"{sum(r.log_files for r in self.verify.regions)} log files checked; "
            f"{len(failures)} problem(s)"
        )
        if self.configuration is None:
            config_status, config = NOT_CHECKED, self.configuration_skipped
        else:
            c = self.configuration
            counts = {s: sum(x.status.name == s for x in c.checks) for s in (PASS, WARN, FAIL)}
            config_status = c.status
            config = (
                f"trail {c.trail} ({c.region}): {counts[PASS]} PASS, {counts[WARN]} WARN, {counts[FAIL]} FAIL"
                + (f"; profile {self.profile}" if self.profile else "; no profile, controls not mapped")
                + (
                    f"; retention {c.retention.in_force}, {c.retention.required_days} days required"
                    if c.retention
                    else ""
                )
            )
        activity = "; ".join(f"{t.title}: {t.total}" for t in self.activity)
        charts = f"{self.charts.records} records over {len(self.charts.per_day)} day(s)"
        return [
            SectionLine("continuity", "Logging continuity", self.continuity_status, continuity),
            SectionLine("integrity", "Integrity", PASS if self.verify.ok else FAIL, integrity),
            SectionLine("configuration", "Configuration evidence", config_status, config),
            SectionLine("activity", "Privileged and risky activity", self.activity_status, activity),
            SectionLine("charts", "Charts", NOT_CHECKED if not self.charts.records else PASS, charts),
        ]

    @property
    def has_findings(self) -> bool:
        """A section FAILs (what `--fail-on-findings` exits 1 on)."""
        return any(s.status == FAIL for s in self.sections())

    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": FORMAT_VERSION,
            "produced": {
                "tool_version": self.tool_version,
                "command_line": self.command_line,
                "at": iso(self.produced_at),
            },
            "period": {"since": iso(self.since), "until": iso(self.until)},
            "sources": self.sources,
            "profile": self.profile,
            "summary": [
                {"section": s.anchor, "title": s.title, "status": s.status, "line": s.line}
                for s in self.sections()
            ],
            "continuity": {
                "status": self.continuity_status,
                "regions": [r.to_dict() for r in self.continuity],
                "trail_events": self.trail_events.to_dict(),
            },
            "integrity": self.verify.to_dict(),
            "configuration": (
                self.configuration.to_dict()
                if self.configuration
                else {"status": NOT_CHECKED, "reason": self.configuration_skipped}
            ),
            "activity": {
                "status": self.activity_status,
                "tables": [t.to_dict() for t in self.activity],
                "hunt_rules": self.hunt_rules,
                "scan": self.scan_notes,
            },
            "charts": self.charts.to_dict(),
        }
