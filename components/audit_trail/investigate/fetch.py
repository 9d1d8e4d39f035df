"""`fetch`: copy a trail's log files for a window from its bucket into a local folder mirroring the S3 layout.

Resumable: a file already present with the same size is skipped, and each download lands under a temporary
name before it is renamed, so an interrupted run never leaves a partial file under a log file's name. Digest
files come along with their S3 signature metadata saved beside them (`<name>.meta.json`), so the folder can be
verified offline.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from ..cloudtrail_layout import META_SUFFIX, parse_s3_url
from ..errors import UserError
from ..store import s3_client
from ..window import Window
from .sources import LogFile, list_log_files

DIGEST_METADATA = ("signature", "signature-algorithm", "backfill-generation-timestamp")
"""The S3 user metadata of a digest that `verify` needs: its signature, and a backfill's generation time."""


@dataclass
class FetchReport:
    listed: int = 0
    downloaded: int = 0
    skipped: int = 0
    bytes: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)


def local_path(dest: Path, key: str) -> Path:
    """Where KEY goes under DEST; refuses keys that would escape it (`..`, absolute)."""
    parts = PurePosixPath(key).parts
    if not parts or key.startswith("/") or any(p in ("..", ".") for p in parts):
        raise UserError(f"S3 key {key!r} cannot be mirrored safely under {dest}; it was not downloaded.")
    return dest.joinpath(*parts)


def _is_present(path: Path, size: int, digest: bool) -> bool:
    if not path.is_file() or path.stat().st_size != size:
        return False
    return not digest or path.with_name(path.name + META_SUFFIX).is_file()


def _download(client: Any, bucket: str, key: str, path: Path, digest: bool) -> int:
    obj = client.get_object(Bucket=bucket, Key=key)
    body: bytes = obj["Body"].read()
    path.parent.mkdir(parents=True, exist_ok=True)
    if digest:
        meta = obj.get("Metadata", {})
        meta_path = path.with_name(path.name + META_SUFFIX)
        tmp_meta = meta_path.with_name(meta_path.name + ".part")
        tmp_meta.write_text(json.dumps({k: meta[k] for k in DIGEST_METADATA if k in meta}))
        os.replace(tmp_meta, meta_path)
    tmp = path.with_name(path.name + ".part")
    tmp.write_bytes(body)
    os.replace(tmp, path)
    return len(body)


def fetch(
    bucket: str,
    prefix: str,
    dest: Path,
    window: Window,
    *,
    client: Any = None,
    threads: int = 16,
    on_total: Callable[[int], None] | None = None,
    on_file: Callable[[], None] | None = None,
) -> FetchReport:
    """Download the log and digest files of WINDOW from s3://BUCKET/PREFIX into DEST (same key layout)."""
    client = client or s3_client()
    source = f"s3://{bucket}/{prefix.strip('/')}"
    files: list[tuple[LogFile, bool]] = [(f, False) for f in list_log_files(source, window, client=client)]
    files += [(f, True) for f in list_log_files(source, window, client=client, digests=True)]
    report = FetchReport(listed=len(files))
    if on_total:
        on_total(len(files))
    todo: list[tuple[str, Path, bool]] = []
    for file, digest in files:
        key = parse_s3_url(file.location)[1]
        path = local_path(dest, key)
        if _is_present(path, file.size, digest):
            report.skipped += 1
            if on_file:
                on_file()
        else:
            todo.append((key, path, digest))

    def one(item: tuple[str, Path, bool]) -> tuple[str, int | Exception]:
        key, path, digest = item
        try:
            return key, _download(client, bucket, key, path, digest)
        except Exception as exc:  # reported per file; the rest still downloads
            return key, exc

    with ThreadPoolExecutor(max_workers=threads) as pool:
        for key, result in pool.map(one, todo):
            if isinstance(result, Exception):
                report.failed.append((key, str(result)))
            else:
                report.downloaded += 1
                report.bytes += result
            if on_file:
                on_file()
    return report
