"""The record-level prefilter of an actor question: the record's whole JSON text against its userIdentity's.

Generates a folder once (the investigation test-data generator, under bench/out/), reads its records, and
times, per record, writing the JSON text the prefilter searches and searching it for a broad actor's needles
(`--actor alice`, a third of these events): the whole record (what every question searched before) and the
field the actor's test reads (`Filter.needle_field`). Best of RUNS, each over every record.
Usage: python bench/record_prefilter.py [--events N] [--runs R]
"""

from __future__ import annotations

import argparse
import gzip
import time
from pathlib import Path

import orjson

OUT = Path(__file__).parent / "out"


def records(events: int) -> list[dict]:
    from audit_trail.investigate.sample_logs import generate

    root = OUT / f"prefilter-{events}"
    marker = root / ".complete"
    if not marker.exists():
        generate(root, events=events, days=3)
        marker.write_text("done\n")
    found: list[dict] = []
    for path in sorted(root.rglob("*.json.gz")):
        if "CloudTrail-Digest" not in path.parts:
            found.extend(orjson.loads(gzip.decompress(path.read_bytes())).get("Records", []))
    return found


def main() -> None:
    from audit_trail.queries.filters import Actor
    from audit_trail.queries.prefilter import Needles

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=5)
    opts = parser.parse_args()
    recs = records(opts.events)
    actor = Actor("alice")
    needles = Needles((actor.needles(),))
    field = actor.needle_field()
    ways = {
        "whole record": lambda r: needles(orjson.dumps(r)),
        f"{field} alone": lambda r: needles(orjson.dumps(r.get(field))),
    }
    print(f"{len(recs)} records; actor 'alice' needles {actor.needles()}")
    for name, way in ways.items():
        best = float("inf")
        kept = 0
        for _ in range(opts.runs):
            start = time.perf_counter()
            kept = sum(1 for r in recs if way(r))
            best = min(best, time.perf_counter() - start)
        print(f"{name:>20}: {best / len(recs) * 1e6:.2f} µs a record, {kept} records pass")


if __name__ == "__main__":
    main()
