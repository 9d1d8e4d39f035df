"""`audit-trail plan`: preview the stack offline - the real program under Pulumi mocks, no AWS account."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import orjson
import typer

from ..errors import UserError
from .options import command
from .output import render

if TYPE_CHECKING:  # the preview loads Pulumi: only `plan` itself pays for it, not every command's start-up
    from rich.console import Console

    from ..plan.preview import Preview

STACK_TYPE = "pulumi:pulumi:Stack"


def plan_stack(stack: str, overrides: list[str], cwd: Path) -> Preview:
    """Evaluate the project's program for STACK with its config file and OVERRIDES (UserError: bad config)."""
    from ..plan.preview import run
    from ..project import find_project, stack_config  # YAML: only `plan` reads the project

    project = find_project(cwd)
    config = stack_config(project, stack, overrides)
    preview = run(project.checked_program(), config, stack=stack, project=project.name)
    if preview.error is not None:  # a ConfigError is a UserError: listed in full, exit code 2
        raise preview.error
    return preview


def check_json_target(path: Path) -> None:
    """--json must name a file in an existing folder: said before the preview runs, not after."""
    if path.is_dir():
        raise UserError(f"--json {path}: is a folder; give a file name, e.g. --json {path / 'plan.json'}.")
    folder = path.parent
    if not folder.is_dir():
        raise UserError(f"--json {path}: no folder {folder}; create it first or write elsewhere.")


def _number(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _leaves(value: Any, path: str = "") -> list[tuple[str, Any]]:
    """Nested inputs as `path=value` pairs (`rules[0].expiration.days`)."""
    if isinstance(value, dict):
        return [leaf for k, v in value.items() for leaf in _leaves(v, f"{path}.{k}" if path else k)]
    if isinstance(value, list):
        return [leaf for i, v in enumerate(value) for leaf in _leaves(v, f"{path}[{i}]")]
    return [(path, _number(value))]


def _policy_lines(text: str) -> list[str] | None:
    """One line per statement of a JSON policy document, or None if TEXT is not one."""
    try:
        doc = json.loads(text)
    except ValueError:
        return None
    if not isinstance(doc, dict) or "Statement" not in doc:
        return None
    lines = []
    for st in doc["Statement"]:
        actions = st.get("Action")
        resources = st.get("Resource") or []  # a trust policy names no resource
        on = resources if isinstance(resources, str) else ", ".join(resources)
        lines.append(
            f"{st.get('Sid', '-')}: {st.get('Effect')} {json.dumps(st.get('Principal'))} "
            f"{actions if isinstance(actions, str) else ','.join(actions)}"
            + (f" on {on}" if on else "")
            + (f" if {json.dumps(st['Condition'])}" if "Condition" in st else "")
        )
    return lines


def _node_label(resource: dict[str, Any], names: dict[str, str]) -> str:
    flags = [
        text
        for f, text in (("protect", "protected"), ("retainOnDelete", "retained on delete"))
        if resource[f]
    ]
    deps = [names[u] for u in resource["dependsOn"] if u in names and u != resource["parent"]]
    label = f"[bold]{resource['type']}[/bold] {resource['name']}"
    if flags:
        label += f" [yellow]({', '.join(flags)})[/]"
    if deps:
        label += f" [dim]after: {', '.join(deps)}[/]"
    return label


def render_tree(preview: Preview, console: Console) -> None:
    from rich.tree import Tree

    names = {r["urn"]: r["name"] for r in preview.resources}
    nodes: dict[str, Tree] = {}
    root = Tree(f"[bold]{preview.project}[/] stack [bold]{preview.stack}[/]")
    for resource in preview.resources:  # parents come first
        if resource["type"] == STACK_TYPE:
            nodes[resource["urn"]] = root
            continue
        parent = nodes.get(resource["parent"] or "", root)
        node = parent.add(_node_label(resource, names))
        nodes[resource["urn"]] = node
        for key, value in _leaves(resource["inputs"]):
            policy = _policy_lines(value) if isinstance(value, str) else None
            if policy is not None:
                for line in policy:
                    node.add(f"[cyan]{key}[/] {line}", highlight=False)
            else:
                node.add(f"[cyan]{key}[/] = {json.dumps(value)}", highlight=False)
    from rich.console import Console
    from rich.measure import Measurement

    # As wide as its longest line, in a pipe too (80 columns there): an ARN is never broken across lines.
    # A console of its own: the notes printed after it still wrap at the terminal's width.
    widest = Measurement.get(console, console.options.update_width(1 << 16), root).maximum
    Console(file=console.file, width=max(console.width, widest)).print(root)


def register(app: typer.Typer) -> None:
    @command(app)
    def plan(
        stack: Annotated[
            str, typer.Option("--stack", "-s", help="Stack whose Pulumi.<stack>.yaml to use.")
        ] = "dev",
        set_: Annotated[
            list[str] | None,
            typer.Option(
                "--set",
                help="Override a config key for this preview, as `pulumi config set` takes it: "
                'audit-trail:retentionDays=365, aws:region=eu-west-1, tags=\'{"team": "sec"}\'. Repeatable.',
            ),
        ] = None,
        json_file: Annotated[
            Path | None,
            typer.Option("--json", help="Also write the resource graph and outputs as JSON here."),
        ] = None,
        cwd: Annotated[
            Path, typer.Option("--cwd", help="Project directory (default: nearest folder with Pulumi.yaml).")
        ] = Path("."),
    ) -> None:
        """Preview what the stack would create, offline: the real program runs under Pulumi mocks (account
        123456789012, region from aws:region). Bad config is reported in full and nothing is written (exit 2).

        Example: audit-trail plan --stack prod --set audit-trail:retentionDays=400 --json plan.json
        """
        from ..plan.notes import notes_for_config

        if json_file is not None:
            check_json_target(json_file)
        from rich.console import Console

        preview = plan_stack(stack, set_ or [], cwd)
        console = Console()
        render_tree(preview, console)
        render([{"output": k, "value": v} for k, v in preview.outputs.items()], title="Stack outputs")
        for note in notes_for_config(preview.config):
            console.print(
                f"[bold {'yellow' if note.warning else 'cyan'}]{note.title}:[/] {note.text}", highlight=False
            )
            if note.document is not None:
                console.print_json(data=note.document)
        if json_file is not None:
            try:
                json_file.write_bytes(orjson.dumps(preview.to_json(), option=orjson.OPT_INDENT_2) + b"\n")
            except OSError as exc:
                raise UserError(f"--json {json_file}: cannot write it ({exc.strerror or exc}).") from None
            console.print(f"Wrote {json_file}")
