"""Where `verify` reads digests, their signatures and log files: an S3 bucket or a folder `fetch` wrote.

Both are addressed by S3 key. In a folder the key is the path under its root, and a digest's S3 user metadata
(its signature) is the `<digest file>.meta.json` saved beside it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import orjson
from botocore.exceptions import ClientError  # type: ignore[import-untyped]

from ..errors import UserError

# Beside each fetched digest file: its S3 user metadata (the signature), as `fetch` writes it.
META_SUFFIX = ".meta.json"


@dataclass(frozen=True)
class Blob:
    body: bytes
    metadata: dict[str, str]


class Store(Protocol):
    bucket: str | None
    """The bucket the digests name (None for a folder: any bucket the digests name is accepted)."""

    def describe(self) -> str: ...
    def listdir(self, prefix: str) -> tuple[list[str], list[str]]:
        """(sub-folder names, file names) directly under PREFIX (no trailing '/')."""
        ...

    def get(self, key: str, bucket: str | None = None) -> Blob | None:
        """The object at KEY (in BUCKET if it differs), or None if there is none."""
        ...


class FolderStore:
    bucket: str | None = None

    def __init__(self, root: Path) -> None:
        if not root.is_dir():
            raise UserError(
                f"--folder {root}: no such folder. Give the folder `audit-trail fetch` wrote "
                "(it holds AWSLogs/<account>/CloudTrail-Digest/...)."
            )
        self.root = root

    def describe(self) -> str:
        return str(self.root)

    def listdir(self, prefix: str) -> tuple[list[str], list[str]]:
        try:
            with os.scandir(self.root / prefix) as it:
                entries = list(it)
        except (FileNotFoundError, NotADirectoryError):
            return [], []
        dirs = sorted(e.name for e in entries if e.is_dir())
        files = sorted(e.name for e in entries if e.is_file() and not e.name.endswith(META_SUFFIX))
        return dirs, files

    def get(self, key: str, bucket: str | None = None) -> Blob | None:
        path = self.root / key
        try:
            body = path.read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None
        meta_path = path.with_name(path.name + META_SUFFIX)
        metadata: dict[str, str] = {}
        if meta_path.is_file():
            try:
                loaded = orjson.loads(meta_path.read_bytes())
            except orjson.JSONDecodeError:
                loaded = {}
            if isinstance(loaded, dict):
                metadata = {str(k): str(v) for k, v in loaded.items()}
        return Blob(body, metadata)


class S3Store:
    def __init__(self, bucket: str, client: Any) -> None:
        self.bucket: str | None = bucket
        self.client = client

    def describe(self) -> str:
        return f"s3://{self.bucket}"

    def listdir(self, prefix: str) -> tuple[list[str], list[str]]:
        p = f"{prefix}/" if prefix else ""
        dirs: list[str] = []
        files: list[str] = []
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=p, Delimiter="/"):
            dirs.extend(cp["Prefix"][len(p) :].rstrip("/") for cp in page.get("CommonPrefixes", ()))
            files.extend(o["Key"][len(p) :] for o in page.get("Contents", ()))
        return sorted(dirs), sorted(files)

    def get(self, key: str, bucket: str | None = None) -> Blob | None:
        try:
            response = self.client.get_object(Bucket=bucket or self.bucket, Key=key)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            if error.get("Code") in ("NoSuchKey", "404"):
                return None
            raise UserError(
                f"s3://{bucket or self.bucket}/{key}: cannot read it ({error.get('Code')}: "
                f"{error.get('Message')}). Verifying needs s3:GetObject on the trail's bucket (and "
                "kms:Decrypt on its key if the logs are SSE-KMS encrypted)."
            ) from exc
        return Blob(response["Body"].read(), dict(response.get("Metadata") or {}))


def open_bucket(bucket: str, client: Any) -> S3Store:
    """An S3Store, after checking the bucket can be listed (UserError naming --bucket otherwise)."""
    try:
        client.list_objects_v2(Bucket=bucket, MaxKeys=1)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise UserError(
            f"--bucket {bucket}: cannot list it ({error.get('Code')}: {error.get('Message')}). "
            "Check the name and that your credentials may s3:ListBucket and s3:GetObject on it."
        ) from exc
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
        return Source(FolderStore(folder.expanduser()), prefix)
    if client is None:
        import boto3  # type: ignore[import-untyped]

        client = boto3.client("s3")
    if stack is not None:
        from ..stack_outputs import read_stack_outputs

        outputs = read_stack_outputs(stack)
        account = str(outputs.get("logsLocation", "")).rstrip("/").rsplit("/", 1)[-1]
        accounts = frozenset({account}) if account.isdigit() else None
        return Source(
            open_bucket(str(outputs["bucketName"]), client), str(outputs.get("s3KeyPrefix") or ""), accounts
        )
    assert bucket is not None
    return Source(open_bucket(bucket, client), prefix)
