"""The optional `athena` switch: query the trail's bucket at scale, asking the questions the CLI asks locally.

A Glue database and table over the log bucket with CloudTrail's record schema and partition projection on
account, region and date (no crawler, no `MSCK REPAIR`), an Athena workgroup whose results land encrypted in a
bucket of their own that expires them, and one named query per canned question. The table's shape and the
queries' SQL come from `queries`, which the CLI's `--engine athena` runs too, so both agree.
"""

from __future__ import annotations

import json
import re

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
from ..policies.athena_results import results_bucket_policy
from .buckets import expire_objects, lock_down
from .context import Context

# Every region of each partition, as of 2026. A region without logs costs nothing in a projection; a region
# missing here would be invisible to queries, so the list errs on the generous side.
REGIONS: dict[str, tuple[str, ...]] = {
    "aws": (
        "af-south-1", "ap-east-1", "ap-east-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
        "ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4",
        "ap-southeast-5", "ap-southeast-6", "ap-southeast-7", "ca-central-1", "ca-west-1", "eu-central-1",
        "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2", "eu-west-1", "eu-west-2", "eu-west-3",
        "il-central-1", "me-central-1", "me-south-1", "mx-central-1", "sa-east-1", "us-east-1", "us-east-2",
        "us-west-1", "us-west-2",
    ),
    "aws-cn": ("cn-north-1", "cn-northwest-1"),
    "aws-us-gov": ("us-gov-east-1", "us-gov-west-1"),
}  # fmt: skip
RESULTS_RETENTION_DAYS = 7


def glue_name(name: str) -> str:
    """A Glue database name from a component name (lower-case letters, digits and `_` only)."""
    return re.sub(r"[^a-z0-9_]", "_", name.lower())


def table_parameters(
    bucket: str, prefix: str, partition: str, account: str, organization_id: str | None
) -> dict[str, str]:
    """Partition projection of the trail's layout: the account's own logs (under the org id for an
    organization trail)."""
    params = projection_parameters(bucket, prefix, [account], REGIONS.get(partition, REGIONS["aws"]))
    params["storage.location.template"] = (
        table_location(bucket, prefix, organization_id) + "${account}/CloudTrail/${region}/${date}"
    )
    return params


def add_athena(ctx: Context, *, bucket_name: pulumi.Input[str]) -> None:
    """Glue database + table, Athena workgroup with its results bucket, and the named queries.

    Names follow the component's (`<name>` workgroup, `<name>` as a Glue name for the database, table
    `cloudtrail_logs`): the CLI's `--engine athena` defaults match a component named `audit-trail`.
    """
    name, tags = ctx.name, ctx.tags
    s3_key_prefix, organization_id = ctx.settings.s3_key_prefix, ctx.settings.organization
    partition, account = ctx.partition, ctx.account
    opts = ctx.opts()
    results = s3.Bucket(f"{name}-athena-results", force_destroy=True, tags=tags, opts=opts)
    results_ready = [
        *lock_down(f"{name}-athena-results", results, opts),
        expire_objects(
            f"{name}-athena-results",
            results,
            opts,
            rule_id="expire-query-results",
            days=RESULTS_RETENTION_DAYS,
            abort_uploads_after_days=1,
        ),
        s3.BucketPolicy(
            f"{name}-athena-results-policy",
            bucket=results.id,
            policy=results.arn.apply(lambda arn: json.dumps(results_bucket_policy(arn))),
            opts=opts,
        ),
    ]
    database = glue.CatalogDatabase(
        f"{name}-athena-database",
        name=glue_name(name),
        description="CloudTrail logs of the audit trail, for Athena.",
        opts=opts,
    )
    parameters = pulumi.Output.all(bucket_name, partition, account).apply(
        lambda a: table_parameters(a[0], s3_key_prefix, a[1], a[2], organization_id)
    )
    table = glue.CatalogTable(
        f"{name}-athena-table",
        name=DEFAULT_TABLE,
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
        name=name,
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
    for question, (description, sql) in named_queries(DEFAULT_TABLE).items():
        athena.NamedQuery(
            f"{name}-query-{question}",
            name=f"audit-trail {question}",
            description=description,
            database=database.name,
            workgroup=workgroup.name,
            query=sql,
            opts=ctx.opts(depends_on=[table]),
        )
