"""CloudTrail digest files as pure functions: parsing (every field checked for its shape), the string to sign,
signature and hash checks, and how much of a digest or log file is ever read.

The algorithm follows two pages of the AWS CloudTrail User Guide: "Custom implementations of CloudTrail log
file integrity validation" (string to sign, SHA256withRSA verification, public key chosen by fingerprint among
the region's keys for the digest's time, hashes of the uncompressed files, walking the chain through the
previous digest) and "CloudTrail digest file structure" (field meanings, the starting digest whose
previous-digest fields are null, digests with no logs, backfill digests). A backfill digest carries its
generation time in its S3 metadata (`backfill-generation-timestamp`) and is signed with the key valid then,
as `aws cloudtrail validate-logs` reads it.
"""

from __future__ import annotations

import binascii
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import load_der_public_key

from ..compressed import GzipError, inflate_chunks
from ..compressed import gunzip as inflate
from ..times import parse_instant

SIGNATURE_ALGORITHM = "SHA256withRSA"
HASH_ALGORITHM = "SHA-256"
BACKFILL_METADATA = "backfill-generation-timestamp"
"""S3 user metadata of a backfill digest: when CloudTrail generated (and signed) it."""

MAX_DIGEST_BYTES = 32 << 20
"""What a digest file may be, compressed or not. One log file entry is about 400 bytes, so 32 MiB lists some
80,000 log files: far more than one account delivers in one region in an hour, and still small enough that a
planted digest (or a `previousDigestS3Object` pointing at a device) cannot exhaust memory."""
MAX_LOG_READ_BYTES = 64 << 20
"""What a log file may be, compressed, to be read for hashing. CloudTrail writes a file every few minutes per
region and splits busy periods into more files, so genuine files are kilobytes to a few megabytes; 64 MiB
(times the 8 reading threads) is a bound on memory, not a guess at a real size."""
MAX_LOG_INFLATED_BYTES = 1 << 30
"""What a log file may inflate to. It is hashed a megabyte at a time, never held whole: this only bounds the
time a gzip bomb can take (about a second per GiB)."""


class DigestError(Exception):
    """A digest (or log) file that cannot be read as CloudTrail writes it."""


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_of_gzip(data: bytes) -> str:
    """Hex SHA-256 of the uncompressed content of gzip DATA, inflated in chunks; DigestError if it is not a
    complete gzip file or inflates past MAX_LOG_INFLATED_BYTES."""
    digest = hashlib.sha256()
    try:
        for chunk in inflate_chunks(data, MAX_LOG_INFLATED_BYTES):
            digest.update(chunk)
    except GzipError as exc:
        raise DigestError(f"not a complete gzip file ({exc})") from exc
    return digest.hexdigest()


@dataclass(frozen=True)
class LogEntry:
    """One element of a digest's `logFiles`."""

    bucket: str
    key: str
    hash_value: str
    hash_algorithm: str


@dataclass(frozen=True)
class Digest:
    """One digest file: where it was read, its uncompressed bytes and checked fields, and its S3 metadata."""

    key: str
    content: bytes
    fields: Mapping[str, Any]
    start: datetime
    end: datetime
    log_files: tuple[LogEntry, ...]
    signature: str | None
    signature_algorithm: str | None
    generated: datetime | None
    """A backfill digest's generation time (S3 metadata `backfill-generation-timestamp`), else None."""

    @property
    def hash(self) -> str:
        return sha256_hex(self.content)

    @property
    def bucket(self) -> str:
        return str(self.fields["digestS3Bucket"])

    @property
    def fingerprint(self) -> str:
        return str(self.fields["digestPublicKeyFingerprint"]).lower()

    @property
    def signed_at(self) -> datetime:
        """When CloudTrail signed it: at the end of its hour, or, for a backfill digest, when generated."""
        return self.generated or self.end

    @property
    def previous_key(self) -> str | None:
        """`previousDigestS3Object`; None for a starting digest (the first of a chain)."""
        value = self.fields.get("previousDigestS3Object")
        return value if isinstance(value, str) else None

    @property
    def previous_bucket(self) -> str | None:
        value = self.fields.get("previousDigestS3Bucket")
        return value if isinstance(value, str) else None


