"""Data for the investigation tests: a generated trail folder with known answers, and real records laid out as
CloudTrail delivers them: TrailDiscover's (tests/data, CC BY 4.0 — see TRAILDISCOVER_EXAMPLES.md) and Stratus
Red Team's (Apache 2.0 — see STRATUS_DETONATION_LOGS.md)."""

from __future__ import annotations

import gzip
import json
import random
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import duckdb
import orjson
from audit_trail.cloudtrail_layout import META_SUFFIX
from audit_trail.investigate.answer import Answer
from audit_trail.investigate.events import flatten
from audit_trail.investigate.sample_logs import KnownAnswers, generate
from audit_trail.investigate.scanner import ScanReport
from audit_trail.queries.events_view import COLUMNS
from audit_trail.queries.filters import Filter, where_sql

from support.paths import DATA

REAL_ACCOUNT = "111111111111"


def _jsonl(name: str) -> list[dict[str, Any]]:
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def real_records() -> list[dict[str, Any]]:
    return _jsonl("traildiscover_examples.jsonl")


def stratus_records() -> list[dict[str, Any]]:
    """Stratus Red Team's detonation logs: a federated user, trails, secrets, snapshots, functions ..."""
    return _jsonl("stratus_detonation_logs.jsonl")


def write_real_folder(root: Path, records: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """RECORDS (default: TrailDiscover's) in the S3 layout, one file per region and day; returns them."""
    records = real_records() if records is None else records
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for rec in records:
        groups[(rec["awsRegion"], rec["eventTime"][:10])].append(rec)
    for (region, day), recs in groups.items():
        folder = root / "AWSLogs" / REAL_ACCOUNT / "CloudTrail" / region / day.replace("-", "/")
        folder.mkdir(parents=True, exist_ok=True)
        stamp = day.replace("-", "") + "T2355Z"
        name = f"{REAL_ACCOUNT}_CloudTrail_{region}_{stamp}_real.json.gz"
        (folder / name).write_bytes(gzip.compress(orjson.dumps({"Records": recs})))
    return records


def write_generated(root: Path, **kwargs: Any) -> KnownAnswers:
    return generate(root, **{"events": 2000, "days": 3, **kwargs})


def upload_folder(
    client: Any,
    bucket: str,
    root: Path,
    metadata: dict[str, str] | None = None,
    files: list[Path] | None = None,
) -> None:
    """Put a generated folder (or only FILES of it) into BUCKET as CloudTrail would have written it: each file
    at its key, and a digest's `<name>.meta.json` as the digest's S3 metadata (METADATA instead, when given).
    In parallel: a generated trail has an object per region and hour."""

    def put(path: Path) -> None:
        sidecar = path.with_name(path.name + META_SUFFIX)
        meta = json.loads(sidecar.read_text()) if sidecar.is_file() else {}
        if metadata is not None and meta:
            meta = metadata
        key = path.relative_to(root).as_posix()
        client.put_object(Bucket=bucket, Key=key, Body=path.read_bytes(), Metadata=meta)

    if files is None:
        files = sorted(p for p in root.rglob("*") if p.is_file() and not p.name.endswith(META_SUFFIX))
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(put, files))


def report_of(answer: Answer) -> ScanReport:
    """The scan report of a local answer (Athena answers have none)."""
    assert answer.report is not None
    return answer.report


def records_in(root: Path) -> list[dict[str, Any]]:
    """Every record of the log files under ROOT (a generated or real folder), in file order."""
    files = sorted(p for p in root.rglob("*.json.gz") if "CloudTrail-Digest" not in p.parts)
    return [rec for p in files for rec in orjson.loads(gzip.decompress(p.read_bytes()))["Records"]]


class EventsTable:
    """The `events` view of some records in DuckDB, rows flattened as the scanner flattens them: what a
    filter's SQL (the definition) selects, without a scan. `source_file` is each record's index."""

    def __init__(self, records: list[dict[str, Any]], folder: Path) -> None:
        path = folder / "events.jsonl"
        path.write_bytes(b"\n".join(orjson.dumps(flatten(r, str(i))) for i, r in enumerate(records)))
        self.con = duckdb.connect()
        spec = ", ".join(f"'{n}': '{t}'" for n, t, _ in COLUMNS)
        self.con.execute(f"CREATE TABLE events AS SELECT * FROM read_json('{path}', columns={{{spec}}})")

    def rows(self, *filters: Filter) -> list[dict[str, Any]]:
        cursor = self.con.execute(
            f"SELECT * FROM events WHERE {where_sql(filters)} ORDER BY event_time, event_id"
        )
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def ids(self, *filters: Filter) -> Counter[str]:
        return Counter(r["event_id"] for r in self.rows(*filters))


