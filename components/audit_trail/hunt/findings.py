"""Hunt: run every Sigma rule over the events of a source in one pass of the scanner, then report the hits.

The rules ride on the investigation scanner as its row mapper (`SigmaHits`): its workers decompress and parse
each file once, and every record is tested against all rules at once (see `evaluate.RuleMatcher`); only a
compact row per hit (a record and a rule it fires) leaves the workers, written to scratch files in runs the
workers sort (`HitOrder`). The parent counts the per-rule summary from those rows (memory: rules x distinct
actors), then hands the hits out as an iterator that merges the runs, in bounded memory. Rows keep the rule's
author, as the Detection Rule License asks of any output showing matches.

A rule is known by its position in the rule set, shown as its id *and* source: two rules sharing an id are
two rows of the summary, never one.
"""

from __future__ import annotations

import gc
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import orjson

from ..investigate.events import EventRow, Getter, getter, identity_of
from ..investigate.listing import in_order
from ..investigate.scanner import ScanPlan, ScanReport, read_rows, scan
from ..investigate.sources import LogFile
from ..queries.filters import Filter
from .attack import catalogue, record_tactics
from .evaluate import RuleMatcher
from .levels import LEVELS, level_rank
from .rules import HuntRule, id_clashes, load_rules

# JSON/CSV carry every column; the table leaves the rule id, source and author to the per-rule table.
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
    "rule_source",
    "author",
    "principal_arn",
    "tactics",
)
HIT_TABLE_COLUMNS = HIT_COLUMNS[:9]
SUMMARY_COLUMNS = (
    "level",
    "rule",
    "hits",
    "first_seen",
    "last_seen",
    "actors",
    "rule_id",
    "rule_source",
    "author",
)


@dataclass(frozen=True)
class RuleSet:
    """Runnable rules chosen (level, ids), their matcher (built once per process), and all rules found."""

    rules: tuple[HuntRule, ...]
    matcher: RuleMatcher
    loaded: tuple[HuntRule, ...]

    @property
    def clashes(self) -> list[str]:
        return id_clashes(self.loaded)


@cache
def rule_set(
    rule_paths: tuple[str, ...], include_shipped: bool, min_level: str, rule_ids: tuple[str, ...] = ()
) -> RuleSet:
    loaded = tuple(load_rules([Path(p) for p in rule_paths], include_shipped=include_shipped))
    wanted = {i.lower() for i in rule_ids}
    chosen = tuple(
        r
        for r in loaded
        if r.runnable and r.rank >= level_rank(min_level) and (not wanted or r.id.lower() in wanted)
    )
    return RuleSet(chosen, RuleMatcher([r.compiled for r in chosen if r.compiled is not None]), loaded)


def _read(column: str) -> Getter:
    read = getter(column)
    if read is None:  # a column read from the whole row: not one a hit holds
        raise ValueError(f"{column} is not read straight from a record")
    return read


# A hit's fields read straight from the record and its identity: a hunt makes a hit of a third of a busy
# account's records, and the lazy row costs a call more for each field.
_WHO, _ACTION, _SOURCE_IP, _REGION, _EVENT_ID, _PRINCIPAL_ARN = map(
    _read, ("actor", "action", "source_ip", "aws_region", "event_id", "principal_arn")
)


@dataclass(frozen=True)
class SigmaHits:
    """The scanner's row mapper for a hunt: a record that fires rules becomes one compact row per rule (the
    rule's position and the event's fields); the others are dropped.

    Picklable (rule paths, not compiled rules): each worker compiles once, or inherits the compiled set when
    forked after `rule_set` ran in the parent. With `summary_only`, rows carry only what the per-rule
    summary counts.
    """

    rule_paths: tuple[str, ...] = ()
    include_shipped: bool = True
    min_level: str = LEVELS[0]
    rule_ids: tuple[str, ...] = ()
    summary_only: bool = False

    @property
    def rule_set(self) -> RuleSet:
        return rule_set(self.rule_paths, self.include_shipped, self.min_level, self.rule_ids)

    @cached_property
    def places(self) -> list[int]:
        """Each rule position's place among the hits of one instant: most severe first, then by title."""
        rules = self.rule_set.rules
        ranked = sorted(range(len(rules)), key=lambda p: (-rules[p].rank, rules[p].title, p))
        places = [0] * len(rules)
        for place, position in enumerate(ranked):
            places[position] = place
        return places

    @cached_property
    def _matches(self) -> Callable[[dict[str, Any]], list[int]]:
        """The compiled rules' matcher: asked for every record, so not looked up in `rule_set`'s cache each
        time."""
        return self.rule_set.matcher.matches

    def __getstate__(self) -> dict[str, Any]:
        # Compiled rules hold closures, which do not pickle: a worker compiles them again, or inherits them.
        return {key: value for key, value in self.__dict__.items() if key != "_matches"}

    def __call__(self, record: dict[str, Any], row: EventRow) -> Iterable[dict[str, Any]]:
        positions = self._matches(record)
        if not positions:
            return ()
        # `micros` orders the summary's first and last seen as the hits are ordered (by instant, not text).
        if self.summary_only:
            event = {"event_time": row["event_time"], "micros": row.micros, "actor": _actor(row)}
        else:
            identity = identity_of(record)
            event = {
                "event_time": row["event_time"],
                "micros": row.micros,
                "who": _WHO(record, identity),
                "action": _ACTION(record, identity),
                "source_ip": _SOURCE_IP(record, identity),
                "region": _REGION(record, identity),
                "event_id": _EVENT_ID(record, identity),
                "principal_arn": _PRINCIPAL_ARN(record, identity),
                "tactics": record_tactics(record),
            }
        return [{"rule": position, **event} for position in positions]


