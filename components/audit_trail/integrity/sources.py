"""Where `verify` reads digests, their signatures and log files: a folder `fetch` wrote, a bucket, or the
bucket of a deployed stack."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..aws_errors import error_code, explain, is_aws_error
from ..errors import CannotRunError, UserError
from ..store import FolderStore, S3Store, Store


def open_bucket(bucket: str, client: Any) -> S3Store:
    """An S3Store, after checking the bucket can be listed (CannotRunError naming it otherwise)."""
    region = client.meta.region_name
    try:
        client.list_objects_v2(Bucket=bucket, MaxKeys=1)
    except Exception as exc:
        if not is_aws_error(exc):
            raise
        if error_code(exc) == "NoSuchBucket":
            raise CannotRunError(
                f"s3://{bucket} does not exist (asked in region {region}). Check the bucket name (--bucket, "
                "or the stack's bucketName output): a trail whose bucket is gone delivers nothing."
            ) from None
        raise explain(
            exc,
            action="listing",
            resource=f"s3://{bucket}",
            region=region,
            need="s3:ListBucket and s3:GetObject",
        ) from None
    return S3Store(bucket, client)


@dataclass(frozen=True)
class Source:
    store: Store
    prefix: str = ""
    accounts: frozenset[str] | None = None


def open_source(
    *, folder: Path | None, stack: str | None, bucket: str | None, prefix: str, client: Any = None
) -> Source:
    """The one place to read: --folder, --stack (its bucket, prefix and account) or --bucket/--prefix."""
    given = [
        flag for flag, value in (("--folder", folder), ("--stack", stack), ("--bucket", bucket)) if value
    ]
    if len(given) != 1:
        raise UserError(
            f"{' and '.join(given) or 'no source'}: name exactly one of --folder DIR (as `audit-trail fetch` "
            "wrote it), --stack STACK (the deployed stack's bucket) or --bucket NAME [--prefix PREFIX]."
        )
    if folder is not None:
        root = folder.expanduser()
        if not root.is_dir():
            raise UserError(
                f"--folder {root}: no such folder. Give the folder `audit-trail fetch` wrote "
                "(it holds AWSLogs/<account>/CloudTrail-Digest/...)."
            )
        return Source(FolderStore(root), prefix)
    if client is None:
        import boto3  # type: ignore[import-untyped]

        client = boto3.client("s3")
    if stack is not None:
        from ..stack_outputs import read_stack_outputs

        outputs = read_stack_outputs(stack, instead="--bucket and --prefix (or --folder)")
        # The trail's ARN names the account it logs (arn:<partition>:cloudtrail:<region>:<account>:trail/...).
        account = str(outputs.get("trailArn", "")).split(":")[4:5]
        accounts = frozenset(account) if account and account[0].isdigit() else None
        return Source(
            open_bucket(str(outputs["bucketName"]), client), str(outputs.get("s3KeyPrefix") or ""), accounts
        )
    assert bucket is not None
    return Source(open_bucket(bucket, client), prefix)
