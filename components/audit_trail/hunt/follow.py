"""`--follow-sessions` and an actor's ATT&CK view over a source: the scans feeding `sessions` and `attack`.

Following an actor takes a few scans of the investigation scanner, each narrowed by the byte prefilter:
scans for the STS calls that issued credentials to the actor or to a session found so far
(`IssuesCredentials` with `FollowedActor`), from which `sessions.follow` works out the sessions, one link
of the chain per scan; then one for the events of the actor and of those sessions, kept as a compact
timeline. `FollowedActor` then stands in for `--actor` in the question itself, and the timeline gives each
row its `via` columns, the session tree and the grouping by ATT&CK tactic. Local engine only: it reads the
raw records (the SQL of these filters is DuckDB's).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..investigate.answer import Answer
from ..investigate.events import EventRow
from ..investigate.scanner import ScanPlan, read_rows, scan
from ..investigate.sources import LogFile, list_log_files
from ..queries.filters import Actor, Filter, Row, sql_list, window_filters
from ..queries.prefilter import literal_needle
from ..times import instant_key
from ..window import Window
from .attack import tactic_rows
from .sessions import (
    ISSUING_EVENTS,
    ChainNode,
    Followed,
    follow,
    issued_key,
    session_tree,
    source_identity_of,
)

_SOURCE_IDENTITY_SQL = "json_extract_string(raw, '$.userIdentity.sessionContext.sourceIdentity')"


class IssuesCredentials(Filter):
    """STS calls that issued temporary credentials (pass 1 of following an actor)."""

    def sql(self) -> str:
        return (
            f"event_source = 'sts.amazonaws.com' AND event_name IN {sql_list(sorted(ISSUING_EVENTS))} "
            "AND error_code IS NULL AND json_extract_string(response_elements, '$.credentials.accessKeyId') "
            "IS NOT NULL"
        )

    def test(self, row: Row) -> bool:
        return issued_key(row["raw"]) is not None

    def needles(self) -> tuple[bytes, ...]:
        return (b"sts.amazonaws.com",)


@dataclass(frozen=True)
class FollowedActor(Filter):
    """The actor's own events (its `--actor` filter) and those signed with credentials it obtained."""

    actor: Filter
    keys: tuple[str, ...] = ()
    source_identities: tuple[str, ...] = ()

    def sql(self) -> str:
        parts = [self.actor.sql()]
        if self.keys:
            parts.append(f"access_key_id IN {sql_list(self.keys)}")
        if self.source_identities:
            parts.append(f"{_SOURCE_IDENTITY_SQL} IN {sql_list(self.source_identities)}")
        return " OR ".join(f"({p})" for p in parts)

    def test(self, row: Row) -> bool:
        if self.actor.test(row) or row.get("access_key_id") in self.keys:
            return True
        return bool(self.source_identities) and source_identity_of(row["raw"]) in self.source_identities

    def needles(self) -> tuple[bytes, ...]:
        actor = self.actor.needles()
        if not actor:  # the actor cannot be prefiltered: neither can its sessions
            return ()
        # Keys and source identities are matched exactly: each must make a needle (see `prefilter`).
        values = [literal_needle(v) for v in (*self.keys, *self.source_identities)]
        if any(v is None for v in values):
            return ()
        return tuple(dict.fromkeys((*actor, *(v for v in values if v is not None))))


@dataclass(frozen=True)
class _Timeline:
    """Scanner mapper: the few fields the session tree and the tactic view need, per kept event."""

    def __call__(self, record: dict[str, Any], row: EventRow) -> Iterable[dict[str, Any]]:
        return (
            {
                "event_id": row["event_id"],
                "event_time": row["event_time"],
                "event_source": row["event_source"],
                "event_name": row["event_name"],
                "access_key_id": row["access_key_id"],
                "source_identity": source_identity_of(record),
            },
        )


def _scan_rows(files: Sequence[LogFile], plan: ScanPlan) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="audit-trail-follow-") as scratch:
        _, written = scan(files, plan, Path(scratch))
        return list(read_rows(written))


