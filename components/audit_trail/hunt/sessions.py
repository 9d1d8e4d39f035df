"""Follow an actor through the temporary credentials it obtained: its events and its sessions' events.

STS calls that succeed (`AssumeRole`, `AssumeRoleWithSAML`, `AssumeRoleWithWebIdentity`,
`GetSessionToken`, `GetFederationToken`) record the access key id they issued in
`responseElements.credentials.accessKeyId`; every event signed with that key (`userIdentity.accessKeyId`)
was made by whoever obtained it. A session that assumes another role passes the chain on. Keys identify
sessions, so two users assuming the same role stay apart; a failed call issues nothing. A `sourceIdentity`
set when a role was assumed stays on every event of the chain (`userIdentity.sessionContext.
sourceIdentity`), which also reaches sessions whose issuing call is out of view.

Two passes over the records: the few credential-issuing events (`issued_key`) go to `follow`, which works out
the actor's sessions from them; `Followed.session_of` then attributes each event.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..investigate.json_path import get

Record = Mapping[str, Any]

ISSUING_EVENTS = frozenset(
    {"AssumeRole", "AssumeRoleWithSAML", "AssumeRoleWithWebIdentity", "GetSessionToken", "GetFederationToken"}
)


def issued_key(record: Record) -> str | None:
    """The access key id a successful STS credential call issued (None for any other record)."""
    if record.get("eventSource") != "sts.amazonaws.com" or record.get("eventName") not in ISSUING_EVENTS:
        return None
    if record.get("errorCode"):
        return None
    key = get(record, "responseElements.credentials.accessKeyId")
    return key if isinstance(key, str) and key else None


def _signer_key(record: Record) -> str | None:
    key = get(record, "userIdentity.accessKeyId")
    return key if isinstance(key, str) and key else None


def source_identity_of(record: Record) -> str | None:
    value = get(record, "userIdentity.sessionContext.sourceIdentity")
    return value if isinstance(value, str) and value else None


@dataclass(frozen=True)
class Session:
    """Temporary credentials the actor obtained, directly or through a chain of sessions."""

    access_key_id: str
    how: str  # the STS call that issued them
    role_arn: str | None
    session_name: str | None
    issuing_event_id: str | None
    issued_at: str | None
    source_identity: str | None
    parent: Session | None = field(default=None, compare=False)

    @property
    def label(self) -> str:
        target = self.role_arn or self.how
        name = f" session {self.session_name}" if self.session_name else ""
        return f"{target}{name} (key {self.access_key_id}, event {self.issuing_event_id})"

    def chain(self) -> list[Session]:
        """From the session the actor opened itself down to this one."""
        out: list[Session] = []
        node: Session | None = self
        while node is not None:
            out.append(node)
            node = node.parent
        return out[::-1]

    def via(self) -> dict[str, Any]:
        """The columns a followed event carries: how it was reached."""
        return {
            "via_role_arn": self.role_arn,
            "via_session_name": self.session_name,
            "via_issuing_event": self.issuing_event_id,
            "via_chain": " > ".join(s.role_arn or s.how for s in self.chain()),
        }


def _text(value: Any) -> str | None:
    """A field's value if it is text: records are attacker-written and may hold any JSON type anywhere."""
    return value if isinstance(value, str) and value else None


def _session(record: Record, parent: Session | None) -> Session:
    session_name = _text(get(record, "requestParameters.roleSessionName")) or _text(
        get(record, "requestParameters.name")
    )
    source_identity = _text(get(record, "requestParameters.sourceIdentity")) or _text(
        get(record, "responseElements.sourceIdentity")
    )
    if not source_identity and parent is not None:
        source_identity = parent.source_identity
    return Session(
        access_key_id=str(issued_key(record)),
        how=str(record.get("eventName")),
        role_arn=_text(get(record, "requestParameters.roleArn")),
        session_name=session_name,
        issuing_event_id=_text(record.get("eventID")),
        issued_at=_text(record.get("eventTime")),
        source_identity=source_identity,
        parent=parent,
    )


@dataclass
class Followed:
    """The actor's sessions by access key id, and the source identities they set."""

    sessions: dict[str, Session] = field(default_factory=dict)
    source_identities: dict[str, Session] = field(default_factory=dict)

    def session_of(self, record: Record) -> Session | None:
        """Pass 2: the actor's session that made this event, if any."""
        return self.session_for(_signer_key(record), source_identity_of(record))

    def session_for(self, access_key_id: str | None, source_identity: str | None) -> Session | None:
        if access_key_id is not None and access_key_id in self.sessions:
            return self.sessions[access_key_id]
        if source_identity is not None:
            return self.source_identities.get(source_identity)
        return None


def follow(issuing: Sequence[Record], is_actor: Callable[[Record], bool]) -> Followed:
    """The sessions the actor opened and, transitively, those its sessions opened (any record order)."""
    followed = Followed()
    pending = list(issuing)
    changed = True
    while changed:
        changed = False
        remaining: list[Record] = []
        for record in pending:
            parent = followed.session_of(record)
            if parent is None and not is_actor(record):
                remaining.append(record)
                continue
            session = _session(record, parent)
            followed.sessions[session.access_key_id] = session
            if session.source_identity and session.source_identity not in followed.source_identities:
                followed.source_identities[session.source_identity] = session
            changed = True
        pending = remaining
    return followed


@dataclass
class ChainNode:
    """One branch of the actor's session tree: events made directly in it and its sub-sessions."""

    label: str
    events: int = 0
    children: dict[str, ChainNode] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.events + sum(child.total for child in self.children.values())


def session_tree(actor: str, sessions: Iterable[Session | None]) -> ChainNode:
    """Count events per branch: one entry per event, None for the actor's own credentials."""
    root = ChainNode(actor)
    for session in sessions:
        node = root
        for step in session.chain() if session is not None else ():
            node = node.children.setdefault(step.access_key_id, ChainNode(step.label))
        node.events += 1
    return root
