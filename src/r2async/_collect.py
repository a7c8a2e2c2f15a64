"""A whole body read into one buffer sized from its declared length: no final join, no copy.

Why: collecting chunks in a list and joining them holds the body twice at the end (2x its
size at the peak) and writes every byte once more. Here the bytes go into one
``io.BytesIO`` made from a zero-filled ``bytes`` of the declared length; CPython writes into
that object in place while the buffer is its only holder, and ``getvalue()`` then returns
that very object (no copy). (Where an interpreter copies instead, the result is the same,
only slower.) ``bytes(n)`` is allocated zero-filled by the C library, so memory the server
never fills is never touched.

Where the transport can place bytes in a buffer (``_transports/body_reads``), ``fill`` has
them received (over TLS: decrypted) straight into that same object, through a writable view
of it (``BytesIO.getbuffer()``, which does not copy a buffer it alone holds): a body of
known length then reaches its final ``bytes`` with no intermediate object and no copy made
by Python. Otherwise ``add`` copies each chunk in.

A length from the wire is not trusted with memory: the allocation made before any byte
arrives is at most ``FIRST_ALLOCATION`` (and never above the caller's cap); past it, the
buffer grows as bytes arrive: with ``add``, as ``BytesIO`` grows with each write
(``realloc``: the slack it reserves is never touched, so it costs no resident memory, and
the C library moves large blocks by remapping, not copying); with ``fill``, by at most
``GROWTH`` (or an eighth) beyond what arrived, each step zero-filled and so resident. A
server that declares a huge length and sends little makes us hold little; a body shorter
than declared is cut to what arrived.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Awaitable, Callable

# The most allocated before a byte arrives: larger declared bodies double up to their size.
FIRST_ALLOCATION = 256 * 1024 * 1024
# The least a filled buffer grows by, past FIRST_ALLOCATION (an eighth of it when larger).
GROWTH = 16 * 1024 * 1024


class BodyBuffer:
    """Collects a body's chunks in one buffer; ``value()`` returns it as ``bytes``."""

    __slots__ = ("_buf", "_declared", "_pos", "_size")

    def __init__(self, declared: int | None, cap: int | None = None) -> None:
        """Prepare for a body of ``declared`` bytes (None: unknown).

        Args:
            declared: the length the response declares, or None.
            cap: the most bytes the caller accepts (bounds the allocation), or None.
        """
        target = declared if declared is not None and declared > 0 else 0
        if cap is not None:
            target = min(target, cap)
        self._declared = target
        self._size = min(target, FIRST_ALLOCATION)
        self._buf = io.BytesIO(bytes(self._size)) if self._size else io.BytesIO()
        self._pos = 0

    @property
    def received(self) -> int:
        """Bytes collected so far."""
        return self._pos

    def add(self, chunk: bytes | memoryview) -> None:
        """Append ``chunk``."""
        self._buf.write(chunk)
        self._pos += len(chunk)
        if self._pos > self._size:
            self._size = self._pos

    async def fill(self, readinto: Callable[[memoryview], Awaitable[int]]) -> None:
        """Read the rest of the body with ``readinto`` (placing bytes, 0 at the end) in place.

        Up to the declared length into the buffer itself, then (a body longer than declared
        only, which the caller's reader normally refuses) chunk by chunk as ``add`` does.

        Args:
            readinto: places the body's next bytes in a view, returns how many (0: the end).
        """
        while self._pos < self._declared:  # each pass places bytes, grows, or ends
            if self._pos >= self._size:
                self._grow()
            whole = self._buf.getbuffer()
            view = whole[self._pos : self._size]
            try:
                n = await readinto(view)
            finally:
                release_view(view)
                release_view(whole)
            if not n:
                self._buf.seek(self._pos)
                return
            self._pos += n
        self._buf.seek(self._pos)
        probe = memoryview(bytearray(8192))
        while n := await readinto(probe):  # bounded by the caller's reader
            self.add(probe[:n])

    def _grow(self) -> None:
        # Zero-filled to the new size (a BytesIO write past its end), so the writable view
        # covers it; resident, hence the bounded step.
        new = min(self._declared, self._size + max(GROWTH, self._size // 8))
        buf = self._buf
        buf.seek(new - 1)
        buf.write(b"\0")
        self._size = new

    def value(self) -> bytes:
        """The body as ``bytes`` (the buffer's own object when possible)."""
        buf = self._buf
        if self._pos < self._size:
            # Fewer bytes than allocated: cut to what arrived.
            try:
                buf.truncate(self._pos)
            except BufferError:
                # A view of it is still held somewhere (a failed read's traceback): copy.
                return bytes(buf.getbuffer()[: self._pos])
            self._size = self._pos
        return buf.getvalue()


def release_view(view: memoryview) -> None:
    # A view still exported (asyncio's read path holds it in a traceback) cannot be
    # released; the buffer it shows is then copied out by value().
    with contextlib.suppress(BufferError):
        view.release()
