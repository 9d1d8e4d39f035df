"""A segment reads back as it was written, and any change to its stored bytes is refused (`CorruptSegment`),
never read as another answer."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import orjson
import pytest
from audit_trail.cache.segments import BLOCK_FILES, CorruptSegment, FileEntry, Segment, checksum, encode
from hypothesis import given, settings
from hypothesis import strategies as st

entries = st.builds(
    FileEntry,
    name=st.text(min_size=1, max_size=30),  # any name: quotes, newlines, non-ASCII
    size=st.integers(0, 1 << 40),
    version=st.text(max_size=40),
    indexed=st.booleans(),
)
terms = st.sets(st.binary(min_size=1, max_size=12).map(lambda b: bytes(c % 26 + 97 for c in b)), max_size=12)


@settings(max_examples=40, deadline=None, database=None)
@given(st.lists(st.tuples(entries, terms), min_size=1, max_size=BLOCK_FILES), st.lists(terms, max_size=4))
def test_a_segment_reads_back_as_written(
    files: list[tuple[FileEntry, set[bytes]]], asked: list[set[bytes]]
) -> None:
    entries_ = [e for e, _ in files]
    held = [t if e.indexed else None for e, t in files]
    segment = Segment.decode(*encode(entries_, held))
    columns = zip(segment.names, segment.sizes, segment.versions, segment.indexed, strict=True)
    assert [FileEntry(*entry) for entry in columns] == entries_
    for group in asked:
        for probe in group:
            expected = sum(1 << bit for bit, t in enumerate(held) if t and any(probe in term for term in t))
            assert segment.holding(probe) == expected
        # A file may hold the group when it holds every probe of it (one needle of its probes).
        needle = sorted(group)
        expected = sum(
            1 << bit for bit, t in enumerate(held) if all(t and any(p in term for term in t) for p in needle)
        )
        assert segment.may_hold([[needle]]) == expected


def _segment() -> tuple[bytes, bytes]:
    files = [FileEntry(f"f{i}.json.gz", 100 + i, f"v{i}", True) for i in range(10)]
    return encode(files, [{b"mallory", b"alice", f"user{i}".encode(), b"203.0.113.7"} for i in range(10)])


def test_every_single_byte_change_of_a_body_is_refused() -> None:
    body, checksum = _segment()
    for at in range(len(body)):
        for flip in (0x01, 0x80, 0xFF):
            changed = bytearray(body)
            changed[at] ^= flip
            with pytest.raises(CorruptSegment):
                Segment.decode(bytes(changed), checksum)


def test_every_truncation_or_extension_of_a_body_is_refused() -> None:
    body, checksum = _segment()
    for size in range(len(body)):
        with pytest.raises(CorruptSegment):
            Segment.decode(body[:size], checksum)
    with pytest.raises(CorruptSegment):
        Segment.decode(body + b"\0", checksum)


def test_a_changed_checksum_is_refused() -> None:
    body, checksum = _segment()
    for at in range(len(checksum)):
        changed = bytearray(checksum)
        changed[at] ^= 0x01
        with pytest.raises(CorruptSegment):
            Segment.decode(body, bytes(changed))


@settings(max_examples=150, deadline=None, database=None)
@given(st.binary(max_size=200), st.data())
def test_a_body_of_any_bytes_is_refused_or_read_never_a_crash(noise: bytes, data: st.DataObject) -> None:
    """Even with a checksum that matches (as a bug of the writer's own would leave): `CorruptSegment` or a
    segment, nothing else. The bytes start from a real body, changed, cut or replaced."""
    body, _ = _segment()
    at = data.draw(st.integers(0, len(body)))
    mangled = data.draw(st.sampled_from([noise, body[:at] + noise, body[:at] + noise + body[at:]]))
    with contextlib.suppress(CorruptSegment):
        Segment.decode(mangled, checksum(mangled))


def _rewritten(change: Callable[[dict[str, Any]], object]) -> bytes:
    """A real segment's body with its header changed by CHANGE (the caller gives it a matching checksum)."""
    body, _ = _segment()
    size = int.from_bytes(body[:4], "little")
    header = orjson.loads(body[4 : 4 + size])
    change(header)
    written = orjson.dumps(header)
    return len(written).to_bytes(4, "little") + written + body[4 + size :]


@pytest.mark.parametrize(
    "column, value",
    [("sizes", "100"), ("sizes", True), ("names", 7), ("versions", None), ("indexed", 1), ("names", ["f"])],
)
def test_a_header_column_of_another_type_is_refused_with_its_checksum(column: str, value: object) -> None:
    """The look-up reads the files' columns as they are: each must hold its own type, checked at decode."""
    changed = _rewritten(lambda header: header[column].__setitem__(3, value))
    with pytest.raises(CorruptSegment, match="columns"):
        Segment.decode(changed, checksum(changed))


def test_columns_of_different_lengths_are_refused() -> None:
    changed = _rewritten(lambda header: header["versions"].pop())
    with pytest.raises(CorruptSegment, match="columns"):
        Segment.decode(changed, checksum(changed))


@pytest.mark.parametrize("count", ["10", True, 10.0, None])
def test_a_count_of_terms_that_is_not_a_whole_number_is_refused_with_its_checksum(count: object) -> None:
    changed = _rewritten(lambda header: header.__setitem__("terms", count))
    with pytest.raises(CorruptSegment, match="unreadable"):
        Segment.decode(changed, checksum(changed))


@pytest.mark.parametrize("body, stored", [("text", b"x"), (None, b"x"), (7, b"x"), (b"body", "text")])
def test_a_body_or_checksum_that_is_not_bytes_is_refused(body: Any, stored: Any) -> None:
    """A database column holds any type, whatever the table says."""
    with pytest.raises(CorruptSegment):
        Segment.decode(body, stored)
