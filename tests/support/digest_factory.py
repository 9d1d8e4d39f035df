"""Synthetic CloudTrail log and digest files, signed with a test RSA key exactly as CloudTrail signs them.

Signing: SHA256withRSA (PKCS#1 v1.5) over digestEndTime, "bucket/key" of the digest, hex SHA-256 of the
uncompressed digest, and the previous digest's hex signature (`null` for the first), joined by newlines; the
signature goes into the object's user metadata (`signature`, `signature-algorithm`).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

ACCOUNT = "111122223333"
BUCKET = "trail-bucket"
TRAIL = "account-activity-trail"


@dataclass(frozen=True)
class Signer:
    key: rsa.RSAPrivateKey

    @property
    def public_der(self) -> bytes:
        """The public key as ListPublicKeys returns it: DER RSAPublicKey (PKCS#1)."""
        return self.key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.PKCS1
        )

    @property
    def fingerprint(self) -> str:
        return hashlib.md5(self.public_der).hexdigest()

    def sign(self, message: bytes) -> str:
        return self.key.sign(message, padding.PKCS1v15(), hashes.SHA256()).hex()

    def list_public_keys_json(
        self,
        valid_from: datetime = datetime(2026, 1, 1, tzinfo=UTC),
        valid_until: datetime = datetime(2027, 1, 1, tzinfo=UTC),
    ) -> dict[str, Any]:
        """What `aws cloudtrail list-public-keys --output json` prints for this key."""
        return {
            "PublicKeyList": [
                {
                    "Value": base64.b64encode(self.public_der).decode(),
                    "ValidityStartTime": valid_from.isoformat(),
                    "ValidityEndTime": valid_until.isoformat(),
                    "Fingerprint": self.fingerprint,
                }
            ]
        }


def new_signer() -> Signer:
    return Signer(rsa.generate_private_key(public_exponent=65537, key_size=2048))


@dataclass
class Obj:
    key: str
    body: bytes
    metadata: dict[str, str] = field(default_factory=dict)


