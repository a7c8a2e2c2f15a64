"""A whole body read into one buffer sized from its declared length: no final join, no copy.

Why: collecting chunks in a list and joining them holds the body twice at the end (2x its
size at the peak) and writes every byte once more. Here the bytes go into one
``io.BytesIO`` made from a zero-filled ``bytes`` of the declared length; CPython writes into
that object in place while the buffer is its only holder, and ``getvalue()`` then returns
that very object (no copy). (Where an interpreter copies instead, the result is the same,
only slower.) ``bytes(n)`` is allocated zero-filled by the C library, so memory the server
never fills is never touched.

A length from the wire is not trusted with memory: the allocation made before any byte
arrives is at most ``FIRST_ALLOCATION`` (and never above the caller's cap); past it, the
buffer grows as ``BytesIO`` grows with each write (``realloc``: the slack it reserves is
never touched, so it costs no resident memory, and the C library moves large blocks by
remapping, not copying). A server that declares a huge length and sends little makes us
hold little; a body shorter than declared is cut to what arrived.
"""

from __future__ import annotations

import io

# The most allocated before a byte arrives: larger declared bodies double up to their size.
FIRST_ALLOCATION = 256 * 1024 * 1024


class BodyBuffer:
    """Collects a body's chunks in one buffer; ``value()`` returns it as ``bytes``."""

    __slots__ = ("_buf", "_pos", "_size")

    def __init__(self, declared: int | None, cap: int | None = None) -> None:
        """Prepare for a body of ``declared`` bytes (None: unknown).

        Args:
            declared: the length the response declares, or None.
            cap: the most bytes the caller accepts (bounds the allocation), or None.
        """
        target = declared if declared is not None and declared > 0 else 0
        if cap is not None:
            target = min(target, cap)
        self._size = min(target, FIRST_ALLOCATION)
        self._buf = io.BytesIO(bytes(self._size)) if self._size else io.BytesIO()
        self._pos = 0

    @property
    def received(self) -> int:
        """Bytes collected so far."""
        return self._pos

    def add(self, chunk: bytes) -> None:
        """Append ``chunk``."""
        self._buf.write(chunk)
        self._pos += len(chunk)
        if self._pos > self._size:
            self._size = self._pos

    def value(self) -> bytes:
        """The body as ``bytes`` (the buffer's own object when possible)."""
        buf = self._buf
        if self._pos < self._size:
            # Fewer bytes than allocated: cut to what arrived.
            buf.truncate(self._pos)
            self._size = self._pos
        return buf.getvalue()
