"""Lifecycle rules read as S3 applies them: prefix, tags and size under `Filter` / `Filter.And`."""

from __future__ import annotations

from typing import Any

from audit_trail.integrity.lifecycle import covers, early_deletions, expiry_days, scope

FOLDERS = ["AWSLogs/123456789012/"]


def test_filters_of_every_form() -> None:
    assert scope({"Prefix": "AWSLogs/"}).prefix == "AWSLogs/"  # the legacy top-level prefix
    both = scope(
        {
            "Filter": {
                "And": {
                    "Prefix": "AWSLogs/",
                    "Tags": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}],
                    "ObjectSizeGreaterThan": 10,
                    "ObjectSizeLessThan": 20,
                }
            }
        }
    )
    assert (
        both.describe()
        == "prefix 'AWSLogs/', tag a=1, tag b=2, objects over 10 bytes, objects under 20 bytes"
    )
    assert both.partial and not covers(both, FOLDERS)
    assert covers(scope({"Filter": {}}), FOLDERS)  # an empty filter takes every object


def test_a_size_bounded_rule_deletes_early_but_does_not_set_the_retention() -> None:
    rules = [
        {"ID": "keep", "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 365}},
        {"ID": "big", "Status": "Enabled", "Filter": {"ObjectSizeGreaterThan": 1}, "Expiration": {"Days": 1}},
    ]
    assert expiry_days(rules, FOLDERS) == 365
    (early,) = early_deletions(rules, FOLDERS, 365, None)
    assert (early.rule_id, early.why) == (
        "big",
        "deletes files of every key, objects over 1 bytes after 1 days, 365 kept",
    )


def test_malformed_rules_do_not_crash() -> None:
    rules: list[dict[str, Any]] = [
        {"Status": "Enabled", "Filter": "x", "Expiration": {"Days": "1"}},
        {"Status": "Enabled", "Filter": {"And": []}, "Expiration": None},
    ]
    assert early_deletions(rules, FOLDERS, 90, 30) == []
    assert expiry_days(rules, FOLDERS) is None
