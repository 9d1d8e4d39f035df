"""Evaluate the Pulumi program (or a component-building function) offline under Pulumi mocks.

The same machinery serves `audit-trail plan` and the tests: the real `__main__.py` runs exactly as `pulumi up`
would run it, with an invented account (123456789012) and the region from `aws:region`. A monitor records what
the engine would see of every resource - type, name, parent, dependencies, camelCase inputs, protect,
retainOnDelete - with URNs in the engine's form.
"""

from __future__ import annotations

import contextlib
import hashlib
import runpy
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import mocks, rpc
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.config import set_all_config
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from .. import arns, regions
from ..component.names import AUTONAMES, RANDOM_SUFFIX
from ..errors import UserError

ACCOUNT = "123456789012"
DEFAULT_REGION = "us-east-1"
STACK_TYPE = "pulumi:pulumi:Stack"


@dataclass
class Preview:
    """What a program would do: the resource graph and stack outputs (`to_json()` is the documented contract),
    or the error that stopped it (`error`, with whatever was registered before it in `resources`; a physical
    name the provider would refuse to generate is one)."""

    stack: str
    project: str
    config: dict[str, str]
    resources: list[dict[str, Any]] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    error: BaseException | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "project": self.project,
            "config": self.config,
            "resources": self.resources,
            "outputs": self.outputs,
        }


def engine_urn(urn: str) -> str:
    """The engine's form of a mock monitor URN: children of the root stack carry no `pulumi:pulumi:Stack$`."""
    return urn.replace(f"::{STACK_TYPE}$", "::", 1)


class _Mocks(pulumi.runtime.Mocks):
    """Answers like AWS: bucket id = its name, partition-correct ARNs, the trail's ARN and home region."""

    def __init__(self, region: str) -> None:
        self.region = region
        self.partition = regions.partition_of_region(region)
        self.refused: list[AutonameError] = []
        """Names the provider would refuse to generate. Kept, not raised: an error raised in a mock is left in
        the futures of the resource's outputs, and asyncio prints each one's traceback at exit."""

    def _autoname(self, type_: str, name: str) -> str:
        generated, refused = _autoname(type_, name)
        if refused is not None:
            self.refused.append(refused)
        return generated

    def call(self, args: mocks.MockCallArgs) -> Any:
        p, r = self.partition, args.args.get("region") or self.region
        if args.token == "aws:index/getPartition:getPartition":
            dns = regions.dns_suffix(p)
            return {
                "id": p,
                "partition": p,
                "dnsSuffix": dns,
                "reverseDnsPrefix": ".".join(reversed(dns.split("."))),
            }
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "id": ACCOUNT,
                "accountId": ACCOUNT,
                "arn": arns.account_root_arn(p, ACCOUNT),
                "userId": ACCOUNT,
            }
        if args.token == "aws:index/getRegion:getRegion":
            return {
                "id": r,
                "name": r,
                "region": r,
                "description": r,
                "endpoint": f"ec2.{r}.{regions.dns_suffix(p)}",
            }
        return {}

    def new_resource(self, args: mocks.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        state = dict(args.inputs)
        p, r = self.partition, state.get("region") or self.region
        if args.typ == "aws:s3/bucket:Bucket":
            name = state.get("bucket") or self._autoname(args.typ, args.name)
            state.update(
                bucket=name,
                arn=arns.bucket_arn(p, name),
                region=r,
                bucketDomainName=f"{name}.s3.{regions.dns_suffix(p)}",
            )
            return name, state
        if args.typ == "aws:cloudtrail/trail:Trail":
            arn = arns.trail_arn(p, r, ACCOUNT, state.get("name") or args.name)
            state.update(arn=arn, homeRegion=r)
            return arn, state
        if args.typ == "aws:kms/key:Key":
            key_id = str(uuid.uuid5(uuid.NAMESPACE_URL, args.name))
            state.update(keyId=key_id, arn=f"arn:{p}:kms:{r}:{ACCOUNT}:key/{key_id}")
            return key_id, state
        if args.typ in _NAMED_ARNS:
            name = state.get("name") or self._autoname(args.typ, args.name)
            arn = _NAMED_ARNS[args.typ].format(p=p, r=r, a=ACCOUNT, name=name)
            state.update(name=name, arn=arn)
            return arn if args.typ == "aws:sns/topic:Topic" else name, state
        resource_id = state.get("bucket") or state.get("name") or f"{args.name}-id"
        state.setdefault("arn", _generic_arn(args.typ, p, r, str(resource_id)))
        return str(resource_id), state


_NAMED_ARNS = {
    "aws:kms/alias:Alias": "arn:{p}:kms:{r}:{a}:{name}",
    "aws:cloudwatch/logGroup:LogGroup": "arn:{p}:logs:{r}:{a}:log-group:{name}",
    "aws:cloudwatch/metricAlarm:MetricAlarm": "arn:{p}:cloudwatch:{r}:{a}:alarm:{name}",
    "aws:iam/role:Role": "arn:{p}:iam::{a}:role/{name}",
    "aws:iam/policy:Policy": "arn:{p}:iam::{a}:policy/{name}",
    "aws:sns/topic:Topic": "arn:{p}:sns:{r}:{a}:{name}",
}
"""ARN formats of resources named by their `name` input (generated when absent); the id is the name (the ARN
for topics), as the provider reports it."""


class AutonameError(UserError):
    """A physical name the provider would refuse to generate: `pulumi up` stops at that resource."""


def _autoname(type_: str, name: str) -> tuple[str, AutonameError | None]:
    """The provider's generated physical name - the logical name (lowered for buckets), `-` and 7 random hex
    characters (fixed here) - and the provider's error when that is too long for the type: never a shortened
    name."""
    rule = AUTONAMES.get(type_)
    prefix = rule.prefix(name) if rule else f"{name}-"
    generated = prefix + hashlib.sha256(name.encode()).hexdigest()[:RANDOM_SUFFIX]
    if rule is None or rule.fits(name):
        return generated, None
    return generated, AutonameError(
        f"could not make instance of '{type_}': name '{prefix}' plus {RANDOM_SUFFIX} random chars is longer "
        f"than maximum length {rule.max_length} (what `pulumi up` would say). Give resource `{name}` a "
        "shorter name."
    )


def _generic_arn(type_: str, partition: str, region: str, resource_id: str) -> str:
    service = type_.split(":")[1].split("/")[0]
    return f"arn:{partition}:{service}:{region}:{ACCOUNT}:{resource_id}"


class _RecordingMonitor(mocks.MockMonitor):
    """A mock monitor that keeps what the engine would see of each registration."""

    def __init__(self, mock: pulumi.runtime.Mocks) -> None:
        super().__init__(mock)
        self.registered: list[dict[str, Any]] = []

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)
        is_stack = request.type == STACK_TYPE
        self.registered.append(
            {
                "urn": engine_urn(response.urn),
                "type": request.type,
                "name": request.name,
                "parent": engine_urn(request.parent) if request.parent else None,
                "inputs": {} if is_stack else _sorted_keys(rpc.deserialize_properties(request.object)),
                "dependsOn": sorted({engine_urn(u) for u in request.dependencies}),
                "protect": request.protect if request.HasField("protect") else False,
                "retainOnDelete": request.retainOnDelete if request.HasField("retainOnDelete") else False,
            }
        )
        return response


