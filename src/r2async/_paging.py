"""Bounds on following a server's paging tokens: no token twice, no endless listing.

A paging iterator hands the server's token (a continuation token, a marker, a pair of
markers) back to the server for the next page. A server that repeats a token, cycles through
a few (A, B, A, ...), or keeps inventing empty pages would keep the iterator going forever.
``PageGuard`` stops each of these with ``ResponseParseError``, in constant memory: a cycle of
any length is found by Brent's method (the token at each power-of-two page is remembered and
compared with every later one), which needs no set of every token seen.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable

from ._exceptions import ResponseParseError

__all__ = ["MAX_EMPTY_PAGES", "MAX_PAGES", "PageGuard"]

# Far beyond any real listing (a billion objects at the default 1,000 a page), yet finite.
MAX_PAGES = 1_000_000
# Tokens compared directly besides Brent's: a short cycle (A, B, A) stops at its first repeat.
RECENT = 16
# A real server may answer a truncated page with no entries now and then (keys deleted while
# listing); a thousand in a row is a server that only pretends to make progress.
MAX_EMPTY_PAGES = 1_000


class PageGuard:
    """Checks each next-page token of one paging loop; raises when the loop would not end."""

    __slots__ = ("_empty", "_name", "_operation", "_pages", "_power", "_recent", "_saved")

    def __init__(self, operation: str, name: str) -> None:
        """Start a guard for one loop.

        Args:
            operation: the S3 operation and its bucket, for error messages.
            name: what the token is called ("continuation token", "marker"), for messages.
        """
        self._operation = operation
        self._name = name
        self._pages = 0
        self._empty = 0
        self._power = 1
        self._saved: Hashable = None
        self._recent: deque[Hashable] = deque(maxlen=RECENT)

    def next(self, token: Hashable, *, entries: int) -> None:
        """Accept ``token`` as the next page's, or raise ``ResponseParseError``.

        Args:
            token: the server's token for the next page (any hashable value).
            entries: the number of entries on the page that gave it.
        """
        self._pages += 1
        if self._pages >= MAX_PAGES:
            raise ResponseParseError(
                f"{self._operation}: the listing goes on past {MAX_PAGES:,} pages; stopping "
                "(list with a prefix to split it)"
            )
        self._empty = self._empty + 1 if entries == 0 else 0
        if self._empty >= MAX_EMPTY_PAGES:
            raise ResponseParseError(
                f"{self._operation}: {MAX_EMPTY_PAGES} truncated pages in a row had no entries; "
                "stopping instead of following a server that makes no progress"
            )
        if token in self._recent or token == self._saved:
            raise ResponseParseError(
                f"{self._operation}: the server repeated a {self._name} ({_short(token)}); "
                "stopping instead of listing the same pages forever"
            )
        self._recent.append(token)
        # Brent: remember the token at pages 1, 2, 4, 8, ...; once a remembered one lies on a
        # cycle, the cycle brings it back within one cycle length.
        if self._pages == self._power:
            self._saved = token
            self._power *= 2


def _short(token: Hashable) -> str:
    text = repr(token)
    return text if len(text) <= 80 else text[:77] + "..."
