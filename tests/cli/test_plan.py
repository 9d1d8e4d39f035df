"""`audit-trail plan`: the offline preview from the project directory, its JSON contract and its errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from audit_trail.cli.app import app
from audit_trail.errors import UserError
from audit_trail.project import SECRET_PLACEHOLDER, find_project, stack_config
from support.paths import PROJECT_DIR
from typer.testing import CliRunner

runner = CliRunner()


def test_plan_prints_the_tree_and_writes_the_graph(tmp_path: Path) -> None:
    out = tmp_path / "plan.json"
    result = runner.invoke(app, ["plan", "--cwd", str(PROJECT_DIR), "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "aws:cloudtrail/trail:Trail" in result.output
    assert "account-activity-trail" in result.output
    assert "retained on delete" in result.output
    assert "DenyInsecureTransport" in result.output
    doc = json.loads(out.read_text())
    assert (doc["stack"], doc["project"]) == ("dev", "audit-trail")
    assert doc["config"]["audit-trail:trailName"] == "account-activity-trail"
    assert doc["outputs"]["trailName"] == "account-activity-trail"
    assert len(doc["resources"]) == 10


def test_the_tree_never_breaks_an_arn_in_a_pipe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Into a pipe (80 columns) the tree is as wide as its longest line: every ARN of the graph, a KMS
    key's and a log group's included, is whole on one line of the text."""
    monkeypatch.delenv("COLUMNS", raising=False)
    out = tmp_path / "plan.json"
    result = runner.invoke(app, ["plan", "--stack", "prod", "--cwd", str(PROJECT_DIR), "--json", str(out)])
    assert result.exit_code == 0, result.output
    arns = {a.rstrip("\\") for a in re.findall(r"arn:aws[^\"\s,]*", out.read_text())}
    assert any(":kms:" in a for a in arns) and any(":log-group:" in a for a in arns)
    assert [a for a in arns if a not in result.stdout] == []
    # The notes after the tree still wrap at the pipe's 80 columns (the tree's width is its own).
    key = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
    noted = runner.invoke(
        app,
        [
            "plan",
            "--cwd",
            str(PROJECT_DIR),
            "--set",
            "audit-trail:profile=cis",
            "--set",
            f"audit-trail:kmsKeyArn={key}",
        ],
    )
    note = noted.stdout[noted.stdout.index("Existing KMS key:") :].splitlines()
    assert key in note[1] and all(len(line) <= 80 for line in note[:4])


def test_plan_finds_the_project_from_a_subfolder_and_applies_set(tmp_path: Path) -> None:
    out = tmp_path / "plan.json"
    result = runner.invoke(
        app,
        [
            "plan",
            "--cwd",
            str(PROJECT_DIR / "tests"),
            "--stack",
            "prod",
            "--set",
            "audit-trail:retentionDays=400",
            "--set",
            "aws:region=us-gov-west-1",
            "--json",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    assert doc["stack"] == "prod"
    assert doc["outputs"]["trailArn"].startswith("arn:aws-us-gov:cloudtrail:us-gov-west-1:")
    lifecycle = next(r for r in doc["resources"] if r["name"] == "audit-trail-lifecycle")
    assert lifecycle["inputs"]["rules"][0]["expiration"]["days"] == 400


def test_bad_config_lists_every_problem_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "plan.json"
    result = runner.invoke(
        app,
        [
            "plan",
            "--cwd",
            str(PROJECT_DIR),
            "--set",
            "retentionDay=3",
            "--set",
            "audit-trail:readWriteType=Any",
            "--json",
            str(out),
        ],
    )
    assert result.exit_code == 2
    assert "2 problems" in result.output
    assert "retentionDay" in result.output and "did you mean" in result.output
    assert "readWriteType" in result.output
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "fragment"),
    [(["--stack", "staging"], "--stack staging"), (["--set", "retentionDays"], "expected key=value")],
)
def test_bad_flags_exit_2(args: list[str], fragment: str) -> None:
    result = runner.invoke(app, ["plan", "--cwd", str(PROJECT_DIR), *args])
    assert result.exit_code == 2
    assert fragment in result.output


def test_no_project_found(tmp_path: Path) -> None:
    result = runner.invoke(app, ["plan", "--cwd", str(tmp_path)])
    assert result.exit_code == 2
    assert "no Pulumi.yaml" in result.output


