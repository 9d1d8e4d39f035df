"""The index stays within `AUDIT_TRAIL_CACHE_MAX_MB` on disk: past it, the folders used least recently go, and
a file planted with a flood of distinct terms cannot push it over."""

from __future__ import annotations

import random
from pathlib import Path

import orjson
from audit_trail.cache import build as building
from audit_trail.cache.index import TermIndex
from audit_trail.investigate.local import answer
from audit_trail.investigate.sources import list_log_files
from audit_trail.queries import filters as f
from audit_trail.queries import questions as q
from audit_trail.window import Window
from support.cache import cli
from support.logs import day_folder, log_name, user_record, write_log

MIB = 1 << 20
REGIONS = ("us-east-1", "eu-west-1", "ap-south-1")


def _wordy(root: Path, region: str, words: int, user: str = "alice") -> None:
    """One file in REGION's folder whose records' user agents hold WORDS distinct terms (none hexadecimal),
    20,000 a record (a record of a row over 1 MiB would be skipped)."""
    records = []
    for n, start in enumerate(range(0, words, 20_000)):
        record = user_record(user, f"event-{region}-{n}")
        record["userAgent"] = " ".join(
            f"w{region[:2]}{i:07d}x" for i in range(start, min(words, start + 20_000))
        )
        records.append(record)
    write_log(day_folder(root, region=region) / log_name("wordy", region=region), records)


def _on_disk(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.iterdir() if p.name.startswith("index.sqlite"))


def _region(root: Path, region: str) -> list:
    return list_log_files(str(root), Window(regions=frozenset({region})))


def test_past_its_bound_the_index_drops_the_folders_used_least_recently(
    tmp_path: Path, cache_home: Path, settled: None
) -> None:
    """Each folder's segment (its terms and its rows) takes about 0.47 MiB: two fit in 1 MiB, three do not."""
    root = tmp_path / "logs"
    for region in REGIONS:
        _wordy(root, region, 24_000)
    index = TermIndex(limit=MIB)
    first, second, third = (_region(root, r) for r in REGIONS)
    assert building.build(index, first, workers=1).evicted == 0
    assert building.build(index, second, workers=1).evicted == 0
    assert index.info().bytes <= MIB
    index.look_up(first)  # the first folder is asked about again: now the second is the least recent
    assert building.build(index, third, workers=1).evicted == 1
    assert index.info().bytes <= MIB  # at once, not only when the database is closed
    assert index.look_up(first).unindexed() == [] and index.look_up(third).unindexed() == []
    assert index.look_up(second).unindexed() == second
    index.close()
    assert _on_disk(cache_home) <= MIB
    code, out, _ = cli("cache", "info", "-f", "json", env={"AUDIT_TRAIL_CACHE_MAX_MB": "1"})
    shown = {row["setting"]: row["value"] for row in orjson.loads(out)}
    assert code == 0 and shown["folders"] == 2 and shown["log files indexed"] == 2
    size, _, bound = shown["size"].partition(" MiB of at most ")
    assert float(size) <= 1.0 and bound == "1 MiB"
    assert _on_disk(cache_home) <= MIB  # with the info command's own connection open and closed


def _bulky(root: Path, region: str) -> None:
    """One file in REGION's folder whose rows take about 0.4 MiB but whose terms are few: its user agents are
    random hexadecimal, which is no term."""
    rng = random.Random(region)
    records = [
        {**user_record("alice", f"bulky-{region}-{n}"), "userAgent": rng.randbytes(40_000).hex()}
        for n in range(5)
    ]
    write_log(day_folder(root, region=region) / log_name("bulky", region=region), records)


def test_past_its_bound_the_index_drops_kept_rows_before_terms(
    tmp_path: Path, cache_home: Path, settled: None, background: list[list[str]], rows_always: None
) -> None:
    """Three folders' rows do not fit in 1 MiB, their terms do: the rows of the folder used least recently
    go, its terms stay (a selective question still skips its files), and a list over it is scanned."""
    root = tmp_path / "logs"
    for region in REGIONS:
        _bulky(root, region)
    index = TermIndex(limit=MIB)
    for region in REGIONS:
        assert building.build(index, _region(root, region), workers=1).evicted == 0
    assert index.info().bytes <= MIB
    everything = list_log_files(str(root))
    assert index.look_up(everything).unindexed() == []  # every folder's terms
    assert index.info().row_files < len(REGIONS)
    index.close()
    kept = "of them from the cache's copy of their events"
    for region, answered in ((REGIONS[0], False), (REGIONS[-1], True)):
        code, _, err = cli(
            "query", str(root), "--region", region, "-f", "json", env={"AUDIT_TRAIL_CACHE_MAX_MB": "1"}
        )
        assert code == 0 and (kept in err) is answered, err


def test_a_flood_of_distinct_terms_cannot_push_the_index_over_its_bound(
    tmp_path: Path, cache_home: Path, settled: None
) -> None:
    """A planted file with 100,000 distinct terms (a segment of about 1.6 MiB) beside an ordinary folder."""
    root = tmp_path / "logs"
    _wordy(root, "eu-west-1", 100_000, user="trudy")
    write_log(day_folder(root) / log_name("plain"), [user_record("alice", "event-plain")])
    files = list_log_files(str(root))
    index = TermIndex(limit=MIB)
    building.build(index, files, workers=1)
    assert index.info().bytes <= MIB
    index.close()
    assert _on_disk(cache_home) <= MIB
    question = q.events().with_filters(f.Actor("trudy"))
    rows = answer(str(root), question, Window(), index=TermIndex(limit=MIB)).rows
    assert len(rows) == 5
