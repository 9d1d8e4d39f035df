"""Hunt timing: every shipped Sigma rule over a ~400k-event folder, next to `query` over the same folder.

Generates the folder once (the investigation test-data generator, under bench/out/), then times whole CLI
processes, median of RUNS, the OS page cache warm for all alike, with the peak memory of each process tree and
the CPU time (user + system) of the process and its workers — on a machine shared with other work, the CPU
ratio is the steadier figure:
  - query --actor mallory    (selective: the byte prefilter skips most files)
  - query --write-only       (every file parsed, every record tested: the same reading work a hunt does)
  - query -f json            (every record read, every row written: the yardstick of a full scan)
  - hunt                     (all 57 shipped rules, JSON output of every hit)
  - hunt --summary           (all rules, every hit found, only the per-rule summary written)
  - hunt --min-level medium
and prints each time and its ratio to both queries. Usage: python bench/hunt_timing.py [--events N] [--runs R]
"""

from __future__ import annotations

import argparse
import importlib
import os
import statistics
import sys
from pathlib import Path

# Wall time, peak process-tree memory, stdout and CPU time of one run, as the query benchmark beside this file
# measures them.
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
    # No term index: it would be built in the background after a query and share the machine with the runs
    # timed next, and a hunt reads every file anyway.
    os.environ["AUDIT_TRAIL_NO_CACHE"] = "1"
    root = folder(opts.events)
    cli = [str(Path(sys.executable).parent / "audit-trail")]
    print(f"folder: {(root / '.complete').read_text().strip()}")
    cases = {
        "query --actor mallory": [*cli, "query", str(root), "--actor", "mallory", "-f", "json"],
        "query --write-only": [*cli, "query", str(root), "--write-only", "-f", "json"],
        "query -f json (every row)": [*cli, "query", str(root), "-f", "json"],
        "hunt (57 rules)": [*cli, "hunt", str(root), "-f", "json"],
        "hunt --summary": [*cli, "hunt", str(root), "--summary", "-f", "json"],
        "hunt --min-level medium": [*cli, "hunt", str(root), "--min-level", "medium", "-f", "json"],
    }
    results = {}
    for name, args in cases.items():
        runs = [run(args) for _ in range(opts.runs)]
        results[name] = (
            statistics.median(r[0] for r in runs),
            max(r[1] for r in runs),
            len(runs[-1][2]),
            statistics.median(r[3] for r in runs),
        )
    full, full_cpu = results["query -f json (every row)"][0], results["query -f json (every row)"][3]
    print("| command | median s | x full query (wall) | CPU s | x full query (CPU) | peak MiB | stdout MB |")
    print("|---|---|---|---|---|---|---|")
    for name, (seconds, peak, size, cpu) in results.items():
        ratios = f"{seconds / full:.2f} | {cpu:.1f} | {cpu / full_cpu:.2f}"
        print(f"| {name} | {seconds:.2f} | {ratios} | {peak / 2**20:.0f} | {size / 1e6:.1f} |")


if __name__ == "__main__":
    main()