def _sorted_keys(value: Any) -> Any:
    """Maps with sorted keys, so the same program always gives the same JSON."""
    if isinstance(value, dict):
        return {k: _sorted_keys(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted_keys(v) for v in value]
    return value


def _ordered(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Parents before children, then by type and name: registrations arrive from threads in any order."""
    by_urn = {r["urn"]: r for r in resources}

    def depth(r: dict[str, Any]) -> int:
        return 0 if r["parent"] not in by_urn else 1 + depth(by_urn[r["parent"]])

    return sorted(resources, key=lambda r: (depth(r), r["type"], r["name"]))


Program = Path | Callable[[], None]


def run(
    program: Program,
    config: Mapping[str, str] | None = None,
    *,
    stack: str = "dev",
    project: str = "audit-trail",
) -> Preview:
    """Run PROGRAM (a `__main__.py` path, or a function that builds resources and may `pulumi.export`) with
    CONFIG (full keys such as `audit-trail:retentionDays` -> string values, as the engine passes them).

    Each call starts from a fresh runtime (config, root stack, monitor), so calls are independent."""
    config = dict(config or {})
    region = config.get("aws:region") or DEFAULT_REGION
    mock = _Mocks(region)
    monitor = _RecordingMonitor(mock)

    runtime_settings.ROOT.set(None)
    runtime_settings.SETTINGS.outputs.clear()
    set_all_config(config, [])
    pulumi.runtime.set_mocks(monitor.mocks, project=project, stack=stack, preview=False, monitor=monitor)
    root = runtime_settings.get_root_resource()

    def body() -> None:
        if isinstance(program, Path):
            runpy.run_path(str(program.resolve()), run_name="__main__")
        else:
            program()

    result = Preview(stack=stack, project=project, config=config)
    # `pulumi up` runs a program from its project directory.
    workdir = program.resolve().parent if isinstance(program, Path) else Path.cwd()
    with contextlib.chdir(workdir):
        try:
            _sync_await(run_pulumi_func(body))
            exported = getattr(root, "outputs", {})
            resolved: Any = _sync_await(pulumi.Output.from_input(exported).future())
            result.outputs = resolved or {}
        except Exception as exc:  # handed to the caller, with the graph registered so far
            result.error = exc
    if result.error is None and mock.refused:
        result.error = mock.refused[0]
    result.resources = _ordered(monitor.registered)
    return result
