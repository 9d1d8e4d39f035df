"""`verify`: a trail's digest chain and log files over a time window, as `aws cloudtrail validate-logs` does.

For every digest file in the window: it sits where it says it does, its SHA256withRSA signature verifies with
the public key its fingerprint names, it links to the previous digest (that digest's signature and hash), and
every log file it lists has the SHA-256 it records (of the uncompressed file). Log files no digest lists are
reported as unexpected. The steps are those of the AWS page named in `digests`.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable, Collection, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa

from ..cloudtrail_layout import find_accounts, join_key, log_file_time, parse_digest_name
from ..errors import UserError
from ..store import Store
from ..times import parse_instant, utc_day
from .digests import (
    HASH_ALGORITHM,
    SIGNATURE_ALGORITHM,
    Digest,
    DigestError,
    gunzip,
    parse_digest,
    sha256_hex,
    signature_valid,
    string_to_sign,
)

DIGEST_PERIOD = timedelta(hours=1)
# A log file is delivered within minutes of the time in its name; newer than (last digest end - this), the
# digest that will list it may not exist yet.
DELIVERY_SLACK = timedelta(minutes=15)

# (region, start, end) -> fingerprint -> public key
KeyProvider = Callable[[str, datetime, datetime], Mapping[str, rsa.RSAPublicKey]]


class Problem(StrEnum):
    LOG_MODIFIED = "log modified"
    LOG_DELETED = "log deleted"
    UNEXPECTED = "unexpected file"
    DIGEST_DELETED = "digest deleted"
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


@dataclass
class RegionResult:
    account: str
    region: str
    trails: set[str] = field(default_factory=set)
    digests: int = 0
    digests_valid: int = 0
    log_files: int = 0
    log_files_valid: int = 0
    pending: int = 0
    counts: dict[Problem, int] = field(default_factory=lambda: defaultdict(int))

    @property
    def result(self) -> str:
        return "FAIL" if any(n for p, n in self.counts.items() if p not in WARNINGS) else "PASS"

    def row(self) -> dict[str, Any]:
        """Every count, for JSON and CSV."""
        c = self.counts
        return {
            "account": self.account,
            "region": self.region,
            "trail": ",".join(sorted(self.trails)),
            "digests": self.digests,
            "digests_valid": self.digests_valid,
            "bad_signature": c[Problem.BAD_SIGNATURE],
            "digests_invalid": c[Problem.DIGEST_INVALID],
            "digests_deleted": c[Problem.DIGEST_DELETED],
            "chain_broken": c[Problem.CHAIN_BROKEN],
            "log_files": self.log_files,
            "log_files_valid": self.log_files_valid,
            "modified": c[Problem.LOG_MODIFIED],
            "deleted": c[Problem.LOG_DELETED],
            "unexpected": c[Problem.UNEXPECTED],
            "not_yet_digested": self.pending,
            "result": self.result,
        }

    def brief(self) -> dict[str, Any]:
        """The same, narrow enough for a terminal table."""
        problems = ", ".join(f"{p.value}: {n}" for p, n in sorted(self.counts.items()) if n) or "none"
        return {
            "account": self.account,
            "region": self.region,
            "trail": ",".join(sorted(self.trails)),
            "digests (valid)": f"{self.digests} ({self.digests_valid})",
            "log files (valid)": f"{self.log_files} ({self.log_files_valid})",
            "problems": problems,
            "result": self.result,
        }


@dataclass
class VerifyReport:
    source: str
    since: datetime
    until: datetime
    regions: list[RegionResult]
    findings: list[Finding]

    @property
    def ok(self) -> bool:
        return not any(f.result == "FAIL" for f in self.findings)

    def summary(self) -> str:
        """One paragraph an auditor can paste: what was checked, over which window, and the verdict."""
        window = f"{self.since:%Y-%m-%dT%H:%M:%SZ} to {self.until:%Y-%m-%dT%H:%M:%SZ}"
        digests = sum(r.digests for r in self.regions)
        logs = sum(r.log_files for r in self.regions)
        where = ", ".join(f"{r.account}/{r.region}" for r in self.regions) or "no account/region"
        checked = (
            f"{self.source}, {where}, {window}: {digests} digest files and {logs} log files checked "
            f"(SHA256withRSA digest signatures, digest chain, SHA-256 of every log file)."
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
                "PASS - every digest and log file in the window is valid; none modified, deleted, unexpected."
            )
        if warnings:
            verdict += f" {len(warnings)} warning(s), listed above."
        return f"{checked}\n{verdict}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "since": self.since,
            "until": self.until,
            "ok": self.ok,
            "regions": [r.row() for r in self.regions],
            "findings": [f.row() for f in self.findings],
            "summary": self.summary(),
        }


def _days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def _day_path(base: str, day: date) -> str:
    return f"{base}/{day:%Y/%m/%d}"


def _start_of(digest: Digest | DigestError | None, end: datetime) -> datetime:
    start = parse_instant(digest.fields.get("digestStartTime")) if isinstance(digest, Digest) else None
    return start or end - DIGEST_PERIOD


class _Run:
    def __init__(
        self,
        store: Store,
        keys: KeyProvider,
        since: datetime,
        until: datetime,
        workers: int,
    ) -> None:
        self.store = store
        self.keys = keys
        self.since = since
        self.until = until
        self.workers = workers
        self.findings: list[Finding] = []
        self.results: dict[tuple[str, str], RegionResult] = {}
        self.digests: dict[str, Digest] = {}  # every readable digest listed in the window, by key

    def flag(self, problem: Problem, account: str, region: str, key: str, detail: str) -> None:
        self.findings.append(Finding(problem, account, region, key, detail))
        self.results[(account, region)].counts[problem] += 1

    # --- digests -----------------------------------------------------------------------------------------

    def load(self, key: str, bucket: str | None = None) -> Digest | DigestError | None:
        blob = self.store.get(key, bucket)
        if blob is None:
            return None
        try:
            return parse_digest(
                key, blob.body, blob.metadata.get("signature"), blob.metadata.get("signature-algorithm")
            )
        except DigestError as exc:
            return exc

    def check_digest(
        self, d: Digest, public_keys: Mapping[str, rsa.RSAPublicKey]
    ) -> tuple[Problem, str] | None:
        """Why digest D is not valid (location, signature), or None."""
        named_bucket = d.fields.get("digestS3Bucket")
        if d.fields.get("digestS3Object") != d.key or (
            self.store.bucket and named_bucket != self.store.bucket
        ):
            return Problem.DIGEST_INVALID, (
                f"moved: it names s3://{named_bucket}/{d.fields.get('digestS3Object')} as its location"
            )
        if not d.signature:
            return (
                Problem.BAD_SIGNATURE,
                "no signature (object metadata `signature`, or the .meta.json beside it)",
            )
        if (d.signature_algorithm or SIGNATURE_ALGORITHM) != SIGNATURE_ALGORITHM:
            return Problem.BAD_SIGNATURE, f"unsupported signature algorithm {d.signature_algorithm!r}"
        fingerprint = str(d.fields.get("digestPublicKeyFingerprint", "")).lower()
        public_key = public_keys.get(fingerprint)
        if public_key is None:
            return Problem.BAD_SIGNATURE, (
                f"no public key with fingerprint {fingerprint!r} (CloudTrail ListPublicKeys for the digest's "
                "region and time); a forged digest names a key CloudTrail never used"
            )
        if not signature_valid(public_key, d.signature, string_to_sign(d.fields, d.content)):
            return Problem.BAD_SIGNATURE, f"signature does not verify with public key {fingerprint}"
        return None

    def check_link(self, account: str, region: str, d: Digest, first_in_window: bool) -> None:
        """D's previous-digest fields against the previous digest itself."""
        prev_key = d.previous_key
        if prev_key is None:
            if not first_in_window:
                self.flag(
                    Problem.CHAIN_RESTARTED,
                    account,
                    region,
                    d.key,
                    "a new chain starts here (validation or logging was off before it); log files delivered "
                    "in between are covered by no digest",
                )
            return
        prev = self.digests.get(prev_key)
        if prev is None:
            loaded = self.load(prev_key, d.fields.get("previousDigestS3Bucket"))
            if isinstance(loaded, DigestError):
                return  # reported where it is listed; outside the window it is not ours to judge
            if loaded is None:
                name = parse_digest_name(prev_key)
                if name is not None and name.end <= self.since:
                    self.flag(
                        Problem.PREVIOUS_MISSING,
                        account,
                        region,
                        prev_key,
                        f"the digest before the window, named by {d.key}, is gone (expired by lifecycle?)",
                    )
                else:
                    self.flag(
                        Problem.DIGEST_DELETED,
                        account,
                        region,
                        prev_key,
                        f"named as previous digest by {d.key}",
                    )
                return
            prev = loaded
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

    def check_log(self, entry: Mapping[str, Any]) -> tuple[Problem, str] | None:
        key = str(entry.get("s3Object"))
        blob = self.store.get(key, entry.get("s3Bucket"))
        if blob is None:
            return Problem.LOG_DELETED, "listed in a valid digest, not found"
        if entry.get("hashAlgorithm", HASH_ALGORITHM) != HASH_ALGORITHM:
            return Problem.LOG_MODIFIED, f"unsupported hash algorithm {entry.get('hashAlgorithm')!r}"
        try:
            actual = sha256_hex(gunzip(blob.body))
        except DigestError as exc:
            return Problem.LOG_MODIFIED, str(exc)
        if actual != entry.get("hashValue"):
            return Problem.LOG_MODIFIED, f"SHA-256 {actual}, digest records {entry.get('hashValue')}"
        return None

    # --- the run -----------------------------------------------------------------------------------------

    def run(self, accounts: list[tuple[str, str]], regions: Collection[str] | None) -> None:
        for account, account_path in accounts:
            digest_root = join_key(account_path, "CloudTrail-Digest")
            region_names, _ = self.store.listdir(digest_root)
            for region in region_names:
                if regions is not None and region not in regions:
                    continue
                self.results[(account, region)] = RegionResult(account, region)
                self.verify_region(
                    account,
                    region,
                    join_key(digest_root, region),
                    join_key(account_path, "CloudTrail", region),
                )
        if not self.results:
            self.results[("-", "-")] = RegionResult("-", "-")
            self.flag(
                Problem.NO_DIGESTS,
                "-",
                "-",
                self.store.describe(),
                "no CloudTrail-Digest folder for the accounts/regions asked",
            )

    def verify_region(self, account: str, region: str, digest_base: str, log_base: str) -> None:
        result = self.results[(account, region)]
        last_day = utc_day(self.until + DIGEST_PERIOD)
        listed: list[tuple[datetime, str]] = []
        for day in _days(utc_day(self.since), last_day):
            path = _day_path(digest_base, day)
            for name in (f.name for f in self.store.listdir(path)[1]):
                parsed = parse_digest_name(name)
                if parsed is None:
                    self.flag(
                        Problem.UNEXPECTED,
                        account,
                        region,
                        f"{path}/{name}",
                        "not a CloudTrail digest file name",
                    )
                elif self.since < parsed.end <= self.until + DIGEST_PERIOD:
                    listed.append((parsed.end, f"{path}/{name}"))
                    result.trails.add(parsed.trail)
        listed.sort()
        if not listed:
            self.flag(
                Problem.NO_DIGESTS,
                account,
                region,
                digest_base,
                "no digest file in the window: was log file validation on, and is the window right?",
            )
            return
        with ThreadPoolExecutor(self.workers) as pool:
            loaded = dict(
                zip((k for _, k in listed), pool.map(self.load, (k for _, k in listed)), strict=True)
            )
        good = [d for d in loaded.values() if isinstance(d, Digest)]
        self.digests.update((d.key, d) for d in good)
        first_start = min(_start_of(loaded[key], end) for end, key in listed)
        last_end = listed[-1][0]
        public_keys = self.keys(region, first_start, last_end)

        valid: list[Digest] = []
        seen_chains: set[str] = set()
        referenced: set[str] = set()
        for _, key in listed:
            result.digests += 1
            d = loaded[key]
            if d is None:
                self.flag(Problem.DIGEST_DELETED, account, region, key, "listed, then gone while reading")
                continue
            if isinstance(d, DigestError):
                self.flag(Problem.DIGEST_INVALID, account, region, key, str(d))
                continue
            referenced.update(str(e.get("s3Object")) for e in d.log_files)
            parsed = parse_digest_name(key)
            chain = f"{parsed.trail}/{parsed.home_region}" if parsed else key
            self.check_link(account, region, d, chain not in seen_chains)
            seen_chains.add(chain)
            why = self.check_digest(d, public_keys)
            if why is not None:
                self.flag(why[0], account, region, key, why[1])
                continue
            result.digests_valid += 1
            valid.append(d)

        entries = [e for d in valid for e in d.log_files]
        with ThreadPoolExecutor(self.workers) as pool:
            outcomes = list(pool.map(self.check_log, entries))
        for entry, outcome in zip(entries, outcomes, strict=True):
            result.log_files += 1
            if outcome is None:
                result.log_files_valid += 1
            else:
                self.flag(outcome[0], account, region, str(entry.get("s3Object")), outcome[1])

        self.find_unexpected(account, region, log_base, referenced, first_start, last_end)

    def find_unexpected(
        self, account: str, region: str, log_base: str, referenced: set[str], first: datetime, last: datetime
    ) -> None:
        """Log files in the covered hours that no digest lists: added after delivery (or by someone else)."""
        result = self.results[(account, region)]
        for day in _days(utc_day(first), utc_day(last)):
            path = _day_path(log_base, day)
            for name in (f.name for f in self.store.listdir(path)[1]):
                key = f"{path}/{name}"
                if key in referenced:
                    continue
                t = log_file_time(name)
                if t is None or first <= t < last - DELIVERY_SLACK:
                    self.flag(
                        Problem.UNEXPECTED, account, region, key, "in the log folder, listed in no digest"
                    )
                elif last - DELIVERY_SLACK <= t <= self.until:
                    result.pending += 1


