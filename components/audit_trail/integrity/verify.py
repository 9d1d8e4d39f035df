"""`verify`: a trail's digest chain and log files over a time window, as `aws cloudtrail validate-logs` does,
and the hourly continuity of the digests, which it does not check.

For every digest file in the window: it sits where it says it does, its SHA256withRSA signature verifies
with the public key of its region that its fingerprint names and that was valid when it was signed; only then
is its link to the previous digest followed (inside the trail's own digest folder) and checked (that digest's
hash and signature), and every log file it lists hashed (SHA-256 of the uncompressed file). Then `continuity`
tells, hour by hour, what valid digests cover, so a deleted digest is named by its hour even when no log file
or later digest points at it; and every log file of the window that no valid digest lists is a finding, once
the digest that would list it is due. The steps are those of the AWS pages named in `digests` and
`continuity`.
"""

from __future__ import annotations

import bisect
import functools
import os
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any

from ..aws_errors import explain, is_aws_error
from ..cloudtrail_layout import (
    DIGEST_FOLDER,
    LOG_FOLDER,
    DigestName,
    digest_name,
    find_accounts,
    join_key,
    log_file_time,
    parse_digest_name,
)
from ..errors import CannotRunError, UserError
from ..store import Store, TooLarge
from ..times import iso, utc_day
from ..visible_text import visible
from .continuity import (
    DELIVERY_DELAY,
    DIGEST_PERIOD,
    Coverage,
    Gap,
    Period,
    Span,
    gaps,
    hours_text,
    timeline,
)
from .digests import (
    HASH_ALGORITHM,
    MAX_DIGEST_BYTES,
    MAX_LOG_READ_BYTES,
    SIGNATURE_ALGORITHM,
    Digest,
    DigestError,
    LogEntry,
    parse_digest,
    sha256_of_gzip,
    signature_valid,
    string_to_sign,
)
from .public_keys import KeyProvider, PublicKey


class Problem(StrEnum):
    LOG_MODIFIED = "log modified"
    LOG_DELETED = "log deleted"
    UNEXPECTED = "unexpected file"
    UNDIGESTED = "undigested"
    DIGEST_MISSING = "digest missing"
    BAD_SIGNATURE = "digest bad signature"
    DIGEST_INVALID = "digest invalid"
    CHAIN_BROKEN = "chain broken"
    NO_DIGESTS = "no digests"
    CHAIN_RESTARTED = "chain restarted"
    PREVIOUS_MISSING = "previous digest missing"


WARNINGS = frozenset({Problem.CHAIN_RESTARTED, Problem.PREVIOUS_MISSING})


@dataclass(frozen=True)
class Finding:
    problem: Problem
    account: str
    region: str
    key: str
    detail: str

    @property
    def result(self) -> str:
        return "WARN" if self.problem in WARNINGS else "FAIL"

    def row(self) -> dict[str, Any]:
        return {"result": self.result, **asdict(self), "problem": self.problem.value}


def _hours(length: timedelta) -> float:
    return round(length / timedelta(hours=1), 2)