@dataclass(frozen=True)
class HitOrder:
    """The order of hits: oldest first (by instant: `...:00.5Z` after `...:00Z`), then most severe rule, then
    rule title, then as read (the scanner's runs and their merge keep rows of equal keys in the order
    read)."""

    hits: SigmaHits

    def __call__(self, row: EventRow, mapped: Mapping[str, Any]) -> list[Any]:
        return [row.micros, self.hits.places[mapped["rule"]]]


def _actor(row: Mapping[str, Any]) -> str:
    """Who an event counts as in the summary's `actors`: the caller's ARN, else its display name."""
    return str(row["principal_arn"] or row["actor"])


def _hit_actor(event: Mapping[str, Any]) -> str:
    """`_actor` of a compact row: written by the mapper in summary mode, else from the row's fields."""
    actor = event.get("actor")
    return actor if isinstance(actor, str) else str(event["principal_arn"] or event["who"])


# --- the per-rule summary ---


@dataclass
class _Tally:
    hits: int = 0
    first: tuple[int, str] = (0, "")
    last: tuple[int, str] = (0, "")
    """(instant key, event_time) of the first and last hit: the earliest of equal instants read is kept."""
    actors: set[str] = field(default_factory=set)

    def add(self, micros: int, when: str, actor: str) -> None:
        if not self.hits or micros < self.first[0]:
            self.first = (micros, when)
        if not self.hits or micros > self.last[0]:
            self.last = (micros, when)
        self.hits += 1
        self.actors.add(actor)


def summary_rows(rules: Sequence[HuntRule], tallies: Mapping[int, _Tally]) -> list[dict[str, Any]]:
    """Per rule that fired: hits, first and last seen, distinct actors; most severe, most frequent first."""
    rows = [
        {
            "level": rules[p].level,
            "rule": rules[p].title,
            "hits": t.hits,
            "first_seen": t.first[1],
            "last_seen": t.last[1],
            "actors": len(t.actors),
            "rule_id": rules[p].id,
            "rule_source": rules[p].source,
            "author": rules[p].author,
            "rank": rules[p].rank,
        }
        for p, t in tallies.items()
    ]
    return sorted(rows, key=lambda e: (-e["rank"], -e["hits"], e["rule"], e["rule_source"]))


# --- the hunt ---


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
    """What a hunt found. `hits()` streams the hit rows (once); the rest is in memory."""

    summary: list[dict[str, Any]]
    report: ScanReport
    rules: tuple[HuntRule, ...]
    unrunnable: list[HuntRule]
    _runs: list[Path] | None = None
    """The workers' sorted runs of hit rows (none when only the summary was kept), in the scratch folder."""
    _scratch: Path | None = None

    @property
    def rules_run(self) -> int:
        return len(self.rules)

    @property
    def hit_count(self) -> int:
        return sum(row["hits"] for row in self.summary)

    def highest_level(self) -> str | None:
        ranks = [row["rank"] for row in self.summary]
        return LEVELS[max(ranks)] if ranks else None

    def hits(self) -> Iterator[dict[str, Any]]:
        """One row per rule each record fired, in `HitOrder`: oldest first, then most severe."""
        if self._runs is None or self._scratch is None:
            raise ValueError("this hunt kept only its summary")
        # What every hit of a rule shares, worked out once per rule, not per hit. The rows are built in
        # HIT_COLUMNS' order: written as they are, not copied into that order.
        about = [(r.level, r.title, " ".join(r.tags), r.id, r.source, r.author) for r in self.rules]
        for _, line in in_order(self._runs, self._scratch):
            event = orjson.loads(line)
            level, title, attack, rule_id, rule_source, author = about[event["rule"]]
            yield {
                "event_time": event["event_time"],
                "level": level,
                "rule": title,
                "attack": attack,
                "who": event["who"],
                "action": event["action"],
                "source_ip": event["source_ip"],
                "region": event["region"],
                "event_id": event["event_id"],
                "rule_id": rule_id,
                "rule_source": rule_source,
                "author": author,
                "principal_arn": event["principal_arn"],
                "tactics": event["tactics"],
            }


@contextmanager
def hunt(
    files: Sequence[LogFile],
    rules: SigmaHits,
    filters: Sequence[Filter] = (),
    *,
    workers: int | None = None,
) -> Iterator[HuntResult]:
    """One scan of FILES: records that pass FILTERS (e.g. the time window) and fire a rule become hits.

    A context: the hits stream from scratch files that live until it exits. With `rules.summary_only`, only
    the summary is kept (`hits()` is refused)."""
    chosen = rules.rule_set.rules  # compiled before the workers fork, so they inherit the compiled rules
    catalogue()
    with tempfile.TemporaryDirectory(prefix="audit-trail-hunt-") as scratch:
        plan = ScanPlan(tuple(filters), rules, order=None if rules.summary_only else HitOrder(rules))
        report, written = scan(files, plan, Path(scratch), workers=workers)
        tallies: dict[int, _Tally] = {}
        with paused_gc():
            for hit in read_rows(written):
                position = hit["rule"]
                tally = tallies.get(position) or tallies.setdefault(position, _Tally())
                tally.add(hit["micros"], hit["event_time"], _hit_actor(hit))
        yield HuntResult(
            summary=summary_rows(chosen, tallies),
            report=report,
            rules=chosen,
            unrunnable=[r for r in rules.rule_set.loaded if not r.runnable],
            _runs=None if rules.summary_only else written,
            _scratch=Path(scratch),
        )
