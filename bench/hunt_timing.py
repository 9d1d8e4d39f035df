"""Hunt timing: every shipped Sigma rule over a ~400k-event folder, next to `query` over the same folder.

Generates the folder once (the investigation test-data generator, under bench/out/), then times whole CLI
processes, median of RUNS, the OS page cache warm for all alike, with the peak memory of each process tree:
  - query --actor mallory    (selective: the byte prefilter skips most files)
  - query --write-only       (every file parsed, every record tested: the same reading work a hunt does)
  - hunt                     (all 57 shipped rules, JSON output of every hit)
  - hunt --summary           (all rules, every hit found, only the per-rule summary written)
  - hunt --min-level medium
and prints each time and its ratio to both queries. Usage: python bench/hunt_timing.py [--events N] [--runs R]
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import sys
from pathlib import Path

# Wall time and peak process-tree memory of one run, as the query benchmark beside this file measures them.
run = importlib.import_module("query_vs_jq").run

OUT = Path(__file__).parent / "out"
REGIONS = ("us-east-1", "eu-west-1", "us-west-2", "ap-northeast-1", "eu-central-1")


def folder(events: int) -> Path:
    from audit_trail.investigate.sample_logs import generate

    root = OUT / f"hunt-{events}"
    marker = root / ".complete"
    if not marker.exists():
        answers = generate(root, events=events, days=30, regions=REGIONS, files_per_day=40)
        marker.write_text(f"{answers.total_events} events, {answers.log_files} files\n")
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=400_000)
    parser.add_argument("--runs", type=int, default=3)
    opts = parser.parse_args()
    root = folder(opts.events)
    cli = [str(Path(sys.executable).parent / "audit-trail")]
    print(f"folder: {(root / '.complete').read_text().strip()}")
    cases = {
        "query --actor mallory": [*cli, "query", str(root), "--actor", "mallory", "-f", "json"],
        "query --write-only": [*cli, "query", str(root), "--write-only", "-f", "json"],
        "hunt (57 rules)": [*cli, "hunt", str(root), "-f", "json"],
        "hunt --summary": [*cli, "hunt", str(root), "--summary", "-f", "json"],
        "hunt --min-level medium": [*cli, "hunt", str(root), "--min-level", "medium", "-f", "json"],
    }
    results = {}
    for name, args in cases.items():
        runs = [run(args) for _ in range(opts.runs)]
        results[name] = (statistics.median(r[0] for r in runs), max(r[1] for r in runs), len(runs[-1][2]))
    selective = results["query --actor mallory"][0]
    full = results["query --write-only"][0]
    print("| command | median s | x selective query | x full-scan query | peak MiB | stdout MB |")
    print("|---|---|---|---|---|---|")
    for name, (seconds, peak, size) in results.items():
        ratios = f"{seconds / selective:.1f} | {seconds / full:.2f}"
        print(f"| {name} | {seconds:.2f} | {ratios} | {peak / 2**20:.0f} | {size / 1e6:.1f} |")


if __name__ == "__main__":
    main()
