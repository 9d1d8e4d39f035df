"""Row filters: each is one condition written twice over the same `events` columns — as SQL (DuckDB and
Athena run it, and it decides the answer) and as a Python test on a flattened row (the scanner applies it
first so only candidate rows reach DuckDB) — plus the needles a file must contain to hold a match
(`prefilter` says why they are sound).

The SQL is the definition; the Python test accepts exactly the rows the SQL accepts (tests check both agree on
real records), so a filter may also be negated (`Not`, the `--not-*` options). A SQL NULL counts as not
accepted, in an inclusion and in an exclusion alike.

Text matching is case-insensitive wherever a responder types a name (actor, action, IP, user agent, event
id): both sides are lowered as DuckDB's and Trino's `lower()` do (`prefilter.fold`); `*` matches any run of
characters and `?` one character. Resources are matched case-sensitively (AWS ids and names are).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from ..errors import UserError
from ..times import parse_instant, utc
from ..window import Window
from . import addresses, resource_arns
from .prefilter import any_needles, fold, fragment_needle, literal_needle

Row = Mapping[str, Any]


def sql_str(value: str) -> str:
    """A SQL string literal (standard quoting, valid in DuckDB and Trino)."""
    return "'" + value.replace("'", "''") + "'"


def sql_list(values: Sequence[str]) -> str:
    return "(" + ", ".join(sql_str(v) for v in values) + ")"


def is_glob(pattern: str) -> bool:
    return "*" in pattern or "?" in pattern


def _glob_like(pattern: str) -> str:
    """A `*`/`?` glob as a SQL LIKE pattern (escape character backslash)."""
    out = []
    for ch in pattern:
        out.append({"*": "%", "?": "_", "%": "\\%", "_": "\\_", "\\": "\\\\"}.get(ch, ch))
    return "".join(out)


@dataclass(frozen=True)
class Glob:
    """A `*`/`?` glob matched in linear time, as LIKE matches its `%`/`_` pattern.

    A regular expression `.*a.*b` backtracks without bound on a long value (attackers write the values: a
    planted 3,000-character user name held `*a*a*a*a*b` for minutes), so the glob is split at its stars: the
    first piece must start the text, the last end it, and each piece between is taken at its leftmost place
    after the one before (taking it later never helps). Pieces have a fixed length (`?` is one character).
    """

    pattern: str

    @cached_property
    def _pieces(self) -> list[re.Pattern[str]]:
        pieces = self.pattern.split("*")
        return [re.compile("".join("." if c == "?" else re.escape(c) for c in p), re.DOTALL) for p in pieces]

    @cached_property
    def _lengths(self) -> list[int]:
        return [len(p) for p in self.pattern.split("*")]

    def matches(self, text: str) -> bool:
        pieces, lengths = self._pieces, self._lengths
        if len(pieces) == 1:
            return len(text) == lengths[0] and pieces[0].match(text) is not None
        first, last = pieces[0], pieces[-1]
        end = len(text) - lengths[-1]
        if end < lengths[0] or first.match(text) is None or last.match(text, end) is None:
            return False
        at = lengths[0]
        for piece, length in zip(pieces[1:-1], lengths[1:-1], strict=True):
            found = piece.search(text, at, end)
            if found is None:
                return False
            at = found.start() + length
        return True


def _text(value: Any) -> str | None:
    """A column's value as the text SQL compares: a record may hold any JSON type where a string belongs,
    and the `events` view reads it as VARCHAR (the JSON text of it)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class Filter:
    """A condition on `events` rows.

    A filter with parameters is a frozen dataclass; one without is a plain subclass, equal to any other of its
    class (defining a frozen dataclass costs about a millisecond at every start, and these have nothing to
    compare)."""

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self)

    def __hash__(self) -> int:
        return hash(type(self))

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def sql(self) -> str:
        raise NotImplementedError

    def test(self, row: Row) -> bool:
        raise NotImplementedError

    def needles(self) -> tuple[bytes, ...]:
        """A file holds a match only if it contains one of these (empty: no prefilter)."""
        return ()

    def needle_field(self) -> str | None:
        """The one top-level field of a record that holds all the test reads, so that a record it accepts
        holds a needle in that field's JSON text alone (the record-level prefilter then searches only it);
        None: the whole record's text."""
        return None


