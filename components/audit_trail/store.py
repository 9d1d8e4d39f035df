"""Where a trail's files are read from: a local folder or an S3 bucket, both addressed by S3 key.

One abstraction for every command that lists or reads the layout (`query` and the questions, `hunt`,
`fetch`, `verify`). In a folder the key is the path under its root, and a digest's S3 user metadata (its
signature) is the `<digest file>.meta.json` that `fetch` saved beside it. boto3 loads only for S3.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import orjson

from .cloudtrail_layout import META_SUFFIX, join_key
from .errors import CannotRunError


@dataclass(frozen=True, slots=True)
class Entry:
    """A file in a listing: its name (or key, in a walk), its size, and what identifies this version of it."""

    name: str
    size: int
    version: str = ""
    """Local: mtime and ctime in ns (a user can set mtime back, not ctime); S3: the ETag."""


@dataclass(frozen=True)
class Blob:
    body: bytes
    metadata: dict[str, str]


class TooLarge(Exception):
    """An object larger than the caller's limit: none of it is kept."""


META_LIMIT = 64 * 1024
"""A digest's S3 user metadata is a 512-character hex signature and a few short values."""


class Store(Protocol):
    bucket: str | None
    """The bucket (None for a folder)."""

    def describe(self) -> str: ...

    def location(self, key: str) -> str:
        """A path or `s3://bucket/key` URL the scanner can read KEY from."""
        ...

    def listdir(self, prefix: str) -> tuple[list[str], list[Entry]]:
        """(sub-folder names, files) directly under PREFIX (no trailing '/'), both sorted by name."""
        ...

    def walk(self, prefix: str) -> Iterator[Entry]:
        """Every file at any depth under PREFIX, as Entry(key, size), in key order."""
        ...

    def get(self, key: str, limit: int) -> Blob | None:
        """The object at KEY, or None if there is none (or, in a folder, it is no regular file inside the
        folder). TooLarge past LIMIT bytes: a hostile object can never be read whole."""
        ...


def s3_client() -> Any:
    import boto3  # type: ignore[import-untyped]

    return boto3.client("s3")


@dataclass
class FolderStore:
    root: Path
    bucket: str | None = field(default=None, init=False)

    def describe(self) -> str:
        return str(self.root)

    def location(self, key: str) -> str:
        return str(self.root / key) if key else str(self.root)

    def _entries(self, prefix: str) -> list[os.DirEntry[str]]:
        try:
            with os.scandir(self.root / prefix) as it:
                return list(it)
        except (FileNotFoundError, NotADirectoryError):
            return []

    def listdir(self, prefix: str) -> tuple[list[str], list[Entry]]:
        dirs: list[str] = []
        files: list[Entry] = []
        for e in self._entries(prefix):
            if e.is_dir():
                dirs.append(e.name)
            elif e.is_file() and not e.name.endswith(META_SUFFIX):
                st = e.stat()
                files.append(Entry(e.name, st.st_size, f"{st.st_mtime_ns}:{st.st_ctime_ns}"))
        return sorted(dirs), sorted(files, key=lambda f: f.name)

    def walk(self, prefix: str) -> Iterator[Entry]:
        dirs, files = self.listdir(prefix)
        for f in files:
            yield Entry(join_key(prefix, f.name), f.size, f.version)
        for d in dirs:
            yield from self.walk(join_key(prefix, d))

    def _read(self, key: str, limit: int) -> bytes | None:
        """KEY's bytes if it names a regular file inside the folder. Symlinks leading out of it, devices
        and FIFOs (which would read forever, or block) count as absent."""
        parts = key.split("/")
        if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts):
            return None
        path = self.root.joinpath(*parts)
        root = os.path.realpath(self.root)
        if os.path.commonpath([root, os.path.realpath(path)]) != root:
            return None
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as exc:
            raise CannotRunError(
                f"{path}: cannot read it ({exc.strerror}). Give the folder read access, then run again."
            ) from exc
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return None
            body = f.read(limit + 1)
        if len(body) > limit:
            raise TooLarge(f"{self.location(key)} is larger than {limit:,} bytes")
        return body

    def get(self, key: str, limit: int) -> Blob | None:
        body = self._read(key, limit)
        if body is None:
            return None
        metadata: dict[str, str] = {}
        try:
            sidecar = self._read(key + META_SUFFIX, META_LIMIT)
        except TooLarge:
            sidecar = None
        if sidecar is not None:
            try:
                loaded = orjson.loads(sidecar)
            except orjson.JSONDecodeError:
                loaded = {}
            if isinstance(loaded, dict):
                metadata = {str(k): str(v) for k, v in loaded.items()}
        return Blob(body, metadata)


class S3Store:
    def __init__(self, bucket: str, client: Any = None) -> None:
        self.bucket: str | None = bucket
        self.client = client if client is not None else s3_client()

    def describe(self) -> str:
        return f"s3://{self.bucket}"

    def location(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    def _pages(self, prefix: str, delimiter: bool) -> Iterator[dict[str, Any]]:
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": prefix}
        if delimiter:
            kwargs["Delimiter"] = "/"
        yield from self.client.get_paginator("list_objects_v2").paginate(**kwargs)

    def listdir(self, prefix: str) -> tuple[list[str], list[Entry]]:
        p = f"{prefix}/" if prefix else ""
        dirs: list[str] = []
        files: list[Entry] = []
        for page in self._pages(p, True):
            dirs.extend(cp["Prefix"][len(p) :].rstrip("/") for cp in page.get("CommonPrefixes", ()))
            files.extend(
                Entry(o["Key"][len(p) :], o["Size"], str(o.get("ETag", ""))) for o in page.get("Contents", ())
            )
        return sorted(dirs), sorted(files, key=lambda f: f.name)

    def walk(self, prefix: str) -> Iterator[Entry]:
        for page in self._pages(f"{prefix}/" if prefix else "", False):
            for o in page.get("Contents", ()):
                yield Entry(o["Key"], o["Size"], str(o.get("ETag", "")))

    def get(self, key: str, limit: int) -> Blob | None:
        from botocore.exceptions import ClientError  # type: ignore[import-untyped]

        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            if error.get("Code") in ("NoSuchKey", "404"):
                return None
            raise CannotRunError(
                f"s3://{self.bucket}/{key}: cannot read it ({error.get('Code')}: "
                f"{error.get('Message')}). Reading needs s3:GetObject on the trail's bucket (and "
                "kms:Decrypt on its key if the logs are SSE-KMS encrypted)."
            ) from exc
        with response["Body"] as stream:
            if int(response.get("ContentLength") or 0) > limit:
                raise TooLarge(f"{self.location(key)} is larger than {limit:,} bytes")
            body = stream.read(limit + 1)
        if len(body) > limit:
            raise TooLarge(f"{self.location(key)} is larger than {limit:,} bytes")
        return Blob(body, dict(response.get("Metadata") or {}))