def test_stack_config_is_built_like_the_pulumi_cli(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text(
        "name: proj\nruntime: python\nconfig:\n  size:\n    type: integer\n    default: 3\n"
        "  aws:region: eu-north-1\n"
    )
    (tmp_path / "Pulumi.qa.yaml").write_text(
        "config:\n  proj:flag: true\n  tags:\n    a: b\n  proj:list: [1, 2]\n"
        "  proj:token:\n    secure: v1:abc\n"
    )
    project = find_project(tmp_path)
    assert project.program == tmp_path / "__main__.py"
    assert project.stacks() == ["qa"]
    config = stack_config(project, "qa", ["size=5", "aws:region=us-west-2", "proj:eq=a=b"])
    assert config == {
        "proj:size": "5",
        "aws:region": "us-west-2",
        "proj:flag": "true",
        "proj:tags": '{"a": "b"}',
        "proj:list": "[1, 2]",
        "proj:token": SECRET_PLACEHOLDER,
        "proj:eq": "a=b",
    }
    with pytest.raises(UserError, match="stacks with a config file: qa"):
        stack_config(project, "prod")


def test_mocks_answer_like_aws_for_the_resources_options_add(preview_program) -> None:
    """Keys, log groups, roles and topics get the ids and ARNs AWS gives them, in the stack's partition."""
    import pulumi
    from pulumi_aws import cloudwatch, iam, kms, sns

    def program() -> None:
        key = kms.Key("key")
        group = cloudwatch.LogGroup("trail-events", name="/audit/trail")
        role = iam.Role("delivery", assume_role_policy="{}")
        topic = sns.Topic("alarms")
        pulumi.export("arns", [key.arn, group.arn, role.arn, topic.arn, topic.id, key.key_id])

    plan = preview_program(program, {"aws:region": "us-gov-east-1"})
    assert plan.error is None, plan.error
    key_arn, group_arn, role_arn, topic_arn, topic_id, key_id = plan.outputs["arns"]
    assert key_arn == f"arn:aws-us-gov:kms:us-gov-east-1:123456789012:key/{key_id}"
    assert group_arn == "arn:aws-us-gov:logs:us-gov-east-1:123456789012:log-group:/audit/trail"
    assert role_arn.startswith("arn:aws-us-gov:iam::123456789012:role/delivery-")
    assert topic_arn.startswith("arn:aws-us-gov:sns:us-gov-east-1:123456789012:alarms-")
    assert topic_id == topic_arn


@pytest.mark.parametrize(
    ("region", "suggestion"), [("eu-west1", "eu-west-1"), ("us-gov-wst-1", "us-gov-west-1"), ("mars-1", None)]
)
def test_an_unknown_region_is_refused_with_a_suggestion(region: str, suggestion: str | None) -> None:
    result = runner.invoke(app, ["plan", "--cwd", str(PROJECT_DIR), "--set", f"aws:region={region}"])
    assert result.exit_code == 2
    out = " ".join(result.output.split())
    assert f'aws:region = "{region}": is not an AWS region this release knows' in out
    if suggestion:
        assert f"did you mean `{suggestion}`?" in out
    assert "audit-trail:extraRegions" in out


def test_a_region_newer_than_the_list_is_allowed_by_extra_regions(tmp_path: Path) -> None:
    out = tmp_path / "plan.json"
    result = runner.invoke(
        app,
        [
            "plan",
            "--cwd",
            str(PROJECT_DIR),
            "--set",
            "aws:region=eu-west-9",
            "--set",
            'extraRegions=["eu-west-9"]',
            "--set",
            "athena=true",
            "--json",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    trail = next(r for r in doc["resources"] if r["type"] == "aws:cloudtrail/trail:Trail")
    assert trail["inputs"]["name"] == "account-activity-trail"
    table = next(r for r in doc["resources"] if r["type"] == "aws:glue/catalogTable:CatalogTable")
    assert "eu-west-9" in table["inputs"]["parameters"]["projection.region.values"].split(",")


# --- malformed project and stack files: CI may run `plan` on an untrusted pull request -------------------

GOOD_PROJECT = "name: proj\nruntime: python\n"
BOMB = 'config:\n  a0: &a0 ["x","x","x","x","x","x","x","x","x"]\n' + "".join(
    f"  a{i}: &a{i} [{','.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 10)
)


def _project(tmp_path: Path, project: str | bytes, stack: str | bytes = "config: {}\n") -> Path:
    for name, content in (("Pulumi.yaml", project), ("Pulumi.dev.yaml", stack)):
        path = tmp_path / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    (tmp_path / "__main__.py").write_text("")
    return tmp_path


@pytest.mark.parametrize(
    ("project", "stack", "file", "fragment"),
    [
        ("- name: proj\n", "config: {}\n", "Pulumi.yaml", "not a Pulumi project file"),
        ("just text\n", "config: {}\n", "Pulumi.yaml", "not a Pulumi project file"),
        (GOOD_PROJECT + "config:\n  - a\n", "config: {}\n", "Pulumi.yaml", "`config` must be a mapping"),
        (GOOD_PROJECT + "config:\n  5: x\n", "config: {}\n", "Pulumi.yaml", "config key 5 is not text"),
        (GOOD_PROJECT + "main: 5\n", "config: {}\n", "Pulumi.yaml", "`main: 5` must be a path"),
        (GOOD_PROJECT + "main: src/\n", "config: {}\n", "Pulumi.yaml", "the program"),
        (b"name: caf\xe9\n", "config: {}\n", "Pulumi.yaml", "not UTF-8 text (byte 0xe9 at offset 9)"),
        (GOOD_PROJECT, "- config\n", "Pulumi.dev.yaml", "not a Pulumi stack file"),
        (GOOD_PROJECT, "config text\n", "Pulumi.dev.yaml", "not a Pulumi stack file"),
        (GOOD_PROJECT, "config:\n  - a\n", "Pulumi.dev.yaml", "`config` must be a mapping"),
        (GOOD_PROJECT, "config:\n  7: x\n", "Pulumi.dev.yaml", "config key 7 is not text"),
        (GOOD_PROJECT, b"config:\n  proj:x: \xff\n", "Pulumi.dev.yaml", "not UTF-8 text"),
        (GOOD_PROJECT, "config: [\n", "Pulumi.dev.yaml", "not valid YAML"),
        (GOOD_PROJECT, BOMB, "Pulumi.dev.yaml", "refused: it stands for more than 100,000 values"),
        (
            GOOD_PROJECT,
            "config:\n  proj:a: &a [*a]\n",
            "Pulumi.dev.yaml",
            "refers to a node that contains it",
        ),
    ],
)
def test_a_malformed_project_or_stack_file_is_named_and_exits_2(
    tmp_path: Path, project: str | bytes, stack: str | bytes, file: str, fragment: str
) -> None:
    root = _project(tmp_path, project, stack)
    result = runner.invoke(app, ["plan", "--cwd", str(root)])
    assert result.exit_code == 2, result.output
    out = " ".join(result.output.split())
    assert f"{root / file}:" in out and fragment in out
    assert "Traceback" not in result.output


def test_an_alias_bomb_is_refused_at_once(tmp_path: Path) -> None:
    """487 bytes of nested aliases took 17 s and 1.9 GB before; now they are counted, not expanded."""
    import time

    assert len(BOMB) < 500
    root = _project(tmp_path, GOOD_PROJECT, BOMB)
    started = time.monotonic()
    result = runner.invoke(app, ["plan", "--cwd", str(root)])
    assert result.exit_code == 2
    assert time.monotonic() - started < 2


def test_an_alias_bomb_in_a_set_value_is_refused(tmp_path: Path) -> None:
    bomb = (
        "["
        + ",".join(
            ["&a0 [x,x,x,x,x,x,x,x,x]"] + [f"&a{i} [{','.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
        )
        + "]"
    )
    result = runner.invoke(app, ["plan", "--cwd", str(PROJECT_DIR), "--set", f"alarmEmails={bomb}"])
    assert result.exit_code == 2
    assert "refused: it stands for more than" in result.output


@pytest.mark.parametrize("target", ["missing/plan.json", "."])
def test_json_into_a_missing_folder_or_onto_a_folder_exits_2_before_the_preview(
    tmp_path: Path, target: str
) -> None:
    path = tmp_path / target
    result = runner.invoke(app, ["plan", "--cwd", str(PROJECT_DIR), "--json", str(path)])
    assert result.exit_code == 2
    out = " ".join(result.output.split())
    assert f"--json {path}" in out
    assert "aws:cloudtrail/trail:Trail" not in out  # refused before anything ran


@pytest.mark.parametrize("prefix", ["a/../b", "./logs", "logs/.", "a\\b", "é" * 130])
def test_a_prefix_that_cannot_be_mirrored_as_folders_is_refused(prefix: str) -> None:
    result = runner.invoke(app, ["plan", "--cwd", str(PROJECT_DIR), "--set", f"s3KeyPrefix={prefix}"])
    assert result.exit_code == 2
    assert "audit-trail:s3KeyPrefix" in result.output