@dataclass
class RegionResult:
    """One account and region: counts, and the window hour by hour (`timeline`, see `continuity`)."""

    account: str
    region: str
    trails: set[str] = field(default_factory=set)
    digests: int = 0
    digests_valid: int = 0
    backfill: int = 0
    log_files: int = 0
    log_files_valid: int = 0
    pending: int = 0
    """Log files no digest lists yet, whose digest is not due."""
    counts: dict[Problem, int] = field(default_factory=lambda: defaultdict(int))
    timeline: list[Period] = field(default_factory=list)

    @property
    def result(self) -> str:
        return "FAIL" if any(n for p, n in self.counts.items() if p not in WARNINGS) else "PASS"

    @property
    def gaps(self) -> list[Gap]:
        """Each stretch no valid digest covers (missing, invalid, restart, pending), with start and end."""
        return gaps(self.timeline)

    def hours(self, coverage: Coverage) -> float:
        return _hours(sum((p.length for p in self.timeline if p.coverage is coverage), timedelta()))

    def row(self) -> dict[str, Any]:
        """Every count, for JSON and CSV."""
        c = self.counts
        return {
            "account": self.account,
            "region": self.region,
            "trail": ",".join(sorted(self.trails)),
            "digests": self.digests,
            "digests_valid": self.digests_valid,
            "backfill_digests": self.backfill,
            "bad_signature": c[Problem.BAD_SIGNATURE],
            "digests_invalid": c[Problem.DIGEST_INVALID],
            "digests_missing": c[Problem.DIGEST_MISSING],
            "chain_broken": c[Problem.CHAIN_BROKEN],
            **{f"hours_{k.value}": self.hours(k) for k in Coverage},
            "log_files": self.log_files,
            "log_files_valid": self.log_files_valid,
            "modified": c[Problem.LOG_MODIFIED],
            "deleted": c[Problem.LOG_DELETED],
            "unexpected": c[Problem.UNEXPECTED],
            "undigested": c[Problem.UNDIGESTED],
            "not_yet_digested": self.pending,
            "result": self.result,
        }

    def brief(self) -> dict[str, Any]:
        """The same, narrow enough for a terminal table."""
        problems = ", ".join(f"{p.value}: {n}" for p, n in sorted(self.counts.items()) if n) or "none"
        total = _hours(sum((p.length for p in self.timeline), timedelta()))
        pending = self.hours(Coverage.PENDING)
        return {
            "account": self.account,
            "region": self.region,
            "trail": ",".join(sorted(self.trails)),
            "digests (valid)": f"{self.digests} ({self.digests_valid})",
            "hours covered": f"{hours_text(self.hours(Coverage.COVERED))} of {hours_text(total)}",
            "log files (valid)": f"{self.log_files} ({self.log_files_valid})",
            "pending": f"{hours_text(pending)} h, {self.pending} log files"
            if pending or self.pending
            else "none",
            "problems": problems,
            "result": self.result,
        }


@dataclass
class VerifyReport:
    source: str
    since: datetime
    until: datetime
    now: datetime
    delay: timedelta
    regions: list[RegionResult]
    findings: list[Finding]
    judged: frozenset[str] = frozenset()
    """The keys of the log files this run has a verdict on: listed in a valid digest (and so hashed), or in
    the window's log folders and named for its hours (so flagged when no valid digest lists them, or
    pending). A file a question over the window reads that is not among them is one nothing here proves:
    delivered outside the window's hours, or filed outside CloudTrail's day folders."""

    @property
    def ok(self) -> bool:
        return not any(f.result == "FAIL" for f in self.findings)

    @property
    def vouched(self) -> frozenset[str]:
        """The keys of the log files judged and found wanting in nothing: listed in a valid digest and intact,
        or not due in one yet."""
        return self.judged - {f.key for f in self.findings if f.result == "FAIL"}

    def summary(self) -> str:
        """One paragraph an auditor can paste: what was checked, over which window, and the verdict."""
        window = f"{iso(self.since)} to {iso(self.until)}"
        digests = sum(r.digests for r in self.regions)
        backfill = sum(r.backfill for r in self.regions)
        logs = sum(r.log_files for r in self.regions)
        covered = sum(r.hours(Coverage.COVERED) for r in self.regions)
        total = sum(_hours(sum((p.length for p in r.timeline), timedelta())) for r in self.regions)
        # The names are the bucket's folders: shown as escapes, a line break in one cannot start a verdict
        where = ", ".join(visible(f"{r.account}/{r.region}") for r in self.regions) or "no account/region"
        checked = (
            f"{visible(self.source)}, {where}, {window}: {digests} digest files"
            + (f" ({backfill} backfill)" if backfill else "")
            + f" and {logs} log files checked, {hours_text(covered)} of {hours_text(total)} region-hours "
            "covered by a valid digest (SHA256withRSA signatures with each region's CloudTrail keys, digest "
            "chain, a digest for every hour, SHA-256 of every log file, no log file outside the digests)."
        )
        failures = [f for f in self.findings if f.result == "FAIL"]
        warnings = [f for f in self.findings if f.result == "WARN"]
        if failures:
            by_kind: dict[str, int] = defaultdict(int)
            for f in failures:
                by_kind[f.problem.value] += 1
            verdict = "FAIL - " + ", ".join(f"{kind}: {n}" for kind, n in sorted(by_kind.items())) + "."
        else:
            verdict = (
                "PASS - every hour of the window has a valid digest, every log file is listed and intact; "
                "none modified, deleted, unexpected."
            )
        pending_hours = sum(r.hours(Coverage.PENDING) for r in self.regions)
        pending_logs = sum(r.pending for r in self.regions)
        if pending_hours or pending_logs:
            verdict += (
                f" Not yet due (digests arrive up to {hours_text(_hours(self.delay))} h after their hour): "
                f"{hours_text(pending_hours)} region-hours, {pending_logs} log files; run again later to "
                "cover them."
            )
        if warnings:
            verdict += f" {len(warnings)} warning(s), listed above."
        return f"{checked}\n{verdict}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "since": self.since,
            "until": self.until,
            "checked_at": self.now,
            "delivery_delay_hours": _hours(self.delay),
            "ok": self.ok,
            "regions": [{**r.row(), "gaps": [g.row() for g in r.gaps]} for r in self.regions],
            "findings": [f.row() for f in self.findings],
            "summary": self.summary(),
        }