# --- small folders of hand-made files (the term index's tests) ---


def day_folder(root: Path, region: str = "us-east-1", day: str = "2026/03/02") -> Path:
    """The CloudTrail folder of one region and day under ROOT (created)."""
    folder = root / "AWSLogs" / REAL_ACCOUNT / "CloudTrail" / region / day
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def log_name(tag: str, region: str = "us-east-1", stamp: str = "20260302T1000Z") -> str:
    """A log file's name as CloudTrail writes it, TAG in place of its random part."""
    return f"{REAL_ACCOUNT}_CloudTrail_{region}_{stamp}_{tag}.json.gz"


def log_bytes(records: list[dict[str, Any]]) -> bytes:
    """RECORDS as a gzipped log file, stored uncompressed inside the gzip: records of the same length give
    files of the same size (a same-size rewrite is one attack on the term index)."""
    return gzip.compress(orjson.dumps({"Records": records}), compresslevel=0, mtime=0)


def write_log(path: Path, records: list[dict[str, Any]]) -> Path:
    """RECORDS as a log file at PATH (`log_bytes`)."""
    path.write_bytes(log_bytes(records))
    return path


def write_user_logs(root: Path, users: tuple[str, ...]) -> Path:
    """One log file per user in ROOT's day folder (2 March), each holding one call of that user with event id
    `event-<user>`; the day folder."""
    day = day_folder(root)
    for user in users:
        write_log(day / log_name(user), [user_record(user, f"event-{user}")])
    return day


def user_record(
    user: str, event_id: str, *, ip: str = "203.0.113.7", when: str = "2026-03-02T10:00:00Z"
) -> dict:
    """A real record (TrailDiscover's first IAM user call) made by USER from IP."""
    template = next(r for r in real_records() if r["userIdentity"].get("type") == "IAMUser")
    identity = {
        **template["userIdentity"],
        "userName": user,
        "arn": f"arn:aws:iam::{REAL_ACCOUNT}:user/{user}",
    }
    return {
        **template,
        "userIdentity": identity,
        "eventID": event_id,
        "sourceIPAddress": ip,
        "eventTime": when,
        "awsRegion": "us-east-1",
    }


def hostile_json(value: Any, rng: random.Random, *, escape: float = 0.3) -> bytes:
    """VALUE as JSON text that decodes to it, written as an attacker may write it: characters of a string at
    random as `\\uXXXX` escapes (hex in either case, a surrogate pair beyond the BMP), `/` as `\\/`,
    whitespace between tokens. ESCAPE: the share of characters escaped, on average (at most 16 a string)."""

    def escaped(ch: str) -> str:
        code = ord(ch)
        units = [code] if code <= 0xFFFF else [0xD800 + ((code - 0x10000) >> 10), 0xDC00 + (code & 0x3FF)]
        return "".join(f"\\u{u:04X}" if rng.random() < 0.5 else f"\\u{u:04x}" for u in units)

    def plain(run: str, slash: bool) -> str:
        written = json.dumps(run, ensure_ascii=False)[1:-1]  # the characters JSON must escape, escaped
        return written.replace("/", "\\/") if slash else written

    def text(s: str) -> str:
        # At most 16 escapes a string: a long value still gets them where they may split a name.
        picked = sorted(rng.sample(range(len(s)), min(16, int(len(s) * escape + rng.random()))))
        slash = rng.random() < escape
        out, at = ['"'], 0
        for i in picked:
            out += [plain(s[at:i], slash), escaped(s[i])]
            at = i + 1
        return "".join([*out, plain(s[at:], slash), '"'])

    def space() -> str:
        return rng.choice(("", "", " ", "\n", "\t "))

    def walk(v: Any) -> str:
        if isinstance(v, dict):
            items = (f"{space()}{text(str(k))}{space()}:{space()}{walk(x)}" for k, x in v.items())
            return "{" + ",".join(items) + space() + "}"
        if isinstance(v, list):
            return "[" + ",".join(space() + walk(x) for x in v) + space() + "]"
        if isinstance(v, str):
            return text(v)
        return json.dumps(v)

    return walk(value).encode()
