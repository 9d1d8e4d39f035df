"""Bad configuration: every problem reported at once, naming key, value and fix, and nothing registered."""

from __future__ import annotations

import pytest
from audit_trail.component.args import AuditTrailArgs, ReadWriteType
from audit_trail.component.validation import CONFIG_KEYS, ConfigError, check, validate
from support.graph import one


def registered(plan) -> list[str]:
    return [r["type"] for r in plan.resources if r["type"] != "pulumi:pulumi:Stack"]


def config_error(preview_stack, *overrides: str) -> ConfigError:
    plan = preview_stack("dev", *overrides)
    assert isinstance(plan.error, ConfigError), plan.error
    assert registered(plan) == []
    return plan.error


@pytest.mark.parametrize(
    ("override", "fragment"),
    [
        ("audit-trail:trailName=ab", "is 2 characters long"),
        ("audit-trail:trailName=my--trail", "no two of `._-` next to each other"),
        ("audit-trail:trailName=my-_trail", "no two of `._-` next to each other"),
        ("audit-trail:trailName=-trail", "start and end with a letter or digit"),
        ("audit-trail:trailName=trail.", "start and end with a letter or digit"),
        ("audit-trail:trailName=my trail!", "only ASCII letters"),
        ("audit-trail:trailName=192.168.5.4", "must not look like an IP address"),
        ("audit-trail:trailName=" + "t" * 129, "is 129 characters long"),
        ("audit-trail:bucketName=My_Logs", "only lowercase letters"),
        ("audit-trail:bucketName=ab", "is 2 characters long"),
        ("audit-trail:bucketName=" + "b" * 64, "is 64 characters long"),
        ("audit-trail:bucketName=audit..logs", "must not have `..`"),
        ("audit-trail:bucketName=192.168.1.1", "must not be an IP address"),
        ("audit-trail:bucketName=xn--audit-logs", "must not start with `xn--`"),
        ("audit-trail:bucketName=sthree-logs", "must not start with `sthree-`"),
        ("audit-trail:bucketName=audit-logs-s3alias", "must not end with `-s3alias`"),
        ("audit-trail:bucketName=-audit-logs", "start and end with a letter or digit"),
        ("audit-trail:retentionDays=0", "from 1 to 3650"),
        ("audit-trail:retentionDays=-30", "from 1 to 3650"),
        ("audit-trail:retentionDays=100000", "from 1 to 3650"),
        ("audit-trail:retentionDays=ninety", "expected a whole number"),
        ("audit-trail:retentionDays=90.5", "expected a whole number"),
        ("audit-trail:noncurrentVersionDays=0", "from 1 to 3650"),
        ("audit-trail:readWriteType=Everything", "expected one of All, ReadOnly, WriteOnly"),
        ("audit-trail:s3KeyPrefix=/logs", "must not start or end with `/`"),
        ("audit-trail:s3KeyPrefix=logs/", "must not start or end with `/`"),
        ("audit-trail:s3KeyPrefix=a//b", "must not contain `//`"),
        ("audit-trail:s3KeyPrefix=" + "p" * 201, "at most 200"),
        ("audit-trail:multiRegion=yes", "expected true or false"),
        ("audit-trail:tags=not a map", "expected a map of text to text"),
        ('audit-trail:tags={"aws:owner": "me"}', "reserved by AWS"),
        ('audit-trail:tags={"team": ["a"]}', "expected a map of text to text"),
    ],
)
def test_each_rule_names_the_key_and_registers_nothing(preview_stack, override: str, fragment: str) -> None:
    key, _, value = override.partition("=")
    error = config_error(preview_stack, override)
    assert len(error.problems) == 1
    problem = str(error.problems[0])
    assert problem.startswith(f"{key} = "), problem
    assert fragment in problem
    if not key.endswith("tags"):
        assert value in problem  # the value the user gave


def test_multi_region_needs_global_service_events(preview_stack) -> None:
    error = config_error(preview_stack, "audit-trail:includeGlobalServiceEvents=false")
    assert "audit-trail:includeGlobalServiceEvents = false" in str(error)
    assert "set `multiRegion` to false" in str(error)


def test_deletion_safety_and_force_destroy_conflict(preview_stack) -> None:
    error = config_error(preview_stack, "audit-trail:forceDestroy=true")
    text = str(error)
    assert "audit-trail:forceDestroy = true" in text
    assert "`retainOnDelete: false`" in text
    config_error(preview_stack, "audit-trail:forceDestroy=true", "audit-trail:retainOnDelete=true")


