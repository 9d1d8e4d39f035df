"""One block of the index: up to `BLOCK_FILES` log files of a folder, their identities and their terms.

A segment stores each distinct term of its files once, with a bitmask of the files holding it, so the
index of a day folder is a few thousand terms rather than a set per file. A file's entry carries the
identity it had when its terms were taken (size and version: mtime and ctime, or the ETag); a file listed
with any other identity is not answered from the segment.
"""

from __future__ import annotations

import hashlib
from array import array
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import orjson

BLOCK_FILES = 64
"""Files per segment: a new file delivered to a day folder re-indexes only the last block of that folder, and
a term's bitmask is eight bytes."""


class FileEntry(NamedTuple):
    """One file of a segment (a named tuple: a look-up makes one per file of the question)."""

    name: str
    size: int
    version: str
    indexed: bool
    """False when the file could not be read or is not whole JSON: a question always reads it (and says
    why)."""


class CorruptSegment(Exception):
    """A stored segment whose checksum or structure does not hold: it is dropped and rebuilt."""


def encode(files: Sequence[FileEntry], terms_of: Sequence[set[bytes] | None]) -> tuple[bytes, bytes]:
    """A segment as (body, checksum): FILES with, for each, its terms (None for a file not indexed)."""
    holders: dict[bytes, int] = {}
    for bit, terms in enumerate(terms_of):
        for term in terms or ():
            holders[term] = holders.get(term, 0) | (1 << bit)
    width = (len(files) + 7) // 8
    ordered = sorted(holders)
    offsets = array("I")
    position = 0
    for term in ordered:
        offsets.append(position)
        position += len(term) + 1
    # The files as four columns: a look-up checks each column's types at once, not file by file.
    header = orjson.dumps(
        {
            "names": [f.name for f in files],
            "sizes": [f.size for f in files],
            "versions": [f.version for f in files],
            "indexed": [f.indexed for f in files],
            "terms": len(ordered),
        }
    )
    blob = b"\n".join(ordered) + b"\n"
    masks = b"".join(holders[t].to_bytes(width, "little") for t in ordered)
    body = b"".join(
        (len(header).to_bytes(4, "little"), header, offsets.tobytes(), len(blob).to_bytes(4, "little"), blob)
    )
    body += masks
    return body, checksum(body)


def checksum(body: bytes) -> bytes:
    """What a stored segment is checked against: SHA-256 (cut to 16 bytes), which the CPU's SHA instructions
    compute at about 1.4 GB/s here, three times BLAKE2b's speed; a look-up checks every segment it reads."""
    return hashlib.sha256(body).digest()[:16]


_COLUMNS = (("names", str), ("sizes", int), ("versions", str), ("indexed", bool))


@dataclass
class Segment:
    names: list[str]
    sizes: list[int]
    versions: list[str]
    indexed: list[bool]
    _blob: bytes
    _offsets: array[int]
    _masks: memoryview
    _width: int
    _probed: dict[bytes, int] = field(default_factory=dict)

    @staticmethod
    def decode(body: bytes, stored: bytes) -> Segment:
        """The segment stored as BODY (CorruptSegment if it is not what `encode` wrote)."""
        if type(body) is not bytes or type(stored) is not bytes:  # a database column holds any type
            raise CorruptSegment("not stored as bytes")
        if checksum(body) != stored:
            raise CorruptSegment("checksum does not match")
        try:
            size = int.from_bytes(body[:4], "little")
            header = orjson.loads(body[4 : 4 + size])
            columns = [header[key] for key, _ in _COLUMNS]
            count = header["terms"]
            if type(count) is not int:
                raise TypeError("the count of terms")
            at = 4 + size
            offsets = array("I")
            offsets.frombytes(body[at : at + 4 * count])
            at += 4 * count
            blob_size = int.from_bytes(body[at : at + 4], "little")
            blob = body[at + 4 : at + 4 + blob_size]
            masks = memoryview(body)[at + 4 + blob_size :]
        except (ValueError, TypeError, KeyError, orjson.JSONDecodeError) as exc:
            raise CorruptSegment(f"unreadable ({exc})") from None
        # Exact types, each column in one pass of C (a look-up decodes every segment of a question's folders).
        if (
            not all(
                type(column) is list and set(map(type, column)) <= {kind}
                for column, (_, kind) in zip(columns, _COLUMNS, strict=True)
            )
            or len({len(column) for column in columns}) != 1
        ):
            raise CorruptSegment("unreadable (the files' columns)")
        names, sizes, versions, indexed = columns
        width = (len(names) + 7) // 8
        if len(offsets) != count or len(masks) != count * width or len(blob) != blob_size:
            raise CorruptSegment("truncated")
        return Segment(names, sizes, versions, indexed, blob, offsets, masks, width)

    def holding(self, probe: bytes) -> int:
        """Bitmask of the files with a term containing PROBE."""
        known = self._probed.get(probe)
        if known is not None:
            return known
        mask, at, blob, offsets, width = 0, 0, self._blob, self._offsets, self._width
        while (at := blob.find(probe, at)) >= 0:
            term = bisect_right(offsets, at) - 1
            mask |= int.from_bytes(self._masks[term * width : (term + 1) * width], "little")
            at = offsets[term + 1] if term + 1 < len(offsets) else len(blob)
        self._probed[probe] = mask
        return mask

    def may_hold(self, groups: Iterable[Iterable[Sequence[bytes]]]) -> int:
        """Bitmask of the files that may hold, for every group, one of its needles (given as probe lists)."""
        every = (1 << len(self.names)) - 1
        result = every
        for group in groups:
            either = 0
            for needle_probes in group:
                needle = every
                for probe in needle_probes:
                    needle &= self.holding(probe)
                either |= needle
            result &= either
        return result
