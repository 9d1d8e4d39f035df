"""Hunt: run every Sigma rule over the events of a source in one pass of the scanner, then report the hits.

The rules ride on the investigation scanner as its row mapper (`SigmaHits`): its workers decompress and parse
each file once, and every record is tested against all rules at once (see `evaluate.RuleMatcher`); only a
compact row per record that fires leaves the workers, expanded into one hit row per rule here. Rows keep the
rule's author, as the Detection Rule License asks of any output showing matches.
"""

from __future__ import annotations

import gc
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from ..investigate.events import EventRow
from ..investigate.scanner import ScanPlan, ScanReport, read_rows, scan
from ..investigate.sources import LogFile
from ..queries.filters import Filter
from .attack import catalogue, record_tactics
from .evaluate import RuleMatcher
from .levels import LEVELS, level_rank
from .rules import HuntRule, load_rules

# JSON/CSV carry every column; the table leaves the rule id and author to the per-rule table shown with it.
HIT_COLUMNS = (
    "event_time",
    "level",
    "rule",
    "attack",
    "who",
    "action",
    "source_ip",
    "region",
    "event_id",
    "rule_id",
    "author",
    "principal_arn",
    "tactics",
)
HIT_TABLE_COLUMNS = HIT_COLUMNS[:9]
SUMMARY_COLUMNS = ("level", "rule", "hits", "first_seen", "last_seen", "actors", "rule_id", "author")


@dataclass(frozen=True)
class RuleSet:
    """Runnable rules at or above a level, their matcher (built once per process), and all rules found."""

    rules: tuple[HuntRule, ...]
    matcher: RuleMatcher
    loaded: tuple[HuntRule, ...]


@cache
def rule_set(rule_paths: tuple[str, ...], include_shipped: bool, min_level: str) -> RuleSet:
    loaded = tuple(load_rules([Path(p) for p in rule_paths], include_shipped=include_shipped))
    chosen = tuple(r for r in loaded if r.runnable and r.rank >= level_rank(min_level))
    return RuleSet(chosen, RuleMatcher([r.compiled for r in chosen if r.compiled is not None]), loaded)


@dataclass(frozen=True)
class SigmaHits:
    """The scanner's row mapper for a hunt: a record that fires rules becomes one compact row (the event's
    fields and the positions of the rules it fires); the others are dropped. `hit_rows` expands it.

    Picklable (rule paths, not compiled rules): each worker compiles once, or inherits the compiled set when
    forked after `rule_set` ran in the parent.
    """

    rule_paths: tuple[str, ...] = ()
    include_shipped: bool = True
    min_level: str = LEVELS[0]

    @property
    def rule_set(self) -> RuleSet:
        return rule_set(self.rule_paths, self.include_shipped, self.min_level)

    def __call__(self, record: dict[str, Any], row: EventRow) -> Iterable[dict[str, Any]]:
        positions = self.rule_set.matcher.matches(record)
        if not positions:
            return ()
        return (
            {
                "rules": positions,
                "event_time": row["event_time"],
                "who": row["actor"],
                "action": row["action"],
                "source_ip": row["source_ip"],
                "region": row["aws_region"],
                "event_id": row["event_id"],
                "principal_arn": row["principal_arn"],
                "tactics": record_tactics(record),
            },
        )

    def hit_rows(self, fired: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """One hit row per rule each record fired, oldest first, then most severe."""
        about = [  # what every hit of a rule shares, worked out once per rule, not per hit
            {
                "level": r.level,
                "rule": r.title,
                "attack": " ".join(r.tags),
                "rule_id": r.id,
                "author": r.author,
                "rank": r.rank,
            }
            for r in self.rule_set.rules
        ]
        hits = [
            {
                "event_time": event["event_time"],
                "who": event["who"],
                "action": event["action"],
                "source_ip": event["source_ip"],
                "region": event["region"],
                "event_id": event["event_id"],
                "tactics": event["tactics"],
                "principal_arn": event["principal_arn"],
                **about[p],
            }
            for event in fired
            for p in event["rules"]
        ]
        hits.sort(key=lambda h: (h["event_time"], -h["rank"], h["rule"]))
        return hits


def summary_rows(hits: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per rule: hits, first and last seen, distinct actors; most severe and most frequent first."""
    by_rule: dict[str, dict[str, Any]] = {}
    actors: dict[str, set[str]] = {}
    for hit in hits:
        entry = by_rule.setdefault(
            hit["rule_id"],
            {
                "level": hit["level"],
                "rule": hit["rule"],
                "hits": 0,
                "first_seen": hit["event_time"],
                "last_seen": hit["event_time"],
                "actors": 0,
                "rule_id": hit["rule_id"],
                "author": hit["author"],
                "rank": hit["rank"],
            },
        )
        entry["hits"] += 1
        entry["first_seen"] = min(entry["first_seen"], hit["event_time"])
        entry["last_seen"] = max(entry["last_seen"], hit["event_time"])
        actors.setdefault(hit["rule_id"], set()).add(str(hit["principal_arn"] or hit["who"]))
    for rule_id, entry in by_rule.items():
        entry["actors"] = len(actors[rule_id])
    return sorted(by_rule.values(), key=lambda e: (-e["rank"], -e["hits"], e["rule"]))


@contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic garbage collection while building or writing many hit rows: they hold no cycles, and with
    a hundred thousand rows alive the collector's repeated full passes cost more than building them."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@dataclass
class HuntResult:
    hits: list[dict[str, Any]]
    summary: list[dict[str, Any]]
    report: ScanReport
    rules_run: int
    unrunnable: list[HuntRule] = field(default_factory=list)

    def highest_level(self) -> str | None:
        ranks = [h["rank"] for h in self.hits]
        return LEVELS[max(ranks)] if ranks else None


def hunt(
    files: Sequence[LogFile],
    rules: SigmaHits,
    filters: Sequence[Filter] = (),
    *,
    workers: int | None = None,
) -> HuntResult:
    """One scan of FILES: records that pass FILTERS (e.g. the time window) and fire a rule become hit rows."""
    rules.rule_set  # noqa: B018 — compile before the workers fork, so they inherit the compiled rules
    catalogue()
    with tempfile.TemporaryDirectory(prefix="audit-trail-hunt-") as scratch:
        report, written = scan(files, ScanPlan(tuple(filters), rules), Path(scratch), workers=workers)
        with paused_gc():
            hits = rules.hit_rows(read_rows(written))
            summary = summary_rows(hits)
    return HuntResult(
        hits=hits,
        summary=summary,
        report=report,
        rules_run=len(rules.rule_set.rules),
        unrunnable=[r for r in rules.rule_set.loaded if not r.runnable],
    )
