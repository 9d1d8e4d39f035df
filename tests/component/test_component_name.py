"""The component's name starts the physical names the provider generates: one AWS or the provider would refuse
is a configuration problem, reported before anything is registered, and the plan's mocks never shorten it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from audit_trail.cli.app import app
from audit_trail.component.problems import COMPONENT_NAME
from audit_trail.component.validation import ConfigError
from audit_trail.errors import UserError
from support.graph import of_type
from typer.testing import CliRunner


def registered(plan: Any) -> list[str]:
    return [r["type"] for r in plan.resources if r["type"] != "pulumi:pulumi:Stack"]


def build(preview_program: Any, name: str, args: dict[str, Any] | None = None) -> Any:
    from audit_trail import AuditTrail

    return preview_program(lambda: AuditTrail(name, args or {}))  # type: ignore[arg-type]


def name_refused(preview_program: Any, name: str, args: dict[str, Any] | None = None) -> str:
    plan = build(preview_program, name, args)
    assert isinstance(plan.error, ConfigError), plan.error
    assert registered(plan) == []
    [problem] = plan.error.problems
    assert problem.key == COMPONENT_NAME
    text = str(problem)
    assert text.startswith(f'AuditTrail name = "{name}": '), text
    return text


# The longest name each set of options leaves room for: S3 allows 63 characters for `<name>-<suffix>-` and 7
# random ones, IAM 64 for the CloudWatch Logs role.
@pytest.mark.parametrize(
    ("args", "longest", "limited_by"),
    [
        ({}, 50, "the log bucket `<name>-logs-`"),
        ({"access_logging": True}, 43, "the access-log bucket `<name>-access-logs-`"),
        ({"athena": True}, 40, "the Athena results bucket `<name>-athena-results-`"),
        (
            {"bucket_name": "acme-audit-logs", "cloud_watch_logs": True},
            40,
            "the CloudWatch Logs delivery role `<name>-cloudwatch-role-`",
        ),
        ({"profile": "cis"}, 40, "the CloudWatch Logs delivery role `<name>-cloudwatch-role-`"),
    ],
)
def test_the_longest_name_the_provider_accepts_builds_and_one_more_character_is_refused(
    preview_program: Any, args: dict[str, Any], longest: int, limited_by: str
) -> None:
    # The mocks generate names as the provider does, refusing one too long: this one builds.
    assert build(preview_program, "a" * longest, args).error is None

    text = name_refused(preview_program, "a" * (longest + 1), args)
    assert f"is {longest + 1} characters long, and at most {longest} fit" in text
    assert f"the provider names {limited_by} and 7 random characters" in text
    assert f"Choose a name of at most {longest} lower-case letters, digits and `-`" in text


def test_a_name_nothing_is_generated_from_may_be_long(preview_program: Any) -> None:
    assert build(preview_program, "audit-" * 20, {"bucket_name": "acme-audit-logs"}).error is None


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("security_trail", "has `_`, which an S3 bucket name cannot contain"),
        ("security trail!", "has ' ', `!`, which an S3 bucket name cannot contain"),
        ("-trail", "must start with a letter or digit"),
        ("audit..trail", "must not have `..`"),
        ("xn--trail", "must not start with `xn--`"),
        ("sthree-trail", "must not start with `sthree-`"),
    ],
)
def test_a_name_no_bucket_name_can_start_with_is_refused(
    preview_program: Any, name: str, fragment: str
) -> None:
    assert fragment in name_refused(preview_program, name)


def test_capitals_are_lowered_in_bucket_names_and_kept_in_role_names(preview_program: Any) -> None:
    import pulumi
    from audit_trail import AuditTrail

    def program() -> None:
        trail = AuditTrail("Security.Trail", {"cloud_watch_logs": True})
        pulumi.export("bucket", trail.bucket_name)

    plan = preview_program(program)
    assert plan.error is None, plan.error
    assert plan.outputs["bucket"].startswith("security.trail-logs-")
    [trail] = of_type(plan, "aws:cloudtrail/trail:Trail")
    assert ":role/Security.Trail-cloudwatch-role-" in trail["inputs"]["cloudWatchLogsRoleArn"]


def test_a_role_name_follows_iam_rules_when_no_bucket_is_generated(preview_program: Any) -> None:
    args = {"bucket_name": "acme-audit-logs", "cloud_watch_logs": True}
    assert build(preview_program, "Audit_Trail", args).error is None  # IAM allows `_`
    assert "has `/`, which an IAM role name cannot contain" in name_refused(
        preview_program, "audit/trail", args
    )


def test_every_problem_is_reported_together(preview_program: Any) -> None:
    plan = build(preview_program, "x" * 60 + "_", {"retention_days": 0})
    assert isinstance(plan.error, ConfigError)
    assert [p.key for p in plan.error.problems] == ["retentionDays", COMPONENT_NAME]
    text = str(plan.error.problems[1])
    assert "is 61 characters long" in text and "has `_`" in text


def test_the_mocks_refuse_a_generated_name_too_long_instead_of_shortening_it(preview_program: Any) -> None:
    """As pulumi-aws does (pulumi-terraform-bridge `ComputeAutoNameDefault`): a bucket named from 56
    characters would be 64 long; `pulumi up` stops there, so `plan` does too."""
    import pulumi
    from pulumi_aws import iam, s3

    plan = preview_program(lambda: s3.Bucket("b" * 56))
    assert isinstance(plan.error, UserError)
    assert (
        f"could not make instance of 'aws:s3/bucket:Bucket': name '{'b' * 56}-' plus 7 random chars is "
        "longer than maximum length 63" in str(plan.error)
    )
    plan = preview_program(lambda: pulumi.export("name", s3.Bucket("B" * 55).bucket))
    assert plan.error is None, plan.error
    assert plan.outputs["name"].startswith("b" * 55 + "-")
    plan = preview_program(lambda: iam.Role("r" * 57, assume_role_policy="{}"))
    assert isinstance(plan.error, UserError)
    assert "longer than maximum length 64" in str(plan.error)


def test_plan_reports_a_bad_component_name_and_exits_2(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: reuse\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config: {}\n")
    (tmp_path / "__main__.py").write_text(
        "from audit_trail import AuditTrail\n\nAuditTrail('Security_Audit_Trail', {})\n"
    )
    result = CliRunner().invoke(app, ["plan", "--cwd", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert 'AuditTrail name = "Security_Audit_Trail"' in result.output
    assert "Traceback" not in result.output