def not_judged(
    report: VerifyReport, store: Store, locations: Iterable[str], later: VerifyReport | None = None
) -> list[str]:
    """Those of LOCATIONS (the files a question over REPORT's window reads, from STORE) REPORT has no verdict
    on (`VerifyReport.judged`), unless LATER (a run over the hours after the window) vouches for them: a
    question over a window also reads the day folder after it, for events delivered late, and the hours
    of its first day before `since`; a file there that no digest of the window lists is proven by nothing
    in REPORT."""
    judged = {os.path.normpath(store.location(key)) for key in report.judged}
    if later is not None:
        judged |= {os.path.normpath(store.location(key)) for key in later.vouched}
    return [location for location in locations if os.path.normpath(location) not in judged]


def _days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def _day_path(base: str, day: date) -> str:
    return f"{base}/{day:%Y/%m/%d}"


@dataclass(frozen=True)
class _Folder:
    """Where one account and region's files are: its digest and log folders."""

    account: str
    region: str
    digests: str
    logs: str

    def holds_digest(self, key: str) -> DigestName | None:
        """KEY's digest name if KEY is a digest of this account and region inside its digest folder."""
        name = parse_digest_name(key)
        if name is None or not _inside(key, self.digests):
            return None
        return name if (name.account, name.region) == (self.account, self.region) else None

    def holds_log(self, key: str) -> bool:
        return _inside(key, self.logs) and log_file_time(key) is not None


def _inside(key: str, folder: str) -> bool:
    """KEY is a plain key under FOLDER (no `.` or `..` segment that could lead out of it)."""
    rest = key[len(folder) + 1 :].split("/")
    return key.startswith(folder + "/") and not any(p in ("", ".", "..") for p in rest)


Loaded = Digest | DigestError | None


