"""Interactive speed: an incident's questions, audit-trail (cold and warm cache) against `zcat | jq` and a
DuckDB one-liner, on the same folders, in one run.

Generates the folders once under bench/out/, shared with the hunt benchmark (the investigation test-data
generator, 30 days x 5 regions x 40 files a day: 6,000 log files; about 20 s and 30 MB of gzip per 400 k
events; `--10m` adds a 10 M-event folder, about 8 minutes and 0.8 GB of disk), then times whole processes
(median of --runs, the OS page cache warm for every tool alike) with the peak resident memory of each process
tree (sampled from /proc every 10 ms) and the CPU time of the tree. Every tool must find the same events, or
the script stops.

Cold: the term index emptied first (`audit-trail cache clear`, once the build the previous run started has
finished, so that no build shares the machine); the question's own scan is what is timed.
Warm: the same question again once the background build it started has finished (waited for on the cache
folder's lock; how long that took after the answer is printed), which is what a responder's next question
meets; it must be the cold answer byte for byte.

The cache lives in bench/out/cache (XDG_CACHE_HOME), never in the user's own.
Usage: python bench/interactive.py [--events 400000 1000000] [--10m] [--runs 1]
"""

from __future__ import annotations

import argparse
import compileall
import fcntl
import importlib
import json
import os
import re
import shlex
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import audit_trail

sys.path.insert(0, str(Path(__file__).parent))
# (wall, peak tree RSS, stdout, CPU) of one whole process, as the query benchmark beside this file measures it
run = importlib.import_module("query_vs_jq").run
# The folders, generated once and shared with the hunt benchmark (the same sizes and layout).
folder = importlib.import_module("hunt_timing").folder

OUT = Path(__file__).parent / "out"
CACHE = OUT / "cache"
REGIONS = ("us-east-1", "eu-west-1", "us-west-2", "ap-northeast-1", "eu-central-1")
CLI = str(Path(sys.executable).parent / "audit-trail")

# The broad question as a hand-tuned DuckDB one-liner: it declares only the fields it returns and reads the
# gzip files itself. Same rows (one per event of alice: her user name, or the last part of her ARN) and the
# same columns as `query --actor alice -f json`.
DUCKDB_BROAD = """
import sys, duckdb
fields = {"eventTime": "VARCHAR", "eventID": "VARCHAR", "eventSource": "VARCHAR", "eventName": "VARCHAR",
  "awsRegion": "VARCHAR", "sourceIPAddress": "VARCHAR", "userAgent": "VARCHAR", "errorCode": "VARCHAR",
  "errorMessage": "VARCHAR", "userIdentity": {"type": "VARCHAR", "arn": "VARCHAR", "userName": "VARCHAR",
  "sessionContext": {"sessionIssuer": {"arn": "VARCHAR", "userName": "VARCHAR"}}},
  "requestParameters": "JSON", "responseElements": "JSON", "resources": [{"ARN": "VARCHAR"}]}
schema = '{"Records": [' + __import__("json").dumps(fields) + ']}'
duckdb.sql("SET threads = 2")
duckdb.sql("SET enable_progress_bar = false")
duckdb.sql(f'''COPY (
WITH r AS (SELECT unnest(from_json(json, '{schema}').Records) AS e
           FROM read_json_objects('{sys.argv[1]}/AWSLogs/*/CloudTrail/*/*/*/*/*.json.gz'))
SELECT e.eventTime AS event_time, coalesce(e.userIdentity.userName, e.userIdentity.arn) AS actor,
  e.userIdentity.type AS identity_type, e.userIdentity.arn AS principal_arn,
  e.userIdentity.sessionContext.sessionIssuer.arn AS session_issuer_arn,
  split_part(e.eventSource, '.', 1) || ':' || e.eventName AS action, e.resources[1].ARN AS resource,
  e.awsRegion AS aws_region, e.sourceIPAddress AS source_ip, e.userAgent AS user_agent,
  e.errorCode AS error_code, e.errorMessage AS error_message, e.requestParameters AS request_parameters,
  e.responseElements AS response_elements, e.eventID AS event_id
FROM r WHERE lower(e.userIdentity.userName) = '{sys.argv[2]}'
          OR lower(regexp_extract(e.userIdentity.arn, '[^/]*$')) = '{sys.argv[2]}'
ORDER BY event_time, event_id) TO '/dev/stdout' (FORMAT json, ARRAY true)''')
"""


def jq(root: Path, actor: str) -> list[str]:
    # Digest files sit under CloudTrail-Digest/ and hold no Records: the pipeline must skip them too. The
    # generator plants a broken gzip and odd records, as real buckets hold: jq must go on past them.
    who = (
        f'((.userIdentity.userName // "" | ascii_downcase) == "{actor}") or '
        f'((.userIdentity.arn // "" | split("/") | last | ascii_downcase) == "{actor}")'
    )
    pipeline = (
        f"find {shlex.quote(str(root.resolve()))} -path '*/CloudTrail/*' -name '*.json.gz' -print0 | "
        "xargs -0 zcat | "
        f"jq -c '.Records[]? | select(try ({who}) catch false)'"
    )
    return ["bash", "-c", pipeline]


@dataclass
class Measure:
    seconds: float
    cpu: float
    peak: int
    stdout: bytes


def measure(cmd: list[str], runs: int, before: Callable[[], object] | None = None) -> Measure:
    """Median of RUNS of CMD; BEFORE runs (untimed) ahead of each, e.g. emptying the cache."""
    got = []
    for _ in range(runs):
        if before is not None:
            before()
        got.append(run(cmd))
    return Measure(
        statistics.median(g[0] for g in got),
        statistics.median(g[3] for g in got),
        max(g[1] for g in got),
        got[-1][2],
    )