def _account_paths(store: Store, prefix: str, accounts: Collection[str] | None) -> list[tuple[str, str]]:
    """The account folders of the layout at or below PREFIX: a trail's key prefix is found by itself."""
    dirs = functools.cache(lambda path: store.listdir(path)[0])  # each folder is listed once
    found = find_accounts(dirs, prefix)
    if not found:
        raise UserError(
            f"{store.describe()}: nothing under {join_key(prefix, 'AWSLogs')}/ or below it. Give the bucket "
            "and key prefix of the trail (--prefix is the trail's S3 key prefix, without AWSLogs/), or the "
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
    workers: int = 8,
) -> VerifyReport:
    """Validate every digest whose hour ends in (SINCE, UNTIL + 1h] and the log files they list."""
    if since >= until:
        raise UserError(
            f"--since {since:%Y-%m-%dT%H:%M:%SZ} is not before --until {until:%Y-%m-%dT%H:%M:%SZ}."
        )
    run = _Run(store, keys, since, until, workers)
    run.run(_account_paths(store, prefix.strip("/"), accounts), regions)
    ordered = sorted(run.results.values(), key=lambda r: (r.account, r.region))
    return VerifyReport(
        store.describe() + (f"/{prefix.strip('/')}" if prefix.strip("/") else ""),
        since,
        until,
        ordered,
        run.findings,
    )