def test_unknown_key_suggests_the_known_one(preview_stack) -> None:
    error = config_error(preview_stack, "audit-trail:retentionDay=365")
    assert str(error.problems[0]).startswith(
        'audit-trail:retentionDay = "365": unknown key; did you mean `retentionDays`?'
    )


def test_unknown_key_without_a_close_match_lists_the_known_keys(preview_stack) -> None:
    problem = str(config_error(preview_stack, "audit-trail:colour=blue").problems[0])
    assert "did you mean" not in problem
    assert f"known keys: {', '.join(sorted(CONFIG_KEYS))}." in problem


def test_keys_of_other_namespaces_are_not_ours(preview_stack) -> None:
    plan = preview_stack("dev", "aws:profile=work", "other:retentionDay=1")
    assert plan.error is None


def test_all_problems_are_reported_together(preview_stack) -> None:
    error = config_error(
        preview_stack,
        "audit-trail:retentionDay=3",
        "audit-trail:retentionDays=ninety",
        "audit-trail:trailName=a",
        "audit-trail:s3KeyPrefix=/x/",
        "audit-trail:forceDestroy=true",
    )
    keys = [p.key for p in error.problems]
    assert keys == ["retentionDay", "retentionDays", "trailName", "s3KeyPrefix", "forceDestroy"]
    assert str(error).startswith("invalid audit-trail configuration (5 problems; nothing was created):")


def test_component_args_get_the_same_errors_as_stack_config(preview_program, preview_stack) -> None:
    from audit_trail import AuditTrail

    from_config = config_error(preview_stack, "audit-trail:retentionDays=0")
    plan = preview_program(lambda: AuditTrail("trail", {"retention_days": 0}))
    assert isinstance(plan.error, ConfigError)
    assert registered(plan) == []
    assert [str(p) for p in plan.error.problems] == [str(p) for p in from_config.problems]


def test_multi_language_inputs_are_validated_the_same_way(preview_program) -> None:
    """What a TypeScript program's `retentionDays: 0` reaches the component as, via the provider's mapping."""
    from audit_trail import AuditTrail
    from pulumi.provider.experimental.component import ComponentProvider

    provider = ComponentProvider([AuditTrail], "audit-trail")
    definition = provider.analyzer.analyze([AuditTrail])["component_definitions"]["AuditTrail"]
    mapped = provider.map_inputs({"retentionDays": 0.0, "readWriteType": "WriteOnly"}, definition)
    assert mapped == {"retention_days": 0.0, "read_write_type": ReadWriteType.WRITE_ONLY}
    plan = preview_program(lambda: AuditTrail("trail", mapped))  # type: ignore[arg-type]
    assert isinstance(plan.error, ConfigError)
    assert str(plan.error.problems[0]).startswith("audit-trail:retentionDays = 0:")
    assert registered(plan) == []

    good = provider.map_inputs({"retentionDays": 120.0}, definition)
    plan = preview_program(lambda: AuditTrail("trail", good))  # type: ignore[arg-type]
    assert plan.error is None
    rules = one(plan, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")["inputs"]["rules"]
    assert rules[0]["expiration"] == {"days": 120}


def test_unknown_python_arg_is_reported_in_config_spelling() -> None:
    bad: AuditTrailArgs = {"retention_day": 3}  # type: ignore[typeddict-unknown-key]
    _, problems = check(bad)
    assert [p.key for p in problems] == ["retentionDay"]
    assert "did you mean `retentionDays`?" in problems[0].message


def test_defaults_are_valid_and_secure() -> None:
    settings = validate({})
    assert settings.multi_region and settings.include_global_service_events and settings.log_file_validation
    assert settings.retain_on_delete and not settings.force_destroy
    assert settings.read_write_type is ReadWriteType.ALL
    assert settings.retention_days == 90


def test_string_values_from_stack_config_are_typed() -> None:
    settings = validate(
        {
            "retention_days": "365",
            "multi_region": "False",
            "include_global_service_events": "false",
            "read_write_type": "ReadOnly",
            "tags": "team: security",
        }
    )
    assert settings.retention_days == 365
    assert settings.multi_region is False
    assert settings.read_write_type is ReadWriteType.READ_ONLY
    assert settings.tags == {"team": "security"}