def wait_for_builds() -> None:
    """Until the background builds the questions started have stored their segments."""
    folder = CACHE / "audit-trail"
    deadline = time.monotonic() + 600
    while any(folder.glob("pending-*.json")) and time.monotonic() < deadline:
        time.sleep(0.1)
    lock = folder / "build.lock"
    if lock.exists():
        with open(lock, "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            fcntl.flock(fh, fcntl.LOCK_UN)


def event_ids(stdout: bytes) -> set[str]:
    text = stdout.decode().strip()
    if text.startswith("["):
        return {row.get("event_id") or row.get("eventID") for row in json.loads(text)}
    return {json.loads(line)["eventID"] for line in text.splitlines()}


def _row(name: str, m: Measure, *, base: Measure | None = None, base_name: str = "") -> str:
    ratio = f"{base.seconds / m.seconds:.1f}x faster than {base_name}" if base else ""
    return f"| {name} | {m.seconds:.2f} | {m.cpu:.2f} | {m.peak / 2**20:.0f} | {ratio} |"


def bench(events: int, runs: int, with_baselines: bool) -> None:
    root = folder(events)
    total, files = re.findall(r"\d+", (root / ".complete").read_text())

    def empty_cache() -> None:
        # The build the previous run started in the background is waited for first: it would take a core
        # from the run timed next, and store its segments after the clear.
        wait_for_builds()
        run([CLI, "cache", "clear"])

    print(f"\n### {int(total):,} events in {int(files):,} log files\n")
    print("| question | wall (s) | CPU (s) | peak RSS (MiB) | ratio |")
    print("|---|---|---|---|---|")

    for actor, kind in (("mallory", "selective"), ("alice", "broad")):
        query = [CLI, "query", str(root), "--actor", actor, "-f", "json"]
        cold = measure(query, runs, before=empty_cache)
        started = time.monotonic()  # the last cold run's background build, from the end of its answer
        wait_for_builds()
        built = time.monotonic() - started
        warm = measure(query, runs)
        ids = event_ids(cold.stdout)
        if warm.stdout != cold.stdout or not ids:  # byte for byte: a warm answer is the scan's
            raise SystemExit(f"--actor {actor}: the warm answer differs from the cold one")
        if with_baselines:
            pipe = measure(jq(root, actor), runs)
            if event_ids(pipe.stdout) != ids:
                raise SystemExit(f"--actor {actor}: jq found {len(event_ids(pipe.stdout))}, query {len(ids)}")
            print(_row(f"`zcat \\| jq`, {kind} ({len(ids):,} events of {actor})", pipe))
        else:
            pipe = None
        print(_row(f"`query --actor {actor} -f json`, cold", cold, base=pipe, base_name="jq"))
        print(f"| background build after the cold question, until warm | {built:.1f} | | | |")
        print(_row(f"`query --actor {actor} -f json`, warm", warm, base=pipe, base_name="jq"))
        if kind == "broad" and with_baselines:
            duck = measure([sys.executable, "-c", DUCKDB_BROAD, str(root), actor], runs)
            if event_ids(duck.stdout) != ids:
                found = len(event_ids(duck.stdout))
                raise SystemExit(f"DuckDB found {found} of {actor}'s events, query {len(ids)}")
            print(_row("DuckDB one-liner, broad (same rows and columns)", duck))
            times = f"cold {cold.seconds / duck.seconds:.2f}x, warm {warm.seconds / duck.seconds:.2f}x"
            print(f"| broad question, audit-trail / DuckDB | {times} | | | |")

    full = measure([CLI, "query", str(root), "--write-only", "-f", "json", "--no-cache"], runs)
    hunt = measure([CLI, "hunt", str(root), "-f", "json"], runs)
    print(_row("`query --write-only` (reads and tests every record)", full))
    print(_row("`hunt`, every shipped rule", hunt))
    print(f"| hunt / full-scan query | {hunt.seconds / full.seconds:.2f}x its time | | | |")
    info = json.loads(run([CLI, "cache", "info", "-f", "json"])[2])
    size = next(r["value"] for r in info if r["setting"] == "size").split()[0]
    per_million = float(size) / (int(total) / 1e6)
    index = f"{size} MiB ({per_million:.1f} MiB per million events)"
    print(f"| cache after these questions (terms and kept events) | {index} | | | |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, nargs="+", default=[400_000, 1_000_000])
    parser.add_argument("--10m", dest="ten_million", action="store_true", help="also 10 M events (0.8 GB)")
    parser.add_argument("--runs", type=int, default=1)
    opts = parser.parse_args()
    os.environ["XDG_CACHE_HOME"] = str(CACHE)
    os.environ.pop("AUDIT_TRAIL_NO_CACHE", None)
    # Byte-compiled as an installed package is (pip compiles it): with PYTHONDONTWRITEBYTECODE set, a source
    # tree's changed modules would otherwise be compiled again at every start, and timed with the question.
    compileall.compile_dir(Path(audit_trail.__file__).parent, quiet=1)
    sizes = [*opts.events, *([10_000_000] if opts.ten_million else [])]
    for events in sizes:
        # The baselines at 10 M take most of an hour and say nothing new: memory is what that size checks.
        bench(events, opts.runs, with_baselines=events < 10_000_000)


if __name__ == "__main__":
    main()
