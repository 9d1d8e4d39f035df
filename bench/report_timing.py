"""`audit-trail report` on a ~1M-event trail folder: wall time, peak memory and the size of each format.

Uses the query benchmark's folder (the sample generator: 30 days x 5 regions x 40 files a day, a signed digest
chain and its public keys, generated once under bench/out/), then runs the whole command once per format as
a separate process, sampling the peak resident memory of its process tree.
Usage: python bench/report_timing.py [--events N]
"""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys
import threading
import time
from pathlib import Path

OUT = Path(__file__).parent / "out"
# The 1 M-event folder and the process-tree memory sampler of the query benchmark beside this file.
_query_bench = importlib.import_module("query_vs_jq")
folder, _tree_rss = _query_bench.folder, _query_bench._tree_rss
SINCE, UNTIL = "2026-03-02", "2026-04-01"


def run(cmd: list[str]) -> tuple[float, int]:
    """Wall time and peak tree RSS (sampled every 20 ms) of one run."""
    peak = 0
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sampler_done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not sampler_done.is_set():
            peak = max(peak, _tree_rss(proc.pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    code = proc.wait()
    sampler_done.set()
    sampler.join()
    if code not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} failed with exit code {code}")
    return time.perf_counter() - start, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=1_000_000)
    opts = parser.parse_args()
    root, size = folder(opts.events)
    cli = str(Path(sys.executable).parent / "audit-trail")
    print(f"folder: {size}")
    print("| format | wall time (s) | peak memory (MiB, process tree) | file size |")
    print("|---|---|---|---|")
    for fmt in ("html", "json", "md"):
        output = OUT / f"report-{opts.events}.{fmt}"
        cmd = [cli, "report", "--folder", str(root), "--public-keys", str(root / "public-keys")]
        cmd += ["--since", SINCE, "--until", UNTIL, "--profile", "pci", "--format", fmt, "-o", str(output)]
        elapsed, peak = run(cmd)
        kib = output.stat().st_size / 1024
        print(f"| {fmt} | {elapsed:.1f} | {peak / 2**20:.0f} | {kib:,.0f} KiB |", flush=True)


if __name__ == "__main__":
    main()