@dataclass
class Following:
    """An actor followed through its sessions: the filter that selects its events, and their timeline."""

    actor: str
    followed: Followed
    filter: Filter
    timeline: list[dict[str, Any]] = field(default_factory=list)

    def _session(self, event: dict[str, Any]) -> Any:
        return self.followed.session_for(event["access_key_id"], event["source_identity"])

    def via(self) -> dict[str, dict[str, Any]]:
        """event_id -> how the event was reached (empty for the actor's own credentials)."""
        out: dict[str, dict[str, Any]] = {}
        for event in self.timeline:
            session = self._session(event)
            out[event["event_id"]] = session.via() if session is not None else {}
        return out

    def tree(self) -> ChainNode:
        return session_tree(self.actor, (self._session(e) for e in self.timeline))

    def tactics(self) -> list[dict[str, Any]]:
        return tactic_rows((e["event_time"], e["event_source"], e["event_name"]) for e in self.timeline)


def _selection(actor: str | Filter, label: str | None) -> tuple[Filter, str]:
    """The filter selecting the actor's own events (an `--actor` value, or the filter of several), and the
    label of the tree's root."""
    if isinstance(actor, str):
        return Actor(actor), label or actor
    return actor, label or "the actor"


def follow_actor_in(
    files: Sequence[LogFile], actor: str | Filter, window: Sequence[Filter] = (), *, label: str | None = None
) -> Following:
    """Follow ACTOR (a value as `--actor` takes it, or its filter) through the sessions it opened in FILES
    (within the WINDOW filters).

    The credential-issuing calls are found one link of the chain at a time: each scan reads only the files
    that hold an STS call and the actor or a key found so far, until a scan finds no new session.
    """
    own, label = _selection(actor, label)
    selector = FollowedActor(own)
    while True:
        rows = _scan_rows(files, ScanPlan((*window, IssuesCredentials(), selector)))
        followed = follow([row["raw"] for row in rows], lambda record: own.test(EventRow(record, "")))
        found = FollowedActor(
            own, tuple(sorted(followed.sessions)), tuple(sorted(followed.source_identities))
        )
        if found == selector:
            break
        selector = found
    timeline = _scan_rows(files, ScanPlan((*window, selector), _Timeline()))
    timeline.sort(key=_in_time)
    return Following(label, followed, selector, timeline)


def _in_time(event: Mapping[str, Any]) -> tuple[int, str]:
    """A timeline's order: by instant (as text, `...:00.500Z` would come before `...:00Z`), then event id."""
    return instant_key(event["event_time"]), event["event_id"] or ""


def actor_in(
    files: Sequence[LogFile], actor: str | Filter, window: Sequence[Filter] = (), *, label: str | None = None
) -> Following:
    """The actor's own events only (no session following), for the tactic view of `activity`."""
    own, label = _selection(actor, label)
    timeline = _scan_rows(files, ScanPlan((*window, own), _Timeline()))
    timeline.sort(key=_in_time)
    return Following(label, Followed(), own, timeline)


VIA_COLUMNS = ("via_role_arn", "via_session_name", "via_issuing_event", "via_chain")


def following_in(
    source: str,
    window: Window,
    actor: str | Filter,
    *,
    sessions: bool = True,
    label: str | None = None,
    files: Sequence[LogFile] | None = None,
) -> Following:
    """`follow_actor_in` (or `actor_in` without session following) over SOURCE within WINDOW (FILES: its
    log files, when the caller listed them already)."""
    files = list(files) if files is not None else list_log_files(source, window)
    filters = window_filters(window)
    how = follow_actor_in if sessions else actor_in
    return how(files, actor, filters, label=label)


def enriched(answer: Answer, following: Following) -> Answer:
    """The answer's event rows with how each was reached."""
    via = following.via()
    rows = ({**row, **_via_columns(via.get(row.get("event_id") or "", {}))} for row in answer.stream())
    return answer.derived([*answer.columns, *VIA_COLUMNS], rows)


def _via_columns(found: Mapping[str, Any]) -> dict[str, Any]:
    return {column: found.get(column) for column in VIA_COLUMNS}


TACTIC_COLUMNS = ("tactic", "events", "first_seen", "last_seen", "actions")