@dataclass(frozen=True)
class AnyOf(Filter):
    """Repeated values of one option: a row passes if it passes one of them."""

    choices: tuple[Filter, ...]

    def sql(self) -> str:
        return " OR ".join(f"({c.sql()})" for c in self.choices) or "false"

    def test(self, row: Row) -> bool:
        return any(c.test(row) for c in self.choices)

    def needles(self) -> tuple[bytes, ...]:
        groups = [c.needles() for c in self.choices]
        return () if not all(groups) else tuple(dict.fromkeys(n for g in groups for n in g))

    def needle_field(self) -> str | None:
        fields = {c.needle_field() for c in self.choices}
        return fields.pop() if len(fields) == 1 else None


@dataclass(frozen=True)
class Not(Filter):
    """An exclusion: the rows the filter does not accept, NULL included (`NOT x` alone would drop them)."""

    inner: Filter

    def sql(self) -> str:
        return f"NOT coalesce(({self.inner.sql()}), false)"

    def test(self, row: Row) -> bool:
        return not self.inner.test(row)


def _timestamp(moment: datetime) -> str:
    """MOMENT as a UTC TIMESTAMP literal, to the microsecond when it has a fraction (as a bound a responder
    types may: `--since 10:00:00.5`), which DuckDB and Trino both read."""
    text = f"{moment.astimezone(UTC):%Y-%m-%d %H:%M:%S.%f}"
    return f"TIMESTAMP '{text.removesuffix('.000000')}'"


@dataclass(frozen=True)
class TimeRange(Filter):
    since: datetime | None = None
    until: datetime | None = None

    def sql(self) -> str:
        parts = []
        if self.since:
            parts.append(f"event_time >= {_timestamp(self.since)}")
        if self.until:
            parts.append(f"event_time < {_timestamp(self.until)}")
        return " AND ".join(parts) or "true"

    def test(self, row: Row) -> bool:
        t = parse_instant(row["event_time"])
        if t is None:
            return False
        return (self.since is None or t >= utc(self.since)) and (self.until is None or t < utc(self.until))


# --- who: the actor ---------------------------------------------------------------------------------------

# The identity values an actor is compared with, as SQL over the `events` view. `regexp_extract`, `[\s\S]`
# and `\z` (end of text) mean the same in DuckDB (RE2) and Trino (Java syntax); DuckDB returns '' where Trino
# returns NULL for no match, hence `nullif`. The last segment's pattern is anchored, so that a backtracking
# engine (Trino's) stays linear on a long planted value, and has no `?` (the saved queries' one parameter).
_LAST_SEGMENT = "'^([\\s\\S]*/){0,1}([^/]*)\\z', 2"
IDENTITY_SQL = (
    "actor",  # readable who: user name, Role/session, root, the calling service
    "user_name",
    "principal_arn",
    "principal_id",
    "access_key_id",
    "session_name",
    "session_issuer_arn",  # the role (or the user who federated) that issued the session
    # The name ending an ARN: IAM user (path dropped), role session, federated user ...
    f"nullif(regexp_extract(principal_arn, {_LAST_SEGMENT}), '')",
    # ... and ending the issuer's ARN: the role's name, or the name of the user who federated.
    f"nullif(regexp_extract(session_issuer_arn, {_LAST_SEGMENT}), '')",
    # The role of an assumed-role ARN, for records without a sessionIssuer.
    "nullif(regexp_extract(principal_arn, ':assumed-role/([^/]*)/', 1), '')",
    # The account id stands for its root user.
    "CASE WHEN identity_type = 'Root' THEN account_id END",
)
_ASSUMED_ROLE = re.compile(r":assumed-role/([^/]*)/")


def _last_segment(text: str | None) -> str | None:
    return None if text is None else (text.rsplit("/", 1)[-1] or None)


