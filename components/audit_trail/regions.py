"""AWS partitions and their regions, from the package's `data/regions.json` (taken from botocore's endpoint
data by `tests/support/region_data.py`; the component itself does not depend on botocore).

A region AWS opens after this release is not in the list: the component refuses it as a likely typo unless
the stack names it in `audit-trail:extraRegions`, which also adds it to the Athena table's projection.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from functools import cache
from importlib.resources import files


@dataclass(frozen=True)
class Partition:
    name: str
    region_regex: str
    dns_suffix: str
    regions: tuple[str, ...]


@cache
def partitions() -> dict[str, Partition]:
    data = json.loads(files("audit_trail").joinpath("data/regions.json").read_text(encoding="utf-8"))
    return {
        name: Partition(name, p["regionRegex"], p["dnsSuffix"], tuple(p["regions"]))
        for name, p in data["partitions"].items()
    }


def partition_of_region(region: str) -> str:
    """The partition a region belongs to (what `aws.get_partition` answers there): the first partition whose
    region pattern it fits, the commercial `aws` otherwise (as the SDKs resolve an unknown region)."""
    for partition in partitions().values():
        if region in partition.regions:
            return partition.name
    for partition in partitions().values():
        if re.fullmatch(partition.region_regex.strip("^$"), region):
            return partition.name
    return "aws"


def dns_suffix(partition: str) -> str:
    known = partitions().get(partition)
    return known.dns_suffix if known else "amazonaws.com"


def regions_of(partition: str) -> tuple[str, ...]:
    known = partitions().get(partition)
    return known.regions if known else ()


def all_regions() -> tuple[str, ...]:
    return tuple(r for p in partitions().values() for r in p.regions)


def closest_region(region: str) -> str | None:
    close = difflib.get_close_matches(region, all_regions(), n=1, cutoff=0.6)
    return close[0] if close else None
