"""What the installed pulumi-aws cannot express, so the README's "Not available" list stays true: when an
upgrade adds one of these arguments this test fails, and the feature should be exposed instead."""

from __future__ import annotations

import inspect

from pulumi_aws import cloudtrail


def _arguments(cls: type) -> set[str]:
    return set(inspect.signature(cls).parameters)


def test_trail_has_no_recursive_logging_aggregation_or_insights_event_categories() -> None:
    trail = _arguments(cloudtrail.TrailArgs)
    # CreateTrail/UpdateTrail `RecursiveLogging`; PutEventConfiguration `AggregationConfigurations`.
    assert not {a for a in trail if "recursive" in a or "aggregat" in a}, trail
    # PutInsightSelectors `EventCategories` (Insights on data events): the selector has only its type.
    assert _arguments(cloudtrail.TrailInsightSelectorArgs) == {"insight_type"}
