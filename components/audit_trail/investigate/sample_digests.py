"""The signed digest chain of a generated sample folder, as CloudTrail delivers one when validation is on.

Every region gets a digest for every hour of the sample, also for an hour without log files ("CloudTrail
digest file structure": 'Empty' digest files), each listing the files delivered in its hour with the SHA-256
of their uncompressed content, naming the previous digest (the first is a starting digest, its previous
fields null) and signed SHA256withRSA over the string "Custom implementations of CloudTrail log file integrity
validation" describes. The signature is saved beside each digest as `<digest>.meta.json`, as `fetch` saves a
digest's S3 metadata, and the public key as `list-public-keys` prints it, one file per region.

The signing key is a sample key, made once per process: it is no CloudTrail key, and a digest it signed proves
nothing outside the sample. This module shares no code with the verifier on purpose, so that a mistake in
either shows up when one checks the other.
"""

from __future__ import annotations

import base64
import functools
import gzip
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

SAMPLE_BUCKET = "audit-trail-sample"
TRAIL = "audit"
HOME_REGION = "us-east-1"
KEYS_FOLDER = "public-keys"
HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class Delivered:
    """A log file the sample wrote: its key, region, delivery time and SHA-256 of its uncompressed bytes."""

    key: str
    region: str
    at: datetime
    sha256: str


@functools.cache
def sample_key() -> rsa.RSAPrivateKey:
    """The sample's signing key: a fresh RSA key, once per process. 1024 bits, not CloudTrail's 2048: it
    signs five times faster (the tests generate samples often), and what it signs proves nothing anyway."""
    return rsa.generate_private_key(public_exponent=65537, key_size=1024)


@functools.cache
def _public_der() -> bytes:
    """DER RSAPublicKey (PKCS#1), as ListPublicKeys returns a key's `Value`."""
    return (
        sample_key().public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    )


@functools.cache
def fingerprint() -> str:
    return hashlib.md5(_public_der()).hexdigest()


def _ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _sign(fields: dict[str, Any], content: bytes) -> str:
    previous = fields["previousDigestSignature"]
    text = "\n".join(
        [
            fields["digestEndTime"],
            f"{fields['digestS3Bucket']}/{fields['digestS3Object']}",
            hashlib.sha256(content).hexdigest(),
            "null" if previous is None else previous,
        ]
    )
    return sample_key().sign(text.encode(), padding.PKCS1v15(), hashes.SHA256()).hex()


def write_chain(
    root: Path,
    account_key: str,
    account: str,
    regions: Iterable[str],
    start: datetime,
    end: datetime,
    delivered: Iterable[Delivered],
    bucket: str = SAMPLE_BUCKET,
) -> int:
    """Hourly signed digests from START to END for each of REGIONS under ROOT/ACCOUNT_KEY (the account's key,
    `[prefix/]AWSLogs/<account>`), listing DELIVERED; returns how many were written."""
    by_hour: dict[tuple[str, datetime], list[Delivered]] = {}
    for log in delivered:
        hour = start + HOUR * ((log.at - start) // HOUR)
        by_hour.setdefault((log.region, hour), []).append(log)
    written = 0
    folders: set[Path] = set()
    for region in sorted(set(regions)):
        previous: tuple[str, str, str] | None = None  # key, SHA-256 of its content, signature
        begin = start
        while begin < end:
            finish = begin + HOUR
            logs = sorted(by_hour.get((region, begin), []), key=lambda log: log.key)
            key = (
                f"{account_key}/CloudTrail-Digest/{region}/{finish:%Y/%m/%d}/"
                f"{account}_CloudTrail-Digest_{region}_{TRAIL}_{HOME_REGION}_{finish:%Y%m%dT%H%M%SZ}.json.gz"
            )
            fields = {
                "awsAccountId": account,
                "digestStartTime": _ts(begin),
                "digestEndTime": _ts(finish),
                "digestS3Bucket": bucket,
                "digestS3Object": key,
                "digestPublicKeyFingerprint": fingerprint(),
                "digestSignatureAlgorithm": "SHA256withRSA",
                "newestEventTime": _ts(logs[-1].at) if logs else None,
                "oldestEventTime": _ts(logs[0].at) if logs else None,
                "previousDigestS3Bucket": bucket if previous else None,
                "previousDigestS3Object": previous[0] if previous else None,
                "previousDigestHashValue": previous[1] if previous else None,
                "previousDigestHashAlgorithm": "SHA-256" if previous else None,
                "previousDigestSignature": previous[2] if previous else None,
                "logFiles": [
                    {
                        "s3Bucket": bucket,
                        "s3Object": log.key,
                        "hashValue": log.sha256,
                        "hashAlgorithm": "SHA-256",
                        "newestEventTime": _ts(log.at),
                        "oldestEventTime": _ts(log.at),
                    }
                    for log in logs
                ],
            }
            content = orjson.dumps(fields)
            signature = _sign(fields, content)
            path = root / key
            if path.parent not in folders:
                path.parent.mkdir(parents=True, exist_ok=True)
                folders.add(path.parent)
            path.write_bytes(gzip.compress(content, compresslevel=6, mtime=0))
            meta = {"signature": signature, "signature-algorithm": "SHA256withRSA"}
            path.with_name(path.name + ".meta.json").write_bytes(orjson.dumps(meta))
            previous = (key, hashlib.sha256(content).hexdigest(), signature)
            written += 1
            begin = finish
    return written


def write_public_keys(
    folder: Path, regions: Iterable[str], valid_from: datetime, valid_until: datetime
) -> None:
    """FOLDER/keys-<region>.json for each region, as `aws cloudtrail list-public-keys --output json` prints
    the sample key."""
    folder.mkdir(parents=True, exist_ok=True)
    entry = {
        "Value": base64.b64encode(_public_der()).decode(),
        "ValidityStartTime": valid_from.isoformat(),
        "ValidityEndTime": valid_until.isoformat(),
        "Fingerprint": fingerprint(),
    }
    for region in sorted(set(regions)):
        (folder / f"keys-{region}.json").write_bytes(
            orjson.dumps({"PublicKeyList": [entry]}, option=orjson.OPT_INDENT_2)
        )