def _identity_values(row: Row) -> Iterator[str | None]:
    # Lazily, most telling first: a plain actor's test stops at the first value equal to it.
    yield _text(row.get("user_name"))
    arn = _text(row.get("principal_arn"))
    yield _last_segment(arn)
    yield _text(row.get("actor"))
    yield arn
    issuer = _text(row.get("session_issuer_arn"))
    yield _last_segment(issuer)
    yield issuer
    yield _text(row.get("session_name"))
    yield _text(row.get("access_key_id"))
    yield _text(row.get("principal_id"))
    role = _ASSUMED_ROLE.search(arn) if arn is not None else None
    yield (role[1] or None) if role else None
    if _text(row.get("identity_type")) == "Root":
        yield _text(row.get("account_id"))


def identity_values(row: Row) -> list[str]:
    """The values of IDENTITY_SQL for a row, in Python."""
    return [v for v in _identity_values(row) if v is not None]


def _role_sessions(value: str) -> str | None:
    """For a role ARN, the glob of its sessions' ARNs (`arn:P:sts::A:assumed-role/NAME/*`): a record without
    a sessionIssuer names the role only there. Role names are unique in an account whatever their path, and
    the session ARN has no path; a glob in the name of a role with a path would lose the path: none then."""
    arn = resource_arns.parse(value)
    if arn is None or arn.service != "iam" or not arn.resource.startswith("role/"):
        return None
    path, _, name = arn.resource.removeprefix("role/").rpartition("/")
    if not name or (path and is_glob(name)):
        return None
    return f"arn:{arn.partition}:sts::{arn.account}:assumed-role/{name}/*"


@dataclass(frozen=True)
class Actor(Filter):
    """Who, as a responder names them (case-insensitive, `*`/`?` globs): any of IDENTITY_SQL equals VALUE —
    user name, role name (every session of the role), role session name, federated user name, any ARN form
    (user, role, assumed-role, federated-user, root), access key id, principal id, the account id for root.
    A role ARN also matches its sessions' assumed-role ARNs."""

    value: str

    @cached_property
    def _pattern(self) -> str:
        return fold(self.value)

    @cached_property
    def _sessions(self) -> str | None:
        sessions = _role_sessions(self.value)
        return None if sessions is None else fold(sessions)

    @cached_property
    def _glob(self) -> Glob:
        return Glob(self._pattern)

    @cached_property
    def _sessions_glob(self) -> Glob | None:
        return None if self._sessions is None else Glob(self._sessions)

    def sql(self) -> str:
        if is_glob(self._pattern):
            like = sql_str(_glob_like(self._pattern))
            own = " OR ".join(f"lower({e}) LIKE {like} ESCAPE '\\'" for e in IDENTITY_SQL)
        else:  # the value once: the saved Athena query takes it as its one `?`
            own = f"{sql_str(self._pattern)} IN ({', '.join(f'lower({e})' for e in IDENTITY_SQL)})"
        if self._sessions is None:
            return own
        return f"({own}) OR lower(principal_arn) LIKE {sql_str(_glob_like(self._sessions))} ESCAPE '\\'"

    def test(self, row: Row) -> bool:
        values = (fold(v) for v in _identity_values(row) if v is not None)
        if is_glob(self._pattern):
            own = any(self._glob.matches(v) for v in values)
        else:
            own = any(v == self._pattern for v in values)
        if own or self._sessions_glob is None:
            return own
        arn = _text(row.get("principal_arn"))
        return arn is not None and self._sessions_glob.matches(fold(arn))

    def needles(self) -> tuple[bytes, ...]:
        # `/` splits the runs: the `actor` column joins a role's name and the session name with it.
        forms = [self._pattern, *([self._sessions] if self._sessions else [])]
        return any_needles(fragment_needle(form, "/") for form in forms)

    def needle_field(self) -> str:
        return "userIdentity"  # every value of IDENTITY_SQL is read from it (`events.identity_of`)