def _ts(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def log_file(account: str, region: str, t: datetime, unique: str, prefix: str = "") -> tuple[str, bytes]:
    """(key, uncompressed JSON) of one log file named for minute T."""
    records = {
        "Records": [
            {
                "eventVersion": "1.09",
                "eventTime": _ts(t),
                "eventSource": "s3.amazonaws.com",
                "eventName": "ListBuckets",
                "awsRegion": region,
                "recipientAccountId": account,
                "eventID": f"{unique}-0",
            }
        ]
    }
    key = (
        f"{prefix + '/' if prefix else ''}AWSLogs/{account}/CloudTrail/{region}/{t:%Y/%m/%d}/"
        f"{account}_CloudTrail_{region}_{t:%Y%m%dT%H%MZ}_{unique}.json.gz"
    )
    return key, json.dumps(records).encode()


def sign_digest(
    fields: dict[str, Any], signer: Signer, generated: datetime | None = None
) -> tuple[bytes, dict[str, str]]:
    """(gzip body, S3 metadata) of a digest with FIELDS, signed by SIGNER; GENERATED makes it a backfill
    digest's metadata (`backfill-generation-timestamp`)."""
    content = json.dumps(fields).encode()
    previous = fields["previousDigestSignature"]
    to_sign = "\n".join(
        [
            fields["digestEndTime"],
            f"{fields['digestS3Bucket']}/{fields['digestS3Object']}",
            hashlib.sha256(content).hexdigest(),
            "null" if previous is None else previous,
        ]
    ).encode()
    metadata = {"signature": signer.sign(to_sign), "signature-algorithm": "SHA256withRSA"}
    if generated is not None:
        metadata["backfill-generation-timestamp"] = _ts(generated)
    return gzip.compress(content), metadata


def digest_key(account: str, region: str, end: datetime, prefix: str = "", backfill: bool = False) -> str:
    base = f"{prefix}/" if prefix else ""
    suffix = "_backfill" if backfill else ""
    return (
        f"{base}AWSLogs/{account}/CloudTrail-Digest/{region}/{end:%Y/%m/%d}/"
        f"{account}_CloudTrail-Digest_{region}_{TRAIL}_us-east-1_{end:%Y%m%dT%H%M%SZ}{suffix}.json.gz"
    )


def _entry(bucket: str, key: str, content: bytes, t: datetime) -> dict[str, Any]:
    return {
        "s3Bucket": bucket,
        "s3Object": key,
        "hashValue": hashlib.sha256(content).hexdigest(),
        "hashAlgorithm": "SHA-256",
        "newestEventTime": _ts(t),
        "oldestEventTime": _ts(t),
    }


def digest_fields(
    key: str,
    begin: datetime,
    end: datetime,
    signer: Signer,
    entries: list[dict[str, Any]],
    previous: Obj | None,
    *,
    account: str = ACCOUNT,
    bucket: str = BUCKET,
) -> dict[str, Any]:
    """A digest's fields, linked to PREVIOUS (a digest Obj) or a starting digest when it is None."""
    return {
        "awsAccountId": account,
        "digestStartTime": _ts(begin),
        "digestEndTime": _ts(end),
        "digestS3Bucket": bucket,
        "digestS3Object": key,
        "digestPublicKeyFingerprint": signer.fingerprint,
        "digestSignatureAlgorithm": "SHA256withRSA",
        "newestEventTime": entries[-1]["newestEventTime"] if entries else None,
        "oldestEventTime": entries[0]["oldestEventTime"] if entries else None,
        "previousDigestS3Bucket": bucket if previous else None,
        "previousDigestS3Object": previous.key if previous else None,
        "previousDigestHashValue": (
            hashlib.sha256(gzip.decompress(previous.body)).hexdigest() if previous else None
        ),
        "previousDigestHashAlgorithm": "SHA-256" if previous else None,
        "previousDigestSignature": previous.metadata["signature"] if previous else None,
        "logFiles": entries,
    }


def build_chain(
    signer: Signer,
    start: datetime,
    hours: int,
    *,
    region: str = "us-east-1",
    logs_per_hour: int = 2,
    empty_hours: frozenset[int] = frozenset(),
    account: str = ACCOUNT,
    bucket: str = BUCKET,
    prefix: str = "",
    previous: Obj | None = None,
) -> tuple[list[Obj], list[Obj]]:
    """(digests, logs): HOURS hourly digests from START (any phase: 21:01:31 gives digests ending at :01:31),
    each listing the log files delivered in its hour; the first links to PREVIOUS, or starts a chain."""
    digests: list[Obj] = []
    logs: list[Obj] = []
    for hour in range(hours):
        begin, end = start + timedelta(hours=hour), start + timedelta(hours=hour + 1)
        entries = []
        for n in range(0 if hour in empty_hours else logs_per_hour):
            t = begin + timedelta(minutes=5 + 20 * n)
            key, content = log_file(account, region, t, f"h{hour}n{n}{region.replace('-', '')}", prefix)
            logs.append(Obj(key, gzip.compress(content)))
            entries.append(_entry(bucket, key, content, t))
        key = digest_key(account, region, end, prefix)
        fields = digest_fields(key, begin, end, signer, entries, previous, account=account, bucket=bucket)
        body, metadata = sign_digest(fields, signer)
        previous = Obj(key, body, metadata)
        digests.append(previous)
    return digests, logs


def backfill_digest(
    signer: Signer,
    end: datetime,
    logs: list[tuple[str, bytes, datetime]],
    generated: datetime,
    *,
    previous: Obj | None = None,
    region: str = "us-east-1",
    account: str = ACCOUNT,
    bucket: str = BUCKET,
) -> Obj:
    """A backfill digest for the hour ending at END, listing LOGS ((key, uncompressed content, minute)) the
    hour's original digest left out, generated (and signed) at GENERATED."""
    key = digest_key(account, region, end, backfill=True)
    entries = [_entry(bucket, k, content, t) for k, content, t in logs]
    fields = digest_fields(
        key, end - timedelta(hours=1), end, signer, entries, previous, account=account, bucket=bucket
    )
    body, metadata = sign_digest(fields, signer, generated)
    return Obj(key, body, metadata)


def write_folder(root: Path, objects: list[Obj]) -> None:
    """The layout `audit-trail fetch` writes: files by key, a digest's metadata in `<name>.meta.json`."""
    for obj in objects:
        path = root / obj.key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(obj.body)
        if obj.metadata:
            path.with_name(path.name + ".meta.json").write_text(json.dumps(obj.metadata))


def write_s3(client: Any, bucket: str, objects: list[Obj]) -> None:
    for obj in objects:
        client.put_object(Bucket=bucket, Key=obj.key, Body=obj.body, Metadata=obj.metadata)


def read_fields(path: Path) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(gzip.decompress(path.read_bytes()))
    return result