class _Run:
    def __init__(
        self,
        store: Store,
        keys: KeyProvider,
        since: datetime,
        until: datetime,
        now: datetime,
        delay: timedelta,
        workers: int,
    ) -> None:
        self.store = store
        self.keys = keys
        self.since = since
        self.until = until
        self.now = now
        self.delay = delay
        self.workers = workers
        self.findings: list[Finding] = []
        self.results: dict[tuple[str, str], RegionResult] = {}
        self.judged: set[str] = set()

    def flag(self, problem: Problem, account: str, region: str, key: str, detail: str) -> None:
        self.findings.append(Finding(problem, account, region, key, detail))
        self.results[(account, region)].counts[problem] += 1

    # --- digests -----------------------------------------------------------------------------------------

    def load(self, key: str, backfill: bool) -> Loaded:
        """The digest at KEY, read with a bound: None if absent, DigestError if it is not a digest."""
        try:
            blob = self.store.get(key, limit=MAX_DIGEST_BYTES)
        except TooLarge:
            return DigestError(f"larger than {MAX_DIGEST_BYTES >> 20} MiB: not a digest CloudTrail wrote")
        if blob is None:
            return None
        try:
            return parse_digest(key, blob.body, blob.metadata, backfill)
        except DigestError as exc:
            return exc

    def check_digest(
        self, d: Digest, region: str, public_keys: Mapping[str, PublicKey]
    ) -> tuple[Problem, str] | None:
        """Why digest D is not valid (location, signature, key), or None."""
        if d.fields["digestS3Object"] != d.key or (self.store.bucket and d.bucket != self.store.bucket):
            return Problem.DIGEST_INVALID, (
                f"moved: it names s3://{d.bucket}/{d.fields['digestS3Object']} as its location"
            )
        if not d.signature:
            return (
                Problem.BAD_SIGNATURE,
                "no signature (object metadata `signature`, or the .meta.json beside it)",
            )
        if (d.signature_algorithm or SIGNATURE_ALGORITHM) != SIGNATURE_ALGORITHM:
            return Problem.BAD_SIGNATURE, f"unsupported signature algorithm {d.signature_algorithm!r}"
        public_key = public_keys.get(d.fingerprint)
        if public_key is None:
            return Problem.BAD_SIGNATURE, (
                f"names public key {d.fingerprint!r}, which is not among the {len(public_keys)} CloudTrail "
                f"public keys of {region}: a forged digest names a key CloudTrail never used there"
            )
        if not public_key.valid_at(d.signed_at):
            return Problem.BAD_SIGNATURE, (
                f"public key {d.fingerprint} is valid from {iso(public_key.valid_from)} to "
                f"{iso(public_key.valid_until)}, not at {iso(d.signed_at)} when this digest was signed"
            )
        if not signature_valid(public_key.key, d.signature, string_to_sign(d.fields, d.content)):
            return Problem.BAD_SIGNATURE, f"signature does not verify with public key {d.fingerprint}"
        return None

    def check_link(self, folder: _Folder, d: Digest, loaded: dict[str, Loaded], gone: set[str]) -> None:
        """D's (a valid digest's) record of its previous digest against that digest. The reference is
        followed only inside the trail's own digest folder; a previous digest the window should hold but
        does not goes into GONE."""
        prev_key = d.previous_key
        if prev_key is None:
            return  # a starting digest: the timeline tells what precedes it
        account, region = folder.account, folder.region
        name = folder.holds_digest(prev_key)
        if d.previous_bucket != d.bucket or name is None:
            self.flag(
                Problem.CHAIN_BROKEN,
                account,
                region,
                d.key,
                f"names s3://{d.previous_bucket}/{prev_key} as its previous digest, outside the trail's "
                f"digest folder {folder.digests}/: not followed",
            )
            return
        if prev_key in loaded:
            prev = loaded[prev_key]
        elif name.end > self.since:
            gone.add(prev_key)  # in the window's listing range, and not listed: it is not there
            return
        else:  # the digest just before the window: read to check the first link
            prev = self.load(prev_key, name.backfill)
            if prev is None:
                self.flag(
                    Problem.PREVIOUS_MISSING,
                    account,
                    region,
                    prev_key,
                    f"the digest before the window, named by {d.key}, is gone (expired by lifecycle?)",
                )
                return
        if prev is None:
            return  # listed, then gone while reading: reported where it is listed
        if isinstance(prev, DigestError):
            if prev_key not in loaded:  # a listed one is reported where it is listed
                self.flag(Problem.CHAIN_BROKEN, account, region, prev_key, f"named by {d.key}: {prev}")
            return
        wrong = []
        if d.fields.get("previousDigestHashValue") != prev.hash:
            wrong.append(
                f"previousDigestHashValue {d.fields.get('previousDigestHashValue')} != SHA-256 {prev.hash}"
            )
        if prev.signature and d.fields.get("previousDigestSignature") != prev.signature:
            wrong.append("previousDigestSignature differs from the previous digest's signature")
        if wrong:
            self.flag(Problem.CHAIN_BROKEN, account, region, prev_key, f"{d.key}: {'; '.join(wrong)}")

    # --- log files ---------------------------------------------------------------------------------------

    def check_log(self, entry: LogEntry) -> tuple[Problem, str] | None:
        try:
            blob = self.store.get(entry.key, limit=MAX_LOG_READ_BYTES)
        except TooLarge:
            return Problem.LOG_MODIFIED, (
                f"larger than the {MAX_LOG_READ_BYTES >> 20} MiB verify reads of a log file; CloudTrail "
                "writes files of a few MB"
            )
        if blob is None:
            return Problem.LOG_DELETED, "listed in a valid digest, not found"
        if entry.hash_algorithm != HASH_ALGORITHM:
            return Problem.LOG_MODIFIED, f"unsupported hash algorithm {entry.hash_algorithm!r}"
        try:
            actual = sha256_of_gzip(blob.body)
        except DigestError as exc:
            return Problem.LOG_MODIFIED, str(exc)
        if actual != entry.hash_value:
            return Problem.LOG_MODIFIED, f"SHA-256 {actual}, digest records {entry.hash_value}"
        return None

    # --- the run -----------------------------------------------------------------------------------------

    def run(self, accounts: list[tuple[str, str]], regions: Collection[str] | None) -> None:
        for account, account_path in accounts:
            digest_root = join_key(account_path, DIGEST_FOLDER)
            log_root = join_key(account_path, LOG_FOLDER)
            with_digests = set(self.store.listdir(digest_root)[0])
            found = with_digests | set(self.store.listdir(log_root)[0])
            for region in sorted(found if regions is None else regions):
                folder = _Folder(account, region, join_key(digest_root, region), join_key(log_root, region))
                asked = regions is not None or region in with_digests
                self.verify_region(folder, asked)
        if not self.results:
            self.results[("-", "-")] = RegionResult("-", "-")
            self.flag(
                Problem.NO_DIGESTS,
                "-",
                "-",
                self.store.describe(),
                f"no {DIGEST_FOLDER} folder for the accounts/regions asked",
            )

    def list_digests(self, folder: _Folder) -> list[tuple[datetime, str, DigestName]]:
        """The digests whose hour ends in (since, until + 1 h]: the last also lists log files delivered
        late in the window's final hour."""
        listed = []
        for day in _days(utc_day(self.since), utc_day(self.until + DIGEST_PERIOD)):
            path = _day_path(folder.digests, day)
            for entry in self.store.listdir(path)[1]:
                key = f"{path}/{entry.name}"
                name = folder.holds_digest(key)
                if name is None:
                    self.flag(
                        Problem.UNEXPECTED,
                        folder.account,
                        folder.region,
                        key,
                        "not a CloudTrail digest file name of this account and region",
                    )
                elif utc_day(name.end) != day:  # CloudTrail files a digest under the day its hour ends
                    self.flag(
                        Problem.UNEXPECTED,
                        folder.account,
                        folder.region,
                        key,
                        f"a digest ending {iso(name.end)}, filed under {day:%Y/%m/%d}",
                    )
                elif self.since < name.end <= self.until + DIGEST_PERIOD:
                    listed.append((name.end, key, name))
        return sorted(listed)

    def list_logs(self, folder: _Folder) -> list[tuple[str, date]]:
        """Every file in the log folders of the window's days, with the day of its folder."""
        last = utc_day(max(self.since, self.until - timedelta(microseconds=1)))
        return [
            (f"{path}/{entry.name}", day)
            for day in _days(utc_day(self.since), last)
            for path in [_day_path(folder.logs, day)]
            for entry in self.store.listdir(path)[1]
        ]

    def verify_region(self, folder: _Folder, asked: bool) -> None:
        account, region = folder.account, folder.region
        result = self.results[(account, region)] = RegionResult(account, region)
        listed = self.list_digests(folder)
        log_keys = self.list_logs(folder)
        if not listed and not asked and not log_keys and not result.counts:
            del self.results[(account, region)]  # a log folder with nothing in the window, and no digests
            return
        with ThreadPoolExecutor(self.workers) as pool:
            loaded: dict[str, Loaded] = dict(
                zip(
                    (key for _, key, _ in listed),
                    pool.map(lambda item: self.load(item[1], item[2].backfill), listed),
                    strict=True,
                )
            )
        region_keys = functools.cache(lambda start, end: self.keys(region, start, end))
        readable = [d for d in loaded.values() if isinstance(d, Digest) and d.generated is None]
        # One ListPublicKeys range for the hourly digests; each backfill digest asks around its generation.
        hourly = (
            min((d.start for d in readable), default=self.since),
            max((d.end for d in readable), default=self.until),
        )

        spans: list[Span] = []
        valid: list[Digest] = []
        for end, key, name in listed:
            d = loaded[key]
            if name.backfill:
                result.backfill += 1
            else:
                result.digests += 1
            claimed = Span(key, end - DIGEST_PERIOD, end, valid=False)
            if d is None:
                self.flag(Problem.DIGEST_MISSING, account, region, key, "listed, then gone while reading")
            elif isinstance(d, DigestError):
                self.flag(Problem.DIGEST_INVALID, account, region, key, str(d))
            else:
                if d.generated is not None:
                    keys = region_keys(d.generated - DIGEST_PERIOD, d.generated + DIGEST_PERIOD)
                else:
                    keys = region_keys(*hourly)
                why = self.check_digest(d, region, keys)
                if why is not None:
                    self.flag(why[0], account, region, key, why[1])
                else:
                    valid.append(d)
                    result.trails.add(name.trail)
                    if not name.backfill:
                        result.digests_valid += 1
                        spans.append(Span(key, d.start, d.end, True, d.previous_key is None, d.previous_key))
                    continue
            if not name.backfill:
                spans.append(claimed)

        gone: set[str] = set()
        for d in valid:  # only a digest whose signature verified steers a read
            self.check_link(folder, d, loaded, gone)

        entries: dict[str, LogEntry] = {}
        for d in valid:
            for entry in d.log_files:
                if entry.bucket != d.bucket or not folder.holds_log(entry.key):
                    self.flag(
                        Problem.DIGEST_INVALID,
                        account,
                        region,
                        d.key,
                        f"lists s3://{entry.bucket}/{entry.key}, outside the trail's log folder "
                        f"{folder.logs}/: not read",
                    )
                else:
                    entries.setdefault(entry.key, entry)
        self.judged.update(entries)
        with ThreadPoolExecutor(self.workers) as pool:
            outcomes = list(pool.map(self.check_log, entries.values()))
        for entry, outcome in zip(entries.values(), outcomes, strict=True):
            result.log_files += 1
            if outcome is None:
                result.log_files_valid += 1
            else:
                self.flag(outcome[0], account, region, entry.key, outcome[1])

        result.timeline = timeline(
            self.since,
            self.until,
            spans,
            now=self.now,
            delay=self.delay,
            expected=_namer(folder, [parse_digest_name(d.key) for d in valid] + [n for _, _, n in listed]),
        )
        self.report_timeline(folder, result, gone, has_digests=bool(listed))
        self.find_unlisted(folder, result, log_keys, set(entries))

    def report_timeline(
        self, folder: _Folder, result: RegionResult, gone: set[str], has_digests: bool
    ) -> None:
        account, region = folder.account, folder.region
        if not has_digests:
            if all(p.coverage is Coverage.PENDING for p in result.timeline):
                return  # a window so recent that no digest is due yet: nothing proven, nothing missing
            self.flag(
                Problem.NO_DIGESTS,
                account,
                region,
                folder.digests,
                "no digest file in the window: was log file validation on, and is the window right?",
            )
            return
        named: set[str] = set()
        for p in result.timeline:
            if p.coverage is Coverage.MISSING:
                named.add(p.digest)
                self.flag(
                    Problem.DIGEST_MISSING,
                    account,
                    region,
                    p.digest or folder.digests,
                    f"no digest covers {iso(p.start)} to {iso(p.end)} in {region}, and CloudTrail writes one "
                    "every hour: deleted",
                )
        for key in sorted(gone - named):
            self.flag(
                Problem.DIGEST_MISSING, account, region, key, "named as previous digest by a valid digest"
            )
        for gap in result.gaps:
            if gap.coverage is Coverage.RESTART:
                self.flag(
                    Problem.CHAIN_RESTARTED,
                    account,
                    region,
                    folder.digests,
                    f"no digest covers {iso(gap.start)} to {iso(gap.end)} ({hours_text(gap.hours)} h): a "
                    "new chain starts after it, so validation or logging was off; log files delivered then "
                    "are unproven",
                )

    def find_unlisted(
        self, folder: _Folder, result: RegionResult, files: list[tuple[str, date]], listed: set[str]
    ) -> None:
        """Files in the window's log folders that no valid digest lists: planted, or their digest is gone."""
        account, region = folder.account, folder.region
        starts = [p.start for p in result.timeline]
        for key, day in files:
            if key in listed:
                continue
            t = log_file_time(key)
            if t is None:
                self.judged.add(key)
                self.flag(Problem.UNEXPECTED, account, region, key, "not a CloudTrail log file name")
                continue
            if utc_day(t) != day:  # CloudTrail files a log file under the day it delivered it
                self.judged.add(key)
                self.flag(
                    Problem.UNEXPECTED,
                    account,
                    region,
                    key,
                    f"named for {iso(t)}, filed under {day:%Y/%m/%d}",
                )
                continue
            if not self.since <= t < self.until:
                continue
            self.judged.add(key)
            if t + DIGEST_PERIOD + self.delay > self.now:
                result.pending += 1  # the digest that will list it is not due yet
                continue
            period = (
                result.timeline[bisect.bisect_right(starts, t) - 1] if starts and starts[0] <= t else None
            )
            if period is not None and period.coverage is Coverage.COVERED:
                self.flag(
                    Problem.UNEXPECTED,
                    account,
                    region,
                    key,
                    f"in the log folder, listed in no digest (the digest of its hour is {period.digest})",
                )
            else:
                coverage = period.coverage.value if period else "outside the digests"
                self.flag(
                    Problem.UNDIGESTED,
                    account,
                    region,
                    key,
                    f"listed in no valid digest, and due in one by {iso(t + DIGEST_PERIOD + self.delay)} "
                    f"(its hour is {coverage}): unproven, or planted",
                )


