"""ProgressTotals: one progress bar over many concurrent transfers, without bookkeeping.

Each transfer's ``progress=`` callback receives ``(bytes_done, total_or_None)`` for that
transfer alone, cumulative and increasing. Summing them for one bar means remembering what
each transfer reported last; this class does that.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["ProgressTotals"]


class ProgressTotals:
    """Adds up the progress of many transfers: ``progress=totals.track()`` on each one.

    ``callback(done, total)`` receives the bytes transferred by all tracked transfers and the
    sum of their sizes; ``total`` is None while any tracked transfer's size is unknown (a
    stream). Also readable as ``totals.done`` and ``totals.total``. Works for concurrent
    transfers in one event loop (callbacks run in the loop, one at a time).
    """

    def __init__(self, callback: Callable[[int, int | None], object] | None = None) -> None:
        """Start at zero.

        Args:
            callback: called with ``(done, total_or_None)`` after every change (default none).
        """
        if callback is not None and not callable(callback):
            raise TypeError("callback must be a callable(done, total) or None")
        self._callback = callback
        self.done = 0
        self._known_total = 0
        self._unknown = 0
        self.transfers = 0

    @property
    def total(self) -> int | None:
        """The sum of the tracked transfers' sizes, or None while one is unknown."""
        return None if self._unknown else self._known_total

    def track(self) -> Callable[[int, int | None], None]:
        """A new ``progress=`` callback for one transfer, counted in these totals."""
        self.transfers += 1
        self._unknown += 1
        last_done = 0
        size: int | None = None

        def progress(done: int, total: int | None) -> None:
            nonlocal last_done, size
            self.done += done - last_done
            last_done = done
            if total != size:
                # Known for the first time, or corrected at the end (a stream's final size).
                if size is None:
                    self._unknown -= 1
                else:
                    self._known_total -= size
                if total is None:
                    self._unknown += 1
                else:
                    self._known_total += total
                size = total
            if self._callback is not None:
                self._callback(self.done, self.total)

        return progress
