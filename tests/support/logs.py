"""Data for the investigation tests: a generated trail folder with known answers, and the real TrailDiscover
records (tests/data, CC BY 4.0 — see TRAILDISCOVER_EXAMPLES.md) laid out as CloudTrail delivers them."""

from __future__ import annotations

import gzip
import json
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import orjson
from audit_trail.cloudtrail_layout import META_SUFFIX
from audit_trail.investigate.answer import Answer
from audit_trail.investigate.sample_logs import KnownAnswers, generate
from audit_trail.investigate.scanner import ScanReport

from support.paths import DATA

REAL_ACCOUNT = "111111111111"


def real_records() -> list[dict[str, Any]]:
    lines = (DATA / "traildiscover_examples.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def write_real_folder(root: Path) -> list[dict[str, Any]]:
    """The real records in the S3 layout, one file per region and day; returns the records."""
    records = real_records()
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


def upload_folder(client: Any, bucket: str, root: Path, metadata: dict[str, str] | None = None) -> None:
    """Put a generated folder into BUCKET as CloudTrail would have written it: each file at its key, and a
    digest's `<name>.meta.json` as the digest's S3 metadata (METADATA instead, when given). In parallel: a
    generated trail has an object per region and hour."""

    def put(path: Path) -> None:
        sidecar = path.with_name(path.name + META_SUFFIX)
        meta = json.loads(sidecar.read_text()) if sidecar.is_file() else {}
        if metadata is not None and meta:
            meta = metadata
        key = path.relative_to(root).as_posix()
        client.put_object(Bucket=bucket, Key=key, Body=path.read_bytes(), Metadata=meta)

    files = sorted(p for p in root.rglob("*") if p.is_file() and not p.name.endswith(META_SUFFIX))
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(put, files))


def report_of(answer: Answer) -> ScanReport:
    """The scan report of a local answer (Athena answers have none)."""
    assert answer.report is not None
    return answer.report
