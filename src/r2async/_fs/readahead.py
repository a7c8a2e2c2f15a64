"""A read cache for open files: block-sized ranged GETs, fetched ahead in parallel.

fsspec's own "readahead" cache fetches one block at a time, synchronously, so a sequential
reader waits for every round trip. This one keeps up to ``read_ahead`` blocks in flight on the
filesystem's event loop while the reader consumes the current one (started once the blocks a
read needs have arrived, so they never compete with it), and drops blocks once read,
so memory stays below ``block_size * (read_ahead + 1)`` (plus the bytes a single ``read()``
asks for). A read that does not continue the previous one (a Parquet footer, a column chunk)
fetches exactly its range and stops the read-ahead, so random access wastes no bandwidth.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable
from typing import Any

from fsspec.caching import BaseCache

__all__ = ["PrefetchCache"]

Submit = Callable[[int, int], "concurrent.futures.Future[bytes]"]


class PrefetchCache(BaseCache):  # type: ignore[misc]  # fsspec is untyped
    """Sequential reads through parallel read-ahead; other reads fetch exactly their range."""

    name = "r2-readahead"

    def __init__(self, blocksize: int, submit: Submit, size: int, read_ahead: int) -> None:
        """Create the cache of one open file.

        Args:
            blocksize: bytes per ranged GET.
            submit: starts fetching bytes [start, end) and returns a future of them.
            size: the object's size.
            read_ahead: blocks kept in flight ahead of a sequential reader (0: none).
        """
        super().__init__(blocksize, None, size)
        self._submit = submit
        self.read_ahead = read_ahead
        self._blocks: dict[int, concurrent.futures.Future[bytes]] = {}
        # Where the previous read ended: a read starting there is sequential.
        self._last_end = 0
        # Where the current sequential run's block grid starts.
        self._anchor = 0

    def _fetch(self, start: int | None, stop: int | None) -> bytes:
        start = 0 if start is None else start
        stop = self.size if stop is None else min(stop, self.size)
        if start >= stop:
            return b""
        bs = self.blocksize
        in_window = bool(self._blocks) and (start - self._anchor) // bs in self._blocks
        sequential = start >= self._anchor and (start == self._last_end or in_window)
        self._last_end = stop
        if not sequential:
            self._drop(lambda index: True)
            return self._direct(start, stop)
        if not self._blocks:
            # A new sequential run: its blocks start where it starts, so the bytes a direct
            # read just fetched are not fetched again as part of an aligned block.
            self._anchor = start
        anchor = self._anchor
        first, last = (start - anchor) // bs, (stop - 1 - anchor) // bs
        nblocks = -(-(self.size - anchor) // bs)
        self._ensure(range(first, last + 1))
        pieces = []
        for index in range(first, last + 1):
            block = self._blocks[index].result()
            self.total_requested_bytes += len(block)
            begin = anchor + index * bs
            lo, hi = max(0, start - begin), min(stop - begin, len(block))
            # A whole block goes out as is: no copy of up to block_size bytes.
            pieces.append(block if lo == 0 and hi == len(block) else block[lo:hi])
            self.hit_count += 1
        # Blocks wholly behind the reader are done with; the last one may be read again.
        self._drop(lambda index: index < last)
        # Read-ahead starts once the blocks this read needed have arrived, so it never
        # competes with them for the connection or the server; it runs while the caller
        # works on what it got.
        self._ensure(range(last + 1, min(last + 1 + self.read_ahead, nblocks)))
        return pieces[0] if len(pieces) == 1 else b"".join(pieces)

    def _ensure(self, indexes: range) -> None:
        for index in indexes:
            if index not in self._blocks:
                begin = self._anchor + index * self.blocksize
                self._blocks[index] = self._submit(begin, min(begin + self.blocksize, self.size))

    def _direct(self, start: int, stop: int) -> bytes:
        """Exactly [start, stop): one GET, or block-sized GETs in parallel when large."""
        self.miss_count += 1
        spans = [(b, min(b + self.blocksize, stop)) for b in range(start, stop, self.blocksize)]
        futures = [self._submit(b, e) for b, e in spans]
        try:
            pieces = [future.result() for future in futures]
        finally:
            for future in futures:
                future.cancel()
        self.total_requested_bytes += stop - start
        return pieces[0] if len(pieces) == 1 else b"".join(pieces)

    def _drop(self, which: Callable[[int], bool]) -> None:
        for index in [i for i in self._blocks if which(i)]:
            self._blocks.pop(index).cancel()

    def close(self) -> None:
        """Cancel the fetches still in flight (the file is closing)."""
        self._drop(lambda index: True)

    def __getstate__(self) -> dict[str, Any]:
        raise TypeError("an open file's read cache cannot be pickled; pickle the filesystem")