_REQUIRED_TEXT = (
    "digestStartTime",
    "digestEndTime",
    "digestS3Bucket",
    "digestS3Object",
    "digestPublicKeyFingerprint",
)
_TEXT_OR_NULL = (
    "previousDigestS3Bucket",
    "previousDigestS3Object",
    "previousDigestHashValue",
    "previousDigestSignature",
)


def _log_entries(value: Any) -> tuple[LogEntry, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise DigestError(f"logFiles is {type(value).__name__}, not a list of log file entries")
    entries = []
    for n, item in enumerate(value):
        fields = item if isinstance(item, dict) else {}
        bucket, key, value = (fields.get(k) for k in ("s3Bucket", "s3Object", "hashValue"))
        algorithm = fields.get("hashAlgorithm", HASH_ALGORITHM)
        if not (
            isinstance(bucket, str)
            and isinstance(key, str)
            and isinstance(value, str)
            and isinstance(algorithm, str)
            and bucket
            and key
        ):
            raise DigestError(
                f"logFiles[{n}] is not a log file entry (s3Bucket, s3Object, hashValue as text)"
            )
        entries.append(LogEntry(bucket, key, value, algorithm))
    return tuple(entries)


def parse_digest(key: str, compressed: bytes, metadata: Mapping[str, str], backfill: bool = False) -> Digest:
    """The digest at KEY from its gzip bytes and S3 metadata; DigestError naming what is wrong with it."""
    try:
        content = inflate(compressed, MAX_DIGEST_BYTES)
    except GzipError as exc:
        raise DigestError(f"not a complete gzip file ({exc})") from exc
    try:
        fields = orjson.loads(content)
    except orjson.JSONDecodeError as exc:
        raise DigestError(f"not JSON ({exc})") from exc
    if not isinstance(fields, dict):
        raise DigestError("not a CloudTrail digest (not a JSON object)")
    wrong = [f for f in _REQUIRED_TEXT if not isinstance(fields.get(f), str)]
    wrong += [f for f in _TEXT_OR_NULL if not isinstance(fields.get(f), str | None)]
    if wrong:
        raise DigestError(f"not a CloudTrail digest ({', '.join(wrong)} missing or not text)")
    start, end = parse_instant(fields["digestStartTime"]), parse_instant(fields["digestEndTime"])
    if start is None or end is None or start >= end:
        raise DigestError(
            f"digestStartTime {fields['digestStartTime']!r} / digestEndTime {fields['digestEndTime']!r} "
            "name no period"
        )
    generated = None
    if backfill:
        generated = parse_instant(metadata.get(BACKFILL_METADATA))
        if generated is None:
            raise DigestError(
                f"a backfill digest without a `{BACKFILL_METADATA}` in its S3 metadata "
                "(CloudTrail writes one)"
            )
    return Digest(
        key,
        content,
        fields,
        start,
        end,
        _log_entries(fields.get("logFiles")),
        metadata.get("signature"),
        metadata.get("signature-algorithm"),
        generated,
    )


def string_to_sign(fields: Mapping[str, Any], content: bytes) -> bytes:
    """digestEndTime, bucket/key of this digest, hex SHA-256 of its uncompressed content, previous signature.

    A starting digest has a null previousDigestSignature; it is signed over the literal text `null`.
    """
    previous = fields.get("previousDigestSignature")
    return "\n".join(
        [
            str(fields["digestEndTime"]),
            f"{fields.get('digestS3Bucket')}/{fields['digestS3Object']}",
            sha256_hex(content),
            "null" if previous is None else str(previous),
        ]
    ).encode()


def load_public_key(der: bytes) -> rsa.RSAPublicKey:
    """ListPublicKeys' `Value`: a DER RSAPublicKey (PKCS#1); a SubjectPublicKeyInfo DER is accepted too, as
    one of the keys in AWS's own list-public-keys example is one."""
    key = load_der_public_key(der)
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("not an RSA public key")
    return key


def signature_valid(public_key: rsa.RSAPublicKey, signature_hex: str, message: bytes) -> bool:
    """SHA256withRSA (RSASSA-PKCS1-v1_5 over SHA-256) of MESSAGE."""
    try:
        public_key.verify(binascii.unhexlify(signature_hex), message, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True