def _namer(folder: _Folder, names: list[DigestName | None]) -> Callable[[datetime], str]:
    """The key CloudTrail gives the digest ending at a moment, named like the first of NAMES (the region's
    valid digests first): its trail and home region. Empty when there is none to name it after."""
    model = next((n for n in names if n is not None and not n.backfill), None)

    def expected(end: datetime) -> str:
        if model is None:
            return ""
        name = DigestName(folder.account, folder.region, model.trail, model.home_region, end)
        return f"{_day_path(folder.digests, utc_day(end))}/{digest_name(name)}"

    return expected


def _account_paths(store: Store, prefix: str, accounts: Collection[str] | None) -> list[tuple[str, str]]:
    """The account folders of the layout at or below PREFIX: a trail's key prefix is found by itself."""
    dirs = functools.cache(lambda path: store.listdir(path)[0])  # each folder is listed once
    found = find_accounts(dirs, prefix)
    if not found:
        raise CannotRunError(
            f"{store.describe()}: nothing under {join_key(prefix, 'AWSLogs')}/ or below it. Give the bucket "
            "and key prefix of the trail (the prefix is the trail's S3 key prefix, without AWSLogs/), or the "
            "folder `audit-trail fetch` wrote."
        )
    return [(a, p) for a, p in found if accounts is None or a in accounts]


