"""Data for the investigation tests: a generated trail folder with known answers, and real records laid out as
CloudTrail delivers them: TrailDiscover's (tests/data, CC BY 4.0 — see TRAILDISCOVER_EXAMPLES.md) and Stratus
Red Team's (Apache 2.0 — see STRATUS_DETONATION_LOGS.md)."""

from __future__ import annotations

import gzip
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import orjson
from audit_trail.investigate.answer import Answer
from audit_trail.investigate.sample_logs import KnownAnswers, generate
from audit_trail.investigate.scanner import ScanReport

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


def report_of(answer: Answer) -> ScanReport:
    """The scan report of a local answer (Athena answers have none)."""
    assert answer.report is not None
    return answer.report
