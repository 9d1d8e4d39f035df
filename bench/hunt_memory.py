"""Hunt memory: peak RSS of a hunt over 1 M and 2 M events, whole processes, with every shipped rule.

Generates the folders once (the investigation test-data generator, under bench/out/; about 40 s and 0.3 GB
per million events), then measures, per folder, the peak memory of the whole process tree and the wall time:
  - library: `hunt(...)` with every hit streamed from `HuntResult.hits()` and written as JSON lines to
    /dev/null
  - hunt --summary (the per-rule table only: memory proportional to rules x actors)
  - hunt -f json (the CLI, every hit written as JSON)
Usage: python bench/hunt_memory.py [--events 1000000 2000000]
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

# The folders and the measure of one run (wall, peak tree memory, CPU): the hunt timing beside this file.
timing = importlib.import_module("hunt_timing")

STREAM = """
import sys, orjson
from audit_trail.hunt.findings import SigmaHits, hunt
from audit_trail.investigate.sources import list_log_files
count = 0
with open("/dev/null", "wb") as sink, hunt(list_log_files(sys.argv[1]), SigmaHits()) as result:
    for hit in result.hits():
        sink.write(orjson.dumps(hit) + b"\\n")
        count += 1
print(count, result.hit_count)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, nargs="+", default=[1_000_000, 2_000_000])
    opts = parser.parse_args()
    cli = [str(Path(sys.executable).parent / "audit-trail")]
    print("| events | files | case | seconds | CPU s | peak MiB | hits / output |")
    print("|---|---|---|---|---|---|---|")
    for events in opts.events:
        root = timing.folder(events)
        made = (root / ".complete").read_text().split()
        cases = {
            "library, hits streamed": [sys.executable, "-c", STREAM, str(root)],
            "hunt --summary": [*cli, "hunt", str(root), "--summary", "-f", "json"],
            "hunt -f json": [*cli, "hunt", str(root), "-f", "json"],
        }
        for name, args in cases.items():
            seconds, peak, stdout, cpu = timing.run(args)
            library = name.startswith("library")
            shown = stdout.split()[0].decode() if library else f"{len(stdout) / 1e6:.0f} MB"
            cells = [made[0], made[2], name, f"{seconds:.1f}", f"{cpu:.1f}", f"{peak / 2**20:.0f}", shown]
            print("| " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