# --- what: the action -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Action(Filter):
    """Case-insensitive glob on `eventSource:eventName`, `service:eventName` or (no colon) `eventName`."""

    pattern: str

    @cached_property
    def _folded(self) -> str:
        return fold(self.pattern)

    @cached_property
    def _glob(self) -> Glob:
        return Glob(self._folded)

    def sql(self) -> str:
        like = sql_str(_glob_like(self._folded))
        if ":" in self.pattern:
            return (
                f"(lower(action) LIKE {like} ESCAPE '\\' "
                f"OR lower(event_source || ':' || event_name) LIKE {like} ESCAPE '\\')"
            )
        return f"lower(event_name) LIKE {like} ESCAPE '\\'"

    def test(self, row: Row) -> bool:
        glob = self._glob
        if ":" in self.pattern:
            return glob.matches(fold(row["action"])) or glob.matches(
                fold(f"{row['event_source']}:{row['event_name']}")
            )
        return glob.matches(fold(row["event_name"]))

    def needles(self) -> tuple[bytes, ...]:
        # `:` splits the runs: the action joins the service (or event source) and the event name.
        needle = fragment_needle(self._folded, ":")
        return (needle,) if needle else ()


# --- on what: the resource --------------------------------------------------------------------------------

_RESOURCE_TEXT = ("resources", "request_parameters", "response_elements")


@dataclass(frozen=True)
class Resource(Filter):
    """The resource a call names, in `resources`, the request parameters or the response elements.

    An ARN is matched as CloudTrail records its resource (`resource_arns.search_terms`: the ARN ending a
    string, or its id or name as a whole string); any other value (an id, a name, a key) as a substring of
    their JSON text. Case-sensitive.
    """

    value: str

    @cached_property
    def terms(self) -> tuple[resource_arns.Term, ...]:
        arn = resource_arns.parse(self.value)
        if arn:
            return resource_arns.search_terms(arn)
        # The JSON text holds `"`, `\` and control characters escaped: a value holding one (a bucket an
        # intruder named `a"b`) is also looked for as written there, so it cannot hide from its own name.
        written = json.dumps(self.value, ensure_ascii=False)[1:-1]
        return ((self.value,),) if written == self.value else ((self.value,), (written,))

    def sql(self) -> str:
        # One concatenated text (newline-separated) so a plain value appears once: a named query's `?`.
        text = " || chr(10) || ".join(f"coalesce({c}, '')" for c in _RESOURCE_TEXT)
        found = (" AND ".join(f"strpos({text}, {sql_str(part)}) > 0" for part in term) for term in self.terms)
        return " OR ".join(f"({x})" for x in found) if len(self.terms) > 1 else next(found)

    def test(self, row: Row) -> bool:
        text = "\n".join(_text(row.get(c)) or "" for c in _RESOURCE_TEXT)
        return any(all(part in text for part in term) for term in self.terms)

    def needles(self) -> tuple[bytes, ...]:
        def term_needle(term: resource_arns.Term) -> bytes | None:
            # a part ending in `\` is the end of a value inside embedded JSON: the needle stops before it
            found = [n for n in (literal_needle(p.removesuffix("\\")) for p in term) if n]
            return max(found, key=len) if found else None

        return any_needles(term_needle(t) for t in self.terms)


# --- from where, how, which event -------------------------------------------------------------------------


@dataclass(frozen=True)
class ColumnMatch(Filter):
    """A case-insensitive match on one text column: exact, or a `*`/`?` glob if GLOB."""

    column: str
    value: str
    glob: bool = True

    @cached_property
    def _folded(self) -> str:
        return fold(self.value)

    @cached_property
    def _glob(self) -> Glob | None:
        return Glob(self._folded) if self.glob and is_glob(self._folded) else None

    def sql(self) -> str:
        if self._glob is None:
            return f"lower({self.column}) = {sql_str(self._folded)}"
        return f"lower({self.column}) LIKE {sql_str(_glob_like(self._folded))} ESCAPE '\\'"

    def test(self, row: Row) -> bool:
        value = _text(row.get(self.column))
        if value is None:
            return False
        return fold(value) == self._folded if self._glob is None else self._glob.matches(fold(value))

    def needles(self) -> tuple[bytes, ...]:
        needle = fragment_needle(self._folded)  # for an exact value, a run of it is a substring too
        return (needle,) if needle else ()


