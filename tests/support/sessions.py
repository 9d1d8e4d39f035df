"""A plain, in-memory reading of session following, as the tests' reference: the product follows actors
through the scanner (`hunt.follow`), these functions over a list of records."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from audit_trail.hunt.sessions import Record, Session, follow, issued_key


def issuing_records(records: Iterable[Record]) -> list[Record]:
    """The records that issued credentials."""
    return [r for r in records if issued_key(r)]


def follow_actor(
    records: Iterable[Record], is_actor: Callable[[Record], bool]
) -> list[tuple[Record, Session | None]]:
    """The actor's own events (session None) and those made with credentials it obtained, in input order."""
    materialized = list(records)
    followed = follow(issuing_records(materialized), is_actor)
    out: list[tuple[Record, Session | None]] = []
    for record in materialized:
        session = followed.session_of(record)
        if session is not None or is_actor(record):
            out.append((record, session))
    return out
