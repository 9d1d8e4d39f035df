"""The hunt's one pass (scanner workers, rule index, lazy rows, compact hit rows) gives exactly the hits of
the plainest evaluation: every runnable rule's predicate on every record, the row built from `flatten`.

The folders: the generated trail (every identity type, role sessions, a damaged file) and TrailDiscover's real
records (CC BY 4.0, see data/TRAILDISCOVER_EXAMPLES.md).
"""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from audit_trail.hunt.attack import record_tactics
from audit_trail.hunt.findings import SigmaHits, hunt, rule_set, summary_rows
from audit_trail.investigate.events import EventRow, flatten
from audit_trail.investigate.sources import list_log_files
from audit_trail.queries.events_view import COLUMN_NAMES
from audit_trail.queries.filters import TimeRange
from support.logs import real_records, write_generated, write_real_folder

RULES = SigmaHits()


def _records(root: Path) -> list[tuple[dict[str, Any], str]]:
    out: list[tuple[dict[str, Any], str]] = []
    for path in sorted(root.rglob("*.json.gz")):
        if "CloudTrail-Digest" in path.parts:
            continue
        try:
            doc = orjson.loads(gzip.decompress(path.read_bytes()))
        except (OSError, EOFError, orjson.JSONDecodeError):
            continue  # the damaged file: skipped by the scan too
        out.extend((rec, str(path)) for rec in doc["Records"])
    return out


def _expected(root: Path, keep: Any = lambda rec: True) -> list[dict[str, Any]]:
    rules = rule_set((), True, "informational").rules
    hits = []
    for rec, loc in _records(root):
        if not keep(rec):
            continue
        row = flatten(rec, loc)
        for rule in rules:
            assert rule.compiled is not None
            if rule.compiled.predicate(rec):
                hits.append(
                    {
                        "event_time": row["event_time"],
                        "level": rule.level,
                        "rule": rule.title,
                        "attack": " ".join(rule.tags),
                        "who": row["actor"],
                        "action": row["action"],
                        "source_ip": row["source_ip"],
                        "region": row["aws_region"],
                        "event_id": row["event_id"],
                        "rule_id": rule.id,
                        "author": rule.author,
                        "tactics": record_tactics(rec),
                        "principal_arn": row["principal_arn"],
                        "rank": rule.rank,
                    }
                )
    return hits


def _total(hit: dict[str, Any]) -> tuple[Any, ...]:
    return (hit["event_time"], -hit["rank"], hit["rule"], hit["event_id"] or "", hit["rule_id"])


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hunt-generated")
    write_generated(root, events=1500, days=2, files_per_day=40)  # enough files for the worker processes
    day = next((root / "AWSLogs/123456789012/CloudTrail/eu-west-1").rglob("*.json.gz")).parent
    (day / "123456789012_CloudTrail_eu-west-1_20260302T0000Z_cut.json.gz").write_bytes(
        gzip.compress(b'{"Records": [')[:-6]
    )
    return root


@pytest.mark.parametrize("workers", [1, 2])
def test_one_pass_hits_equal_every_rule_on_every_record(generated: Path, workers: int) -> None:
    files = list_log_files(str(generated))
    assert len(files) >= 64  # the parallel path is taken with 2 workers
    result = hunt(files, RULES, workers=workers)
    expected = _expected(generated)
    assert len(expected) > 100 and len({h["rule_id"] for h in expected}) >= 3
    assert sorted(result.hits, key=_total) == sorted(expected, key=_total)
    assert result.hits == sorted(result.hits, key=lambda h: (h["event_time"], -h["rank"], h["rule"]))
    assert result.summary == summary_rows(result.hits)
    assert result.report.bad_files and result.report.records == len(_records(generated))


def test_real_records_and_a_window(tmp_path: Path) -> None:
    write_real_folder(tmp_path)
    files = list_log_files(str(tmp_path))
    everything = hunt(files, RULES, workers=1)
    assert sorted(everything.hits, key=_total) == sorted(_expected(tmp_path), key=_total)
    window = TimeRange(datetime(2024, 9, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC))
    inside = hunt(files, RULES, (window,), workers=1)
    expected = _expected(tmp_path, lambda rec: "2024-09-01" <= rec["eventTime"] < "2026-01-01")
    assert 0 < len(inside.hits) < len(everything.hits)
    assert sorted(inside.hits, key=_total) == sorted(expected, key=_total)


def test_lazy_rows_read_every_column_as_flatten_builds_it() -> None:
    odd: list[dict[str, Any]] = [
        {"eventTime": "2026-03-02T00:00:00Z", "eventSource": "s3.amazonaws.com", "eventName": "ListBuckets"},
        {
            "eventTime": "2026-03-02T00:00:00Z",
            "eventSource": "sts.amazonaws.com",
            "eventName": "AssumeRole",
            "userIdentity": "not an object",
            "readOnly": "false",
        },
        {
            "eventTime": "2026-03-02T00:00:00Z",
            "eventSource": "ec2.amazonaws.com",
            "eventName": "RunInstances",
            "userIdentity": {
                "type": "AssumedRole",
                "arn": "arn:aws:sts::1:assumed-role/r",
                "sessionContext": 7,
            },
        },
    ]
    for rec in [*real_records(), *odd]:
        whole = flatten(rec, "f")
        lazy = EventRow(rec, "f")
        assert {c: lazy[c] for c in COLUMN_NAMES} == whole
        assert lazy.get("no_such_column", "absent") == "absent" and dict(lazy) == whole == lazy.full()