def user_agent(pattern: str) -> ColumnMatch:
    return ColumnMatch("user_agent", pattern)


def event_id(value: str) -> ColumnMatch:
    return ColumnMatch("event_id", value, glob=False)


@dataclass(frozen=True)
class SourceIp(Filter):
    """The caller's address: a CIDR network (`203.0.113.0/24`, `2001:db8::/32`, see `addresses`), or
    exactly or by glob (`203.0.113.*`), case-insensitively (IPv6 hex, service names)."""

    pattern: str

    def __post_init__(self) -> None:
        if "/" in self.pattern:
            try:
                addresses.network(self.pattern)
            except ValueError:
                raise ValueError(
                    "not an IP address, glob or CIDR network: give e.g. 203.0.113.7, 203.0.113.*, "
                    "203.0.113.0/24 or 2001:db8::/32"
                ) from None

    @cached_property
    def _network(self) -> Any:
        return addresses.network(self.pattern) if "/" in self.pattern else None

    @cached_property
    def _text_match(self) -> ColumnMatch:
        return ColumnMatch("source_ip", self.pattern)

    def sql(self) -> str:
        if self._network is None:
            return self._text_match.sql()
        return addresses.in_network_sql("source_ip", self._network)

    def test(self, row: Row) -> bool:
        if self._network is None:
            return self._text_match.test(row)
        return addresses.in_network(_text(row.get("source_ip")), self._network)

    def needles(self) -> tuple[bytes, ...]:
        net = self._network
        if net is None:
            return self._text_match.needles()
        # An address in the network is written starting with the network's leading octets (IPv4 has no
        # leading zeros here) or its first group (IPv6, when not zero: only zero groups are compressed).
        if net.version == 4:
            octets = net.network_address.packed[: net.prefixlen // 8]
            text = "".join(f"{o}." for o in octets)
        else:
            first = int(net.network_address) >> 112
            text = f"{first:x}:" if net.prefixlen >= 16 and first else ""
        # A whole address only matches inside a JSON string: the JSON-syntax test of needles is not needed.
        needle = literal_needle(text, folded=True, in_string=True) if text else None
        return (needle,) if needle else ()


# --- the rest ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Regions(Filter):
    regions: tuple[str, ...]
    exclude: bool = False

    def sql(self) -> str:
        return f"aws_region {'NOT IN' if self.exclude else 'IN'} {sql_list(self.regions)}"

    def test(self, row: Row) -> bool:
        return (row.get("aws_region") in self.regions) != self.exclude


class Errors(Filter):
    def sql(self) -> str:
        return "error_code IS NOT NULL"

    def test(self, row: Row) -> bool:
        return row.get("error_code") is not None

    def needles(self) -> tuple[bytes, ...]:
        return (b'"errorCode"',)


class WriteOnly(Filter):
    """Calls that are not read-only (a record without readOnly counts as a write: never hide a change)."""

    def sql(self) -> str:
        return "coalesce(read_only, false) = false"

    def test(self, row: Row) -> bool:
        return not row.get("read_only")


class RootUsage(Filter):
    """The root user acting itself (CIS 4.3: not a service acting for it, not a service event)."""

    def sql(self) -> str:
        return (
            "identity_type = 'Root' AND invoked_by IS NULL AND coalesce(event_type, '') <> 'AwsServiceEvent'"
        )

    def test(self, row: Row) -> bool:
        return (
            row.get("identity_type") == "Root"
            and row.get("invoked_by") is None
            and row.get("event_type") != "AwsServiceEvent"
        )

    def needles(self) -> tuple[bytes, ...]:
        return (b'"Root"',)


class RiskySignIn(Filter):
    """Failed console sign-ins, and IAM users' successful sign-ins without MFA (CIS 4.2 and 4.6)."""

    def sql(self) -> str:
        return (
            "event_name = 'ConsoleLogin' AND (coalesce(console_login, '') = 'Failure' "
            "OR error_code IS NOT NULL OR (identity_type = 'IAMUser' AND console_login = 'Success' "
            "AND coalesce(mfa_used, '') <> 'Yes'))"
        )

    def test(self, row: Row) -> bool:
        if row.get("event_name") != "ConsoleLogin":
            return False
        if row.get("console_login") == "Failure" or row.get("error_code") is not None:
            return True
        return (
            row.get("identity_type") == "IAMUser"
            and row.get("console_login") == "Success"
            and row.get("mfa_used") != "Yes"
        )

    def needles(self) -> tuple[bytes, ...]:
        return (b"ConsoleLogin",)


class Denied(Filter):
    """Unauthorized calls, as CIS 4.1 defines them: `*UnauthorizedOperation` or `AccessDenied*`."""

    def sql(self) -> str:
        return "(error_code LIKE '%UnauthorizedOperation' OR error_code LIKE 'AccessDenied%')"

    def test(self, row: Row) -> bool:
        code = row.get("error_code") or ""
        return code.endswith("UnauthorizedOperation") or code.startswith("AccessDenied")

    def needles(self) -> tuple[bytes, ...]:
        return (b"UnauthorizedOperation", b"AccessDenied")


DELETION_PREFIXES = ("Delete", "Terminate", "Remove")


class Deletions(Filter):
    def sql(self) -> str:
        return "(" + " OR ".join(f"event_name LIKE '{p}%'" for p in DELETION_PREFIXES) + ")"

    def test(self, row: Row) -> bool:
        return row["event_name"].startswith(DELETION_PREFIXES)

    def needles(self) -> tuple[bytes, ...]:
        return tuple(p.encode() for p in DELETION_PREFIXES)


def where_sql(filters: Sequence[Filter]) -> str:
    return " AND ".join(f"({f.sql()})" for f in filters) or "true"


def accepts(filters: Sequence[Filter], row: Row) -> bool:
    return all(f.test(row) for f in filters)


def window_filters(window: Window) -> tuple[Filter, ...]:
    """The window as row filters: the key layout narrows files, these narrow records (and other exports)."""
    out: list[Filter] = []
    if window.since or window.until:
        out.append(TimeRange(window.since, window.until))
    if window.regions is not None:
        out.append(Regions(tuple(sorted(window.regions))))
    return tuple(out)


# What each option's value may be, for the message refusing an empty one.
_ACCEPTED: dict[Callable[[str], Filter], str] = {
    Actor: "a user, role or session name, an ARN, a key id or an account id, e.g. mallory or 'Admin*'",
    Action: "a glob on eventSource:eventName or eventName, e.g. 'ec2:*SecurityGroup*' or DeleteBucket",
    Resource: "an ARN, an id or a name, e.g. sg-0123456789abcdef0 or arn:aws:s3:::my-bucket",
    SourceIp: "an address, a glob or a CIDR network, e.g. 203.0.113.7, 203.0.113.* or 203.0.113.0/24",
    user_agent: "a glob on the user agent, e.g. '*Boto3*'",
    event_id: "a CloudTrail eventID",
}


def option_filter(
    flag: str, values: Sequence[str] | None, make: Callable[[str], Filter], *, exclude: bool = False
) -> list[Filter]:
    """The filter of a repeatable option: a row passes if it matches one of VALUES (EXCLUDE: none of them);
    [] when none is given. An empty value is refused: it would match nothing, or everything."""
    made: list[Filter] = []
    for value in values or ():
        if not value.strip():
            accepted = _ACCEPTED.get(make, "a value to match")
            raise UserError(f"{flag} {value!r}: empty, which matches nothing; give {accepted}.")
        try:
            made.append(make(value))
        except ValueError as exc:
            raise UserError(f"{flag} {value!r}: {exc}.") from None
    if not made:
        return []
    chosen = made[0] if len(made) == 1 else AnyOf(tuple(made))
    return [Not(chosen) if exclude else chosen]
