"""The optional `athena` switch: query the trail's bucket at scale, asking the questions the CLI asks locally.

A Glue database and table over the log bucket with CloudTrail's record schema and partition projection on
account, region and date (no crawler, no `MSCK REPAIR`), an Athena workgroup whose results land encrypted in a
bucket of their own that expires them, and one named query per canned question. The table's shape and the
queries' SQL come from `queries`, which the CLI's `--engine athena` runs too, so both agree.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
from pulumi_aws import athena, glue, s3

from ...cloudtrail_layout import table_location
from ...queries.athena import named_queries
from ...queries.glue_table import (
    DEFAULT_TABLE,
    INPUT_FORMAT,
    OUTPUT_FORMAT,
    PARTITION_KEYS,
    SERDE,
    TABLE_COLUMNS,
    projection_parameters,
)
from ...regions import regions_of
from ..names import ATHENA_RESULTS_BUCKET
from ..policies.athena_results import results_bucket_policy
from ..settings import AuditTrailSettings
from .buckets import expire_objects, lock_down
from .context import Context

RESULTS_RETENTION_DAYS = 7


MAX_WORKGROUP_NAME = 128
MAX_DATABASE_NAME = 255


def glue_name(name: str) -> str:
    """A Glue database name (lower-case letters, digits and `_` only) from a component or stack name."""
    return re.sub(r"[^a-z0-9_]", "_", name.lower())[:MAX_DATABASE_NAME]


@dataclass(frozen=True)
class AthenaNames:
    database: str
    workgroup: str
    table: str = DEFAULT_TABLE


def athena_names(settings: AuditTrailSettings, component: str, stack: str) -> AthenaNames:
    """The configured names, else ones unique to the stack: Glue database and workgroup names are unique per
    account and region, so two stacks there (dev and prod) must not share `audit_trail`/`audit-trail`."""
    scoped = f"{component}-{stack}"
    return AthenaNames(
        database=settings.athena_database or glue_name(scoped),
        workgroup=settings.athena_workgroup or re.sub(r"[^A-Za-z0-9._-]", "-", scoped)[:MAX_WORKGROUP_NAME],
    )


def projected_regions(partition: str, extra: Sequence[str]) -> list[str]:
    """Every region of the partition (a region without logs costs nothing in a projection; a missing one
    would be invisible to queries), and the stack's `extraRegions`."""
    return sorted({*regions_of(partition), *extra} or set(regions_of("aws")))


def table_parameters(
    bucket: str,
    prefix: str,
    partition: str,
    account: str,
    organization_id: str | None,
    extra_regions: Sequence[str] = (),
) -> dict[str, str]:
    """Partition projection of the trail's layout: the account's own logs (under the org id for an
    organization trail)."""
    params = projection_parameters(bucket, prefix, [account], projected_regions(partition, extra_regions))
    params["storage.location.template"] = (
        table_location(bucket, prefix, organization_id) + "${account}/CloudTrail/${region}/${date}"
    )
    return params


def add_athena(ctx: Context, *, bucket_name: pulumi.Input[str]) -> AthenaNames:
    """Glue database + table, Athena workgroup with its results bucket, and the named queries; their names
    (the stack exports them, and `--engine athena --stack S` reads them from there)."""
    names = athena_names(ctx.settings, ctx.name, pulumi.get_stack())
    name, tags = ctx.name, ctx.tags
    extra_regions = list(ctx.settings.extra_regions)
    s3_key_prefix, organization_id = ctx.settings.s3_key_prefix, ctx.settings.organization
    partition, account = ctx.partition, ctx.account
    opts = ctx.opts()
    results_name = f"{name}-{ATHENA_RESULTS_BUCKET}"
    results = s3.Bucket(results_name, force_destroy=True, tags=tags, opts=opts)
    results_ready = [
        *lock_down(results_name, results, opts),
        expire_objects(
            results_name,
            results,
            opts,
            rule_id="expire-query-results",
            days=RESULTS_RETENTION_DAYS,
            abort_uploads_after_days=1,
        ),
        s3.BucketPolicy(
            f"{results_name}-policy",
            bucket=results.id,
            policy=results.arn.apply(lambda arn: json.dumps(results_bucket_policy(arn))),
            opts=opts,
        ),
    ]
    database = glue.CatalogDatabase(
        f"{name}-athena-database",
        name=names.database,
        description="CloudTrail logs of the audit trail, for Athena.",
        tags=tags,
        opts=opts,
    )
    parameters = pulumi.Output.all(bucket_name, partition, account).apply(
        lambda a: table_parameters(a[0], s3_key_prefix, a[1], a[2], organization_id, extra_regions)
    )
    table = glue.CatalogTable(
        f"{name}-athena-table",
        name=names.table,
        database_name=database.name,
        table_type="EXTERNAL_TABLE",
        description="CloudTrail records; partitions projected from the bucket's key layout.",
        parameters=parameters,
        partition_keys=[glue.CatalogTablePartitionKeyArgs(name=n, type=t) for n, t in PARTITION_KEYS],
        storage_descriptor=glue.CatalogTableStorageDescriptorArgs(
            location=pulumi.Output.from_input(bucket_name).apply(
                lambda b: table_location(b, s3_key_prefix, organization_id)
            ),
            input_format=INPUT_FORMAT,
            output_format=OUTPUT_FORMAT,
            ser_de_info=glue.CatalogTableStorageDescriptorSerDeInfoArgs(serialization_library=SERDE),
            columns=[glue.CatalogTableStorageDescriptorColumnArgs(name=n, type=t) for n, t in TABLE_COLUMNS],
        ),
        opts=opts,
    )
    workgroup = athena.Workgroup(
        f"{name}-athena-workgroup",
        name=names.workgroup,
        description="Queries over the audit trail's CloudTrail logs.",
        force_destroy=True,
        configuration=athena.WorkgroupConfigurationArgs(
            # Users cannot send results elsewhere or unencrypted.
            enforce_workgroup_configuration=True,
            publish_cloudwatch_metrics_enabled=True,
            result_configuration=athena.WorkgroupConfigurationResultConfigurationArgs(
                output_location=results.bucket.apply(lambda b: f"s3://{b}/results/"),
                encryption_configuration=athena.WorkgroupConfigurationResultConfigurationEncryptionConfigurationArgs(
                    encryption_option="SSE_S3"
                ),
                expected_bucket_owner=account,
            ),
        ),
        tags=tags,
        opts=ctx.opts(depends_on=results_ready),
    )
    for question, (description, sql) in named_queries(names.table).items():
        athena.NamedQuery(
            f"{name}-query-{question}",
            name=f"audit-trail {question}",
            description=description,
            database=database.name,
            workgroup=workgroup.name,
            query=sql,
            opts=ctx.opts(depends_on=[table]),
        )
    return names
