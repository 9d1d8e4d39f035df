"""Hunt: run every Sigma rule over the events of a source in one pass of the scanner, then report the hits.

The rules ride on the investigation scanner as its row mapper (`SigmaHits`): its workers decompress and parse
each file once, and every record is tested against all rules at once (see `evaluate.RuleMatcher`); the workers
write each hit's row (a record and a rule it fires) as JSON to scratch files, in runs they sort (`HitOrder`),
and count the per-rule summary as they go (`HitTally`; memory: rules x distinct actors). The parent merges
the counts, then hands the hits out as an iterator that merges the runs, in bounded memory: as rows, or as
the JSON text the workers wrote, which a JSON answer writes as it is. Rows keep the rule's author, as the
Detection Rule License asks of any output showing matches.

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
from typing import Any, cast

import orjson

from ..attack_tactics import catalogue
from ..investigate.events import EventRow, Getter, getter, identity_of
from ..investigate.listing import in_order
from ..investigate.scanner import ScanPlan, ScanReport, Tally, as_written, scan
from ..investigate.sources import LogFile
from ..queries.filters import Filter
from .attack import record_tactics
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

    @cached_property
    def _about(self) -> list[tuple[str, str, str, str, str, str]]:
        """What every hit of a rule shares, by position: worked out once per rule, not per hit."""
        return [(r.level, r.title, " ".join(r.tags), r.id, r.source, r.author) for r in self.rule_set.rules]

    def __call__(self, record: dict[str, Any], row: EventRow) -> Iterable[dict[str, Any]]:
        positions = self._matches(record)
        if not positions:
            return ()
        when, micros = row["event_time"], row.micros
        if self.summary_only:
            actor = _actor(row)
            return [_Hit.of(position, micros, actor, event_time=when, actor=actor) for position in positions]
        identity = identity_of(record)
        who, principal_arn = _WHO(record, identity), _PRINCIPAL_ARN(record, identity)
        fields = (
            _ACTION(record, identity),
            _SOURCE_IP(record, identity),
            _REGION(record, identity),
            _EVENT_ID(record, identity),
        )
        tactics = record_tactics(record)
        actor = str(principal_arn or who)
        hits = []
        for position in positions:
            level, title, attack, rule_id, rule_source, author = self._about[position]
            action, source_ip, region, event_id = fields
            # In HIT_COLUMNS' order: the row is written as it is.
            hit = _Hit.of(
                position,
                micros,
                actor,
                event_time=when,
                level=level,
                rule=title,
                attack=attack,
                who=who,
                action=action,
                source_ip=source_ip,
                region=region,
                event_id=event_id,
                rule_id=rule_id,
                rule_source=rule_source,
                author=author,
                principal_arn=principal_arn,
                tactics=tactics,
            )
            hits.append(hit)
        return hits


class _Hit(dict[str, Any]):
    """A hit's row as written, with what orders and counts it but is not written: the rule's position, the
    instant's sort key (`...:00.5Z` after `...:00Z`), and who the summary counts it as (the caller's ARN, else
    its display name)."""

    __slots__ = ("actor", "micros", "position")
    actor: str
    micros: int
    position: int

    @classmethod
    def of(cls, position: int, micros: int, actor: str, /, **row: Any) -> _Hit:
        # dict's own constructor, from the keywords: a hunt makes a hundred thousand of these
        hit = cls(**row)
        hit.position, hit.micros, hit.actor = position, micros, actor
        return hit


@dataclass(frozen=True)
class HitOrder:
    """The order of hits: oldest first (by instant: `...:00.5Z` after `...:00Z`), then most severe rule, then
    rule title, then as read (the scanner's runs and their merge keep rows of equal keys in the order
    read)."""

    hits: SigmaHits

    def __call__(self, row: EventRow, mapped: Mapping[str, Any]) -> list[Any]:
        return [row.micros, self.hits.places[mapped.position]]  # type: ignore[attr-defined]


def _actor(row: Mapping[str, Any]) -> str:
    """Who an event counts as in the summary's `actors`: the caller's ARN, else its display name."""
    return str(row["principal_arn"] or row["actor"])


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

    def merge(self, later: _Tally) -> None:
        """Add the tally of hits read after these: of equal instants, the one read first stays."""
        if later.first[0] < self.first[0]:
            self.first = later.first
        if later.last[0] > self.last[0]:
            self.last = later.last
        self.hits += later.hits
        self.actors |= later.actors


@dataclass
class HitTally:
    """The scanner's `Tally` for a hunt: a `_Tally` per rule position, counted in the workers."""

    rules: dict[int, _Tally] = field(default_factory=dict)

    def empty(self) -> HitTally:
        return HitTally()

    def add(self, rows: Sequence[Mapping[str, Any]]) -> None:
        for hit in cast(Sequence[_Hit], rows):  # what `SigmaHits` maps a record to
            tally = self.rules.get(hit.position) or self.rules.setdefault(hit.position, _Tally())
            tally.add(hit.micros, hit["event_time"], hit.actor)

    def merge(self, other: Tally) -> None:
        for position, later in cast(HitTally, other).rules.items():
            if position in self.rules:
                self.rules[position].merge(later)
            else:
                self.rules[position] = later


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

    def _lines(self) -> Iterator[bytes]:
        if self._runs is None or self._scratch is None:
            raise ValueError("this hunt kept only its summary")
        return (line for _, line in in_order(self._runs, self._scratch))

    def hits(self) -> Iterator[dict[str, Any]]:
        """One row per rule each record fired (HIT_COLUMNS, in order), in `HitOrder`: oldest first, then most
        severe."""
        # A row's newlines were written as tabs (`ScanPlan.indented`): JSON whitespace too.
        return map(orjson.loads, self._lines())

    def hit_texts(self) -> Iterator[Any]:
        """`hits()` as the JSON text the workers wrote for them: indented by two, as a JSON answer writes
        each row. Decoding a hundred thousand hits only to write them again took most of a hunt's serial part.
        """
        return map(as_written, self._lines())


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
        full = not rules.summary_only
        order = HitOrder(rules) if full else None
        plan = ScanPlan(tuple(filters), rules, order=order, tally=HitTally(), indented=full)
        # Only the counts of a summary are needed: its rows are not written at all.
        report, written = scan(files, plan, Path(scratch) if full else None, workers=workers)
        tally = report.tally if isinstance(report.tally, HitTally) else HitTally()
        yield HuntResult(
            summary=summary_rows(chosen, tally.rules),
            report=report,
            rules=chosen,
            unrunnable=[r for r in rules.rule_set.loaded if not r.runnable],
            _runs=None if rules.summary_only else written,
            _scratch=Path(scratch),
        )