def verify_logs(
    store: Store,
    keys: KeyProvider,
    since: datetime,
    until: datetime,
    *,
    prefix: str = "",
    accounts: Collection[str] | None = None,
    regions: Collection[str] | None = None,
    now: datetime | None = None,
    delay: timedelta = DELIVERY_DELAY,
    workers: int = 8,
) -> VerifyReport:
    """Validate every digest whose hour ends in (SINCE, UNTIL + 1h], the log files they list, and that every
    hour of [SINCE, UNTIL) has a valid digest once due (NOW, default the current time, minus DELAY)."""
    if since >= until:
        raise UserError(f"--since {iso(since)} is not before --until {iso(until)}.")
    now = now or datetime.now(UTC)
    run = _Run(store, keys, since, until, now, delay, workers)
    try:
        run.run(_account_paths(store, prefix.strip("/"), accounts), regions)
    except Exception as exc:
        if not is_aws_error(exc):
            raise
        region = getattr(getattr(getattr(store, "client", None), "meta", None), "region_name", None)
        raise explain(
            exc,
            action="reading",
            resource=store.describe(),
            region=region,
            need="s3:ListBucket and s3:GetObject on the bucket, kms:Decrypt on its key for SSE-KMS logs",
        ) from None
    ordered = sorted(run.results.values(), key=lambda r: (r.account, r.region))
    return VerifyReport(
        store.describe() + (f"/{prefix.strip('/')}" if prefix.strip("/") else ""),
        since,
        until,
        now,
        delay,
        ordered,
        run.findings,
        frozenset(run.judged),
    )
