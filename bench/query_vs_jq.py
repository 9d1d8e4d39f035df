"""`audit-trail query` against `zcat | jq` on the same ~1M-event trail folder, for a "who did X" question.

Generates the folder once (the investigation test-data generator, ~30 days x 5 regions, under bench/out/),
checks both tools find the same events, then times whole processes (median of RUNS, OS page cache warm for
both), the CPU time of each process tree (user + system: what a loaded machine does not inflate the way it
does wall time) and samples the peak resident memory of each process tree (the CLI with its worker processes;
the shell pipeline). Prints times, the ratio and peak memory.
Usage: python bench/query_vs_jq.py [--events N] [--runs R]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shlex
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

OUT = Path(__file__).parent / "out"
REGIONS = ("us-east-1", "eu-west-1", "us-west-2", "ap-northeast-1", "eu-central-1")
ACTOR = "mallory"


def folder(events: int) -> tuple[Path, str]:
    from audit_trail.investigate.sample_logs import generate

    root = OUT / f"query-{events}"
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
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    todo.extend(int(c) for c in fh.read().split())
        except (FileNotFoundError, ProcessLookupError, StopIteration):
            continue
    return total


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(cmd: list[str]) -> tuple[float, int, bytes, float]:
    """Wall time, peak tree RSS (sampled every 10 ms), stdout and CPU time (user + system) of one run."""
    peak = 0
    cpu = _children_cpu()
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    out: list[bytes] = []
    reader = threading.Thread(target=lambda: out.append(proc.stdout.read() if proc.stdout else b""))
    reader.start()
    while proc.poll() is None:
        peak = max(peak, _tree_rss(proc.pid))
        time.sleep(0.01)
    reader.join()
    elapsed = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit(f"{cmd[0]} failed with exit code {proc.returncode}")
    return elapsed, peak, out[0], _children_cpu() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    opts = parser.parse_args()
    root, size = folder(opts.events)
    cli = str(Path(sys.executable).parent / "audit-trail")
    ours = [cli, "query", str(root), "--actor", ACTOR, "-f", "json"]
    # Digest files sit under CloudTrail-Digest/ and hold no Records: the baseline must skip them too.
    jq = (
        f"find {shlex.quote(str(root))} -path '*/CloudTrail/*' -name '*.json.gz' -print0 | xargs -0 zcat | "
        f"jq -c '.Records[] | select(.userIdentity.userName==\"{ACTOR}\")'"
    )
    theirs = ["bash", "-c", jq]
    # The same question through the library alone: what the CLI costs on top (importing every command).
    engine = [
        sys.executable,
        "-c",
        "import sys; from audit_trail.investigate import local; "
        "from audit_trail.queries import filters, questions; from audit_trail.window import Window; "
        f"a = local.answer(sys.argv[1], questions.events().with_filters(filters.Actor({ACTOR!r})), "
        "Window()); print(len(a.rows))",
        str(root),
    ]

    results = {}
    cases = (("audit-trail query --actor", ours), ("zcat | jq", theirs), ("engine alone", engine))
    for name, cmd in cases:
        runs = [run(cmd) for _ in range(opts.runs)]
        results[name] = (
            statistics.median(r[0] for r in runs),
            max(r[1] for r in runs),
            runs[-1][2],
            statistics.median(r[3] for r in runs),
        )
    found = {r["event_id"] for r in json.loads(results["audit-trail query --actor"][2])}
    expected = {json.loads(line)["eventID"] for line in results["zcat | jq"][2].splitlines()}
    if found != expected or not found:
        raise SystemExit(f"answers differ: query found {len(found)} events, jq {len(expected)}")

    q_time, q_mem, _, q_cpu = results["audit-trail query --actor"]
    j_time, j_mem, _, j_cpu = results["zcat | jq"]
    print(f"folder: {size}, {sum(f.stat().st_size for f in root.rglob('*.json.gz')) / 1e6:.0f} MB gzip")
    print(f"question: every event of user {ACTOR} ({len(found)} events, same in both), median of {opts.runs}")
    print("| tool | wall time (s) | CPU time (s) | peak memory (MiB, whole process tree) |")
    print("|---|---|---|---|")
    print(f"| `audit-trail query --actor {ACTOR}` | {q_time:.2f} | {q_cpu:.2f} | {q_mem / 2**20:.0f} |")
    print(f"| `zcat \\| jq` | {j_time:.2f} | {j_cpu:.2f} | {j_mem / 2**20:.0f} |")
    e_time, e_mem, _, e_cpu = results["engine alone"]
    engine_row = f"{e_time:.2f} | {e_cpu:.2f} | {e_mem / 2**20:.0f}"
    print(f"| query engine alone (library call, no CLI start-up) | {engine_row} |")
    print(f"ratio: query is {j_time / q_time:.1f}x faster than zcat | jq")


if __name__ == "__main__":
    main()
