"""Which of a bucket's lifecycle rules delete a trail's log or digest files earlier than it should keep them.

S3 applies every enabled rule whose filter matches an object: by key prefix (`Prefix`, `Filter.Prefix`,
`Filter.And.Prefix`), object tags and size bounds, all of them together under `And`; an empty filter matches
every object (S3 User Guide, "Adding filters to Lifecycle rules"; API reference `LifecycleRuleFilter`). A rule
reaches the trail's files when its prefix and the trail's folder (`[prefix/]AWSLogs/<account>/`, and
`[prefix/]AWSLogs/<org id>/` for an organization trail) are one a prefix of the other: a broader rule takes
all of them, a narrower one (`AWSLogs/<account>/CloudTrail/`) some. It deletes by `Expiration` (`Days`, or a
`Date` that deletes whatever exists then, however new) and, for the versions versioning keeps of overwritten
or deleted files, by `NoncurrentVersionExpiration`. Pure functions over GetBucketLifecycleConfiguration's
`Rules`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RuleScope:
    prefix: str
    tags: tuple[tuple[str, str], ...]
    larger_than: int | None
    smaller_than: int | None

    def describe(self) -> str:
        parts = [f"prefix {self.prefix!r}" if self.prefix else "every key"]
        parts += [f"tag {k}={v}" for k, v in self.tags]
        if self.larger_than is not None:
            parts.append(f"objects over {self.larger_than} bytes")
        if self.smaller_than is not None:
            parts.append(f"objects under {self.smaller_than} bytes")
        return ", ".join(parts)

    @property
    def partial(self) -> bool:
        """Only some objects under its prefix (tagged, or of some sizes)."""
        return bool(self.tags) or self.larger_than is not None or self.smaller_than is not None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def scope(rule: dict[str, Any]) -> RuleScope:
    """What RULE's filter selects."""
    flt = _dict(rule.get("Filter"))
    both = _dict(flt.get("And"))
    prefix = rule.get("Prefix", flt.get("Prefix", both.get("Prefix", "")))
    tags = [t for t in [flt.get("Tag"), *(both.get("Tags") or [])] if isinstance(t, dict)]
    return RuleScope(
        str(prefix or ""),
        tuple((str(t.get("Key")), str(t.get("Value"))) for t in tags),
        _int(flt.get("ObjectSizeGreaterThan", both.get("ObjectSizeGreaterThan"))),
        _int(flt.get("ObjectSizeLessThan", both.get("ObjectSizeLessThan"))),
    )


def touches(rule_prefix: str, folders: Iterable[str]) -> bool:
    """A rule with RULE_PREFIX reaches into one of the trail's FOLDERS (or takes all of one)."""
    return any(f.startswith(rule_prefix) or rule_prefix.startswith(f) for f in folders)


def covers(rule: RuleScope, folders: Iterable[str]) -> bool:
    """A rule takes every file of the trail: its prefix holds the trail's folders, and nothing narrows it."""
    return not rule.partial and all(f.startswith(rule.prefix) for f in folders)


@dataclass(frozen=True)
class EarlyDeletion:
    rule_id: str
    why: str


def early_deletions(
    rules: Sequence[dict[str, Any]],
    folders: Sequence[str],
    retention_days: int | None,
    noncurrent_days: int | None,
) -> list[EarlyDeletion]:
    """Enabled rules that delete some of the trail's files (current ones, or the versions kept after an
    overwrite or delete) before RETENTION_DAYS / NONCURRENT_DAYS, or on a date whatever their age. A rule
    narrowed by prefix, tag or size counts like any other: it deletes the files it selects."""
    found = []
    for rule in rules:
        if rule.get("Status") != "Enabled":
            continue
        s = scope(rule)
        if not touches(s.prefix, folders):
            continue
        rule_id = str(rule.get("ID") or "(no ID)")
        what = s.describe()
        expiration = _dict(rule.get("Expiration"))
        days = _int(expiration.get("Days"))
        if expiration.get("Date") is not None:
            found.append(
                EarlyDeletion(
                    rule_id,
                    f"deletes every file of {what} on {expiration['Date']}, however new (Expiration.Date)",
                )
            )
        elif days is not None and retention_days is not None and days < retention_days:
            found.append(
                EarlyDeletion(rule_id, f"deletes files of {what} after {days} days, {retention_days} kept")
            )
        noncurrent = _int(_dict(rule.get("NoncurrentVersionExpiration")).get("NoncurrentDays"))
        if noncurrent is not None and noncurrent_days is not None and noncurrent < noncurrent_days:
            found.append(
                EarlyDeletion(
                    rule_id,
                    f"deletes overwritten or deleted versions of {what} after {noncurrent} days, "
                    f"{noncurrent_days} configured: the window to recover a tampered file shrinks",
                )
            )
    return found


def expiry_days(rules: Sequence[dict[str, Any]], folders: Sequence[str]) -> int | None:
    """After how many days every file of the trail expires: the shortest `Expiration.Days` of the enabled
    rules that take all of them, or None when no rule does (kept forever)."""
    days = [
        _int(_dict(r.get("Expiration")).get("Days"))
        for r in rules
        if r.get("Status") == "Enabled" and covers(scope(r), folders)
    ]
    return min((d for d in days if d is not None), default=None)


def noncurrent_days(rules: Sequence[dict[str, Any]], folders: Sequence[str]) -> int | None:
    """After how many days versions of the trail's files that were overwritten or deleted expire."""
    days = [
        _int(_dict(r.get("NoncurrentVersionExpiration")).get("NoncurrentDays"))
        for r in rules
        if r.get("Status") == "Enabled" and covers(scope(r), folders)
    ]
    return min((d for d in days if d is not None), default=None)
