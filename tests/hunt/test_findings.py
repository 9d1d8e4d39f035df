"""The hunt's one pass (scanner workers, rule index, lazy rows, compact hit rows) gives exactly the hits of
the plainest evaluation: every runnable rule's predicate on every record, the row built from `flatten`.

The folders: the generated trail (every identity type, role sessions, a damaged file) and TrailDiscover's real
records (CC BY 4.0, see data/TRAILDISCOVER_EXAMPLES.md).
"""

from __future__ import annotations

import dataclasses
import gzip
import io
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from audit_trail.hunt.attack import record_tactics
from audit_trail.hunt.findings import HIT_COLUMNS, SigmaHits, hunt, rule_set
from audit_trail.hunt.levels import level_rank
from audit_trail.investigate import listing, scanner
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
                        "rule_source": rule.source,
                    }
                )
    return hits


def _total(hit: dict[str, Any]) -> tuple[Any, ...]:
    return (hit["event_time"], -level_rank(hit["level"]), hit["rule"], hit["event_id"] or "", hit["rule_id"])


def _order(hit: dict[str, Any]) -> tuple[Any, ...]:
    """The order hits are handed out in: oldest first, then most severe, then by title."""
    return (hit["event_time"], -level_rank(hit["level"]), hit["rule"])


def _summary(hits: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The per-rule summary worked out from the hit rows by hand."""
    by_rule: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for hit in hits:
        by_rule.setdefault((hit["rule_id"], hit["rule_source"]), []).append(hit)
    rows = [
        {
            "level": same[0]["level"],
            "rule": same[0]["rule"],
            "hits": len(same),
            "first_seen": min(h["event_time"] for h in same),
            "last_seen": max(h["event_time"] for h in same),
            "actors": len({str(h["principal_arn"] or h["who"]) for h in same}),
            "rule_id": rule_id,
            "rule_source": source,
            "author": same[0]["author"],
        }
        for (rule_id, source), same in by_rule.items()
    ]
    return sorted(rows, key=lambda e: (-level_rank(e["level"]), -e["hits"], e["rule"], e["rule_source"]))


def _run(files: Any, rules: SigmaHits = RULES, filters: Any = (), workers: int = 1) -> tuple[Any, list[Any]]:
    with hunt(files, rules, filters, workers=workers) as result:
        return result, list(result.hits())


def _public(summary: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in row.items() if k != "rank"} for row in summary]


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
    result, hits = _run(files, workers=workers)
    expected = _expected(generated)
    assert len(expected) > 100 and len({h["rule_id"] for h in expected}) >= 3
    assert sorted(hits, key=_total) == sorted(expected, key=_total)
    assert hits == sorted(hits, key=_order)
    assert _public(result.summary) == _summary(expected) and result.hit_count == len(expected)
    assert result.report.bad_files and result.report.records == len(_records(generated))
    # --summary keeps compact rows only, and counts the same
    with hunt(files, SigmaHits(summary_only=True), workers=workers) as alone:
        assert alone.summary == result.summary
        with pytest.raises(ValueError, match="only its summary"):
            next(alone.hits())


def test_many_hits_are_sorted_in_runs_on_disk_and_merged(
    generated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The workers write the hits in many small sorted runs, more than are merged at once: the same rows in
    the same order as from one run per worker, never all in memory, and the scratch folder goes."""
    files = list_log_files(str(generated))
    _, whole = _run(files)
    monkeypatch.setattr(scanner, "_FLUSH_BYTES", 4096)
    monkeypatch.setattr(listing, "FAN_IN", 3)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with hunt(files, RULES, workers=1) as result:
        runs = list(tmp_path.glob("audit-trail-hunt-*/rows-*.run*"))
        assert len(runs) > 3 * 3  # more runs than one merge takes: merged in levels
        assert list(result.hits()) == whole
    assert not any(r.exists() for r in runs)  # the scratch folder goes with the hunt


def test_real_records_and_a_window(tmp_path: Path) -> None:
    write_real_folder(tmp_path)
    files = list_log_files(str(tmp_path))
    _, everything = _run(files)
    assert sorted(everything, key=_total) == sorted(_expected(tmp_path), key=_total)
    window = TimeRange(datetime(2024, 9, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC))
    _, inside = _run(files, filters=(window,))
    expected = _expected(tmp_path, lambda rec: "2024-09-01" <= rec["eventTime"] < "2026-01-01")
    assert 0 < len(inside) < len(everything)
    assert sorted(inside, key=_total) == sorted(expected, key=_total)


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
        assert list(whole) == list(COLUMN_NAMES)  # the view's columns, in its order
        assert {c: lazy[c] for c in COLUMN_NAMES} == whole
        assert lazy.get("no_such_column", "absent") == "absent" and dict(lazy) == whole == lazy.full()


def test_hits_come_oldest_first_by_instant_not_by_how_the_time_is_written(tmp_path: Path) -> None:
    """`...:00.500Z` is after `...:00Z` (as text it sorts before it): hits are ordered by the instant."""
    role = next(
        r
        for r in real_records()
        if r["userIdentity"].get("type") == "AssumedRole"
        and r["userIdentity"].get("sessionContext", {}).get("sessionIssuer", {}).get("type") == "Role"
    )
    times = ["2026-03-02T10:00:00.500Z", "2026-03-02T10:00:01Z", "2026-03-02T10:00:00Z"]
    records = [{**role, "eventID": f"event-{i}", "eventTime": when} for i, when in enumerate(times)]
    path = tmp_path / "AWSLogs/123456789012/CloudTrail/us-east-1/2026/03/02/x.json.gz"
    path.parent.mkdir(parents=True)
    path.write_bytes(gzip.compress(orjson.dumps({"Records": records})))
    files = list_log_files(str(tmp_path))
    rule = SigmaHits(rule_ids=("905d389b-b853-46d0-9d3d-dea0d3a3cd49",))
    result, hits = _run(files, rule)
    assert [h["event_id"] for h in hits] == ["event-2", "event-0", "event-1"]
    # The summary says the same: first and last seen by instant (as text, `.500Z` would come first).
    with hunt(files, dataclasses.replace(rule, summary_only=True), workers=1) as summary_only:
        summaries = [result.summary, summary_only.summary]
    for (row,) in summaries:
        assert (row["first_seen"], row["last_seen"]) == ("2026-03-02T10:00:00Z", "2026-03-02T10:00:01Z")


def test_the_workers_counts_merge_as_one_process_would_count(tmp_path: Path) -> None:
    """Each chunk of files is counted by its own worker and the counts are merged: the earliest hit in a late
    file and the latest in an early one, the actors spread over every chunk, in two workers, in one process
    and for --summary alike."""
    role = next(r for r in real_records() if r["userIdentity"].get("type") == "AssumedRole")
    rule = SigmaHits(rule_ids=("905d389b-b853-46d0-9d3d-dea0d3a3cd49",))
    folder = tmp_path / "AWSLogs/123456789012/CloudTrail/us-east-1/2026/03/02"
    folder.mkdir(parents=True)
    for i in range(120):  # enough files for chunks in two workers
        when = {3: "2026-03-02T23:00:00Z", 110: "2026-03-02T01:00:00.500Z"}.get(
            i, f"2026-03-02T11:{i % 60:02d}:00Z"
        )
        arn = f"arn:aws:sts::123456789012:assumed-role/r{i // 20}/s"  # each in a few chunks only
        identity = {**role["userIdentity"], "arn": arn}
        rec = {**role, "eventID": f"e-{i}", "eventTime": when, "userIdentity": identity}
        (folder / f"f{i:03d}.json.gz").write_bytes(gzip.compress(orjson.dumps({"Records": [rec]})))
    files = list_log_files(str(tmp_path))
    summaries = []
    for workers in (1, 2):
        for one in (rule, dataclasses.replace(rule, summary_only=True)):
            with hunt(files, one, workers=workers) as result:
                summaries.append(result.summary)
    (row,) = summaries[0]
    assert (row["hits"], row["actors"]) == (120, 6)
    assert (row["first_seen"], row["last_seen"]) == ("2026-03-02T01:00:00.500000Z", "2026-03-02T23:00:00Z")
    assert all(s == summaries[0] for s in summaries)


def test_a_json_hunt_writes_the_workers_text_as_the_rows_would_be_written(
    generated: Path, tmp_path: Path
) -> None:
    from audit_trail.cli.output import json_list

    hostile = ["\x1b[2J\x1b]8;;file:///etc\x07x", "a\tb\nc\r\u2028\u2029", 'q " b \\ /', "é 漢 🙂 \u0130"]
    records = real_records()
    matcher = rule_set((), True, "informational").matcher
    firing = [i for i, rec in enumerate(records) if matcher.matches(rec)]
    for i, text in zip(firing, hostile, strict=False):
        records[i] = {**records[i], "sourceIPAddress": text, "eventID": text}
    write_real_folder(tmp_path, records)
    files = [*list_log_files(str(generated)), *list_log_files(str(tmp_path))]
    texts, rows = io.StringIO(), io.StringIO()
    with hunt(files, RULES, workers=2) as result:
        assert json_list(result.hit_texts(), texts) > 100
    with hunt(files, RULES, workers=2) as result:
        json_list(result.hits(), rows)
    assert texts.getvalue() == rows.getvalue()
    written = orjson.loads(texts.getvalue())
    assert list(written[0]) == list(HIT_COLUMNS)
    assert {h["source_ip"] for h in written} >= set(hostile)  # each hostile record fires a rule


def test_a_summary_writes_no_rows(generated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with hunt(list_log_files(str(generated)), SigmaHits(summary_only=True), workers=1) as result:
        assert result.hit_count > 100
        assert [p for p in tmp_path.rglob("*") if p.is_file()] == []
