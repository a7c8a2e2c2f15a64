"""ObjectStream's re-chunking: exact chunk sizes, every byte once, no copy when sizes match."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from hypothesis import given
from hypothesis import strategies as st

from r2async._streaming import _Rechunker


async def _source(chunks: list[bytes]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


def _run(chunks: list[bytes], size: int) -> list[bytes]:
    async def collect() -> list[bytes]:
        return [chunk async for chunk in _Rechunker(_source(chunks), size)]

    return asyncio.run(collect())


@given(
    chunks=st.lists(st.binary(max_size=300), max_size=12),
    size=st.integers(min_value=1, max_value=200),
)
def test_chunks_have_the_size_asked_and_the_bytes_are_all_there(
    chunks: list[bytes], size: int
) -> None:
    out = _run(chunks, size)
    assert b"".join(out) == b"".join(chunks)
    assert all(type(chunk) is bytes for chunk in out)
    assert all(len(chunk) == size for chunk in out[:-1])
    if out:
        assert 0 < len(out[-1]) <= size


def test_chunks_of_the_right_size_pass_through_uncopied() -> None:
    chunks = [b"a" * 64, b"b" * 64, b"c" * 10]
    out = _run(chunks, 64)
    assert out[0] is chunks[0] and out[1] is chunks[1] and out[2] is chunks[2]


def test_a_single_large_chunk_is_cut_and_small_ones_joined() -> None:
    assert _run([b"0123456789"], 4) == [b"0123", b"4567", b"89"]
    assert _run([b"01", b"23", b"45", b"6"], 3) == [b"012", b"345", b"6"]
    assert _run([b"", b"ab", b""], 5) == [b"ab"]
    assert _run([], 5) == []
