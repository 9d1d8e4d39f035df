"""The package's region list is the installed botocore's endpoint data (the component itself never loads
botocore: `tests/test_boundaries.py`)."""

from __future__ import annotations

import json

from audit_trail import regions
from support.region_data import REGIONS_FILE, from_botocore


def test_region_list_matches_the_installed_botocore() -> None:
    packaged = json.loads(REGIONS_FILE.read_text(encoding="utf-8"))
    assert packaged["partitions"] == from_botocore()["partitions"], (
        "audit_trail/data/regions.json is stale: run `python tests/support/region_data.py`"
    )


def test_every_partition_the_component_speaks_is_there() -> None:
    assert {"aws", "aws-cn", "aws-us-gov"} <= set(regions.partitions())
    assert regions.dns_suffix("aws-cn") == "amazonaws.com.cn"
    assert "eusc-de-east-1" in regions.regions_of("aws-eusc")
    assert regions.closest_region("euwest-1") == "eu-west-1"
