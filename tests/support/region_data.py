"""The package's region list (`audit_trail/data/regions.json`) as the installed botocore's endpoint data
describes the partitions: what the test compares, and what `python tests/support/region_data.py` writes
when a botocore upgrade brings new regions. The component itself never imports botocore."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

REGIONS_FILE = Path(__file__).resolve().parents[2] / "components" / "audit_trail" / "data" / "regions.json"


def from_botocore() -> dict[str, Any]:
    import botocore  # type: ignore[import-untyped]

    endpoints = json.loads((Path(botocore.__file__).parent / "data" / "endpoints.json").read_text())
    return {
        "source": f"botocore {botocore.__version__} data/endpoints.json",
        "partitions": {
            p["partition"]: {
                "regionRegex": p["regionRegex"],
                "dnsSuffix": p["dnsSuffix"],
                "regions": sorted(p["regions"]),
            }
            for p in endpoints["partitions"]
        },
    }


def render(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2) + "\n"


if __name__ == "__main__":
    REGIONS_FILE.write_text(render(from_botocore()), encoding="utf-8")
    print(f"wrote {REGIONS_FILE}", file=sys.stderr)
