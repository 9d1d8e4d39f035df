"""`audit-trail report` on a ~1M-event trail folder: wall time, peak memory and the size of each format.

Generates the folder once (the sample generator: 30 days x 5 regions x 40 files a day, a signed digest chain
and its public keys) under bench/out/, then runs the whole command once per format as a separate process,
sampling the peak resident memory of its process tree. Usage: python bench/report_timing.py [--events N]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import threading
import time
from pathlib import Path

OUT = Path(__file__).parent / "out"
REGIONS = ("us-east-1", "eu-west-1", "us-west-2", "ap-northeast-1", "eu-central-1")
SINCE, UNTIL = "2026-03-02", "2026-04-01"


def folder(events: int) -> tuple[Path, str]:
    from audit_trail.investigate.sample_logs import generate

    root = OUT / f"report-{events}"
    marker = root / ".complete"
    if not marker.exists():
        known = generate(root, events=events, days=30, regions=REGIONS, files_per_day=40)
        marker.write_text(f"{known.total_events} events in {known.log_files} log files\n")
    return root, marker.read_text().strip()


def _tree_rss(pid: int) -> int:
    """Resident bytes of PID and all its descendants, from /proc."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/status") as fh:
                total += next(int(line.split()[1]) * 1024 for line in fh if line.startswith("VmRSS:"))
            for task in Path(f"/proc/{p}/task").iterdir():
                todo.extend(int(c) for c in (task / "children").read_text().split())
        except (FileNotFoundError, ProcessLookupError, StopIteration):
            continue
    return total


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
