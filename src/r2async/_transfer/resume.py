"""Resumable downloads: the sidecar recording which parts of the partial file are complete."""

from __future__ import annotations

import json
import os
import threading
from typing import TYPE_CHECKING

from .._exceptions import IntegrityError, InvalidRangeError
from .._limits import MiB
from .cleanup import close_shielded
from .files import unlink_quietly
from .options import DownloadOptions
from .ranges import FirstResponse, parse_content_range

if TYPE_CHECKING:
    from .client import TransferClient

RESUME_STATE_SUFFIX = ".json"
_RESUME_VERSION = 1


class ResumeState:
    """The sidecar of a resumable download: which object version, and which parts are on disk.

    Part ``i`` is bytes ``i * part_size`` to ``min((i + 1) * part_size, size) - 1``. A part is
    recorded only after all its bytes were written to the partial file, and the sidecar is
    replaced atomically (temporary file + ``os.replace``), so it never claims missing bytes.
    """

    def __init__(self, part_path: str, opts: DownloadOptions) -> None:
        self.part_path = part_path
        self.path = part_path + RESUME_STATE_SUFFIX
        self.bucket = opts.bucket
        self.key = opts.key
        self.part_size = opts.part_size
        self.etag: str | None = None
        self.size = 0
        self.done: set[int] = set()
        self.on_disk = False  # the sidecar file exists and describes the partial file
        self._generation = 0
        self._saved_generation = 0
        self._lock = threading.Lock()

    @property
    def parts(self) -> int:
        return -(-self.size // self.part_size)

    def span(self, index: int) -> tuple[int, int]:
        start = index * self.part_size
        return start, min(start + self.part_size, self.size) - 1

    def missing(self) -> list[int]:
        return [i for i in range(self.parts) if i not in self.done]

    def bytes_done(self) -> int:
        return sum(self.span(i)[1] - self.span(i)[0] + 1 for i in self.done)

    def load(self) -> bool:
        """Read the sidecar (blocking); True if it fits this download and the partial file."""
        try:
            with open(self.path, "rb") as f:
                data = json.loads(f.read(16 * MiB))
            etag, size, done = data["etag"], data["size"], data["done"]
            if (
                data["version"] != _RESUME_VERSION
                or data["bucket"] != self.bucket
                or data["key"] != self.key
                or data["part_size"] != self.part_size
                or not isinstance(etag, str)
                or not etag
                or type(size) is not int
                or size <= 0
                or not isinstance(done, list)
            ):
                return False
            self.etag, self.size = etag, size
            if not all(type(i) is int and 0 <= i < self.parts for i in done):
                return False
            on_disk = os.stat(self.part_path).st_size
        except (OSError, ValueError, TypeError, KeyError, RecursionError):
            return False
        self.done = set(done)
        needed = max((self.span(i)[1] + 1 for i in self.done), default=0)
        if not needed <= on_disk <= size:
            return False
        self.on_disk = True
        return True

    def reset(self) -> None:
        """Forget everything and delete the sidecar (blocking)."""
        self.etag, self.size, self.done = None, 0, set()
        self.on_disk = False
        unlink_quietly(self.path)
        unlink_quietly(self.path + ".tmp")

    def start(self, etag: str | None, size: int) -> None:
        """Track a fresh download of the object version ``etag`` of ``size`` bytes."""
        self.etag, self.size, self.done = etag, size, set()

    @property
    def active(self) -> bool:
        # Without an ETag no later call could tell whether the object changed.
        return self.etag is not None and self.size > 0

    def snapshot(self, index: int) -> tuple[int, list[int]]:
        """Mark part ``index`` complete; returns what ``save`` should write."""
        self.done.add(index)
        self._generation += 1
        return self._generation, sorted(self.done)

    def save(self, generation: int, done: list[int], fd: int, fsync: bool) -> None:
        """Write the sidecar atomically (blocking; parts may finish in parallel threads)."""
        with self._lock:
            if generation <= self._saved_generation:
                return  # a newer state (a superset of this one) is already written
            if fsync:
                os.fsync(fd)  # the recorded parts' bytes reach the disk before the claim does
            state = {
                "version": _RESUME_VERSION,
                "bucket": self.bucket,
                "key": self.key,
                "etag": self.etag,
                "size": self.size,
                "part_size": self.part_size,
                "done": done,
            }
            tmp = self.path + ".tmp"
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump(state, f)
            os.replace(tmp, self.path)
            self._saved_generation = generation
            self.on_disk = True


async def open_resumed(
    client: TransferClient, opts: DownloadOptions, state: ResumeState
) -> FirstResponse | None:
    """GET the first missing part, unpinned; None if the object is not the recorded version."""
    missing = state.missing()
    # All parts done (interrupted just before the rename): fetch the last one again, so the
    # download still gets the object's current metadata and proves it unchanged.
    index = missing[0] if missing else state.parts - 1
    state.done.discard(index)
    start, end = state.span(index)
    stream = opts.stream(client, (start, end), None)
    try:
        await stream.__aenter__()
    except InvalidRangeError:
        return None  # the object shrank
    try:
        meta = stream.metadata
        try:
            span = parse_content_range(meta)
        except IntegrityError:
            span = None
        if span != (start, end, state.size) or meta.etag != state.etag:
            await close_shielded(stream)
            return None
        return FirstResponse(stream, state.size, meta.etag, end, start)
    except BaseException:
        await close_shielded(stream)
        raise
