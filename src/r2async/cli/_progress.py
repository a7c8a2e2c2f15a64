"""The live progress display on stderr: bytes and objects done/total, throughput, ETA.

rich is imported only when a display is actually shown (a terminal, a transfer big enough),
so listings, ``--help`` and piped runs never pay for it.
"""

from __future__ import annotations

import os
import sys
from typing import Any

# A single small object finishes before a display would be useful.
MIN_BYTES_FOR_DISPLAY = 4 * 1024 * 1024


def wanted(*, quiet: bool, no_progress: bool, json_lines: bool) -> bool:
    """Whether a display may be shown at all: stderr is a terminal and nothing turned it off.

    Args:
        quiet: --quiet was given.
        no_progress: --no-progress was given.
        json_lines: --json was given (scripts read the output; no display).
    """
    if quiet or no_progress or json_lines or os.environ.get("NO_COLOR"):
        return False
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


class Progress:
    """Counts bytes and objects; draws them only when started with a display."""

    def __init__(self) -> None:
        """Create an idle counter (no display until ``start``)."""
        self.bytes_done = 0
        self.objects_done = 0
        self.total_bytes = 0
        self.total_objects = 0
        self._progress: Any = None
        self._task: Any = None

    def start(self, *, total_bytes: int, total_objects: int, label: str, show: bool) -> None:
        """Set the totals and show a display if ``show`` and the transfer is big enough.

        Args:
            total_bytes: bytes to move (0 when unknown).
            total_objects: objects to move.
            label: the first column, e.g. 'upload'.
            show: a display is allowed (see ``wanted``).
        """
        self.total_bytes = total_bytes
        self.total_objects = total_objects
        if not show or (total_objects <= 1 and total_bytes < MIN_BYTES_FOR_DISPLAY):
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )
        from rich.progress import Progress as RichProgress

        self._progress = RichProgress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(binary_units=True),
            TextColumn("{task.fields[objects]}"),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            # At most ~10 redraws a second (clig.dev); stdout lines print above the display.
            refresh_per_second=10,
            redirect_stdout=True,
            redirect_stderr=True,
        )
        self._task = self._progress.add_task(
            label, total=total_bytes or None, objects=self._objects_text()
        )
        self._progress.start()

    def _objects_text(self) -> str:
        return f"{self.objects_done}/{self.total_objects} objects"

    def add_bytes(self, count: int) -> None:
        """Count bytes moved.

        Args:
            count: bytes since the last call (may be negative when a retry restarts a part).
        """
        self.bytes_done += count
        if self._progress is not None:
            self._progress.update(self._task, completed=self.bytes_done)

    def object_done(self) -> None:
        """Count one finished (or failed) object."""
        self.objects_done += 1
        if self._progress is not None:
            self._progress.update(self._task, objects=self._objects_text())

    def close(self) -> None:
        """Remove the display (the summary line follows it)."""
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


class FileProgress:
    """A per-object ``progress=`` callback feeding a shared ``Progress`` with deltas."""

    __slots__ = ("_last", "_progress")

    def __init__(self, progress: Progress) -> None:
        """Start at zero bytes.

        Args:
            progress: the shared counter.
        """
        self._progress = progress
        self._last = 0

    def __call__(self, done: int, total: int | None) -> None:
        """r2async's ``progress(bytes_done, total)`` callback.

        Args:
            done: bytes of this object so far.
            total: its size (None while unknown).
        """
        self._progress.add_bytes(done - self._last)
        self._last = done

    def undo(self) -> None:
        """Take this object's bytes back out of the total (it failed)."""
        self._progress.add_bytes(-self._last)
        self._last = 0
