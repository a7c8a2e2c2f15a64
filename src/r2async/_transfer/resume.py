"""Resumable downloads: the sidecar recording which parts of the partial file are complete.

Nothing read back is trusted: the sidecar is read only if it is a regular file (never through
a symlink) of bounded size, and every field is checked (types, sizes within R2's limits, part
indexes within the object, the part size this call uses) before anything is computed from it.
Each recorded part carries the CRC-32 of its bytes, and a part whose bytes on disk no longer
match is fetched again. Any unusable state (unreadable, absurd, another object or version, a
directory or symlink where a file should be) means starting over, never an error.
"""

from __future__ import annotations

import json
import os
import stat
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

from .._exceptions import IntegrityError, InvalidRangeError
from .._limits import MAX_OBJECT_SIZE, MiB
from .cleanup import close_shielded
from .files import NOFOLLOW, clear_path, crc32_of_range, open_new
from .options import DownloadOptions
from .ranges import FirstResponse, enter, parse_content_range

if TYPE_CHECKING:
    from .client import TransferClient

RESUME_STATE_SUFFIX = ".json"
# Version 2 added the per-part CRC-32s; a version 1 sidecar is not trusted (start over).
_RESUME_VERSION = 2
# The largest sidecar read back: a 5 TiB object in 5 MiB parts, every part done, fits.
_MAX_SIDECAR = 32 * MiB
_MAX_ETAG = 1024


class ResumeState:
    """The sidecar of a resumable download: which object version, and which parts are on disk.

    Part ``i`` is bytes ``i * part_size`` to ``min((i + 1) * part_size, size) - 1``. A part is
    recorded (with the CRC-32 of its bytes) only after all its bytes were written to the
    partial file, and the sidecar is replaced atomically (temporary file + ``os.replace``), so
    it never claims missing bytes.
    """

    def __init__(self, part_path: str, opts: DownloadOptions) -> None:
        self.part_path = part_path
        self.path = part_path + RESUME_STATE_SUFFIX
        self.bucket = opts.bucket
        self.key = opts.key
        self.part_size = opts.part_size
        self.etag: str | None = None
        self.size = 0
        self.done: dict[int, int] = {}  # part index -> CRC-32 of its bytes
        self.on_disk = False  # the sidecar file exists and describes the partial file
        self.dropped = 0  # recorded parts whose bytes on disk did not match their CRC-32
        self.unsaveable = False  # the sidecar could not be written: not resumable
        self._generation = 0
        self._saved_generation = 0
        self._lock = threading.Lock()

    @property
    def parts(self) -> int:
        return -(-self.size // self.part_size)

    def span(self, index: int) -> tuple[int, int]:
        start = index * self.part_size
        return start, min(start + self.part_size, self.size) - 1

    def missing(self) -> Iterator[int]:
        """The indexes of the parts not on disk, in order (lazily: there may be 10^6)."""
        return (i for i in range(self.parts) if i not in self.done)

    def bytes_done(self) -> int:
        return sum(self.span(i)[1] - self.span(i)[0] + 1 for i in self.done)

    def _read(self) -> object:
        # A regular file only, opened without following a symlink, read within a bound.
        if not stat.S_ISREG(os.lstat(self.path).st_mode):
            return None
        fd = os.open(self.path, os.O_RDONLY | NOFOLLOW | os.O_CLOEXEC)
        try:
            raw = os.read(fd, _MAX_SIDECAR + 1)
        finally:
            os.close(fd)
        if len(raw) > _MAX_SIDECAR:
            return None
        return json.loads(raw)

    def _valid(self, data: object) -> dict[int, int] | None:
        """The recorded parts, if every field is plausible for this download; else None."""
        if not isinstance(data, dict):
            return None
        etag, size, done = data.get("etag"), data.get("size"), data.get("done")
        if (
            data.get("version") != _RESUME_VERSION
            or data.get("bucket") != self.bucket
            or data.get("key") != self.key
            or type(data.get("part_size")) is not int
            or data["part_size"] != self.part_size
            or not isinstance(etag, str)
            or not 0 < len(etag) <= _MAX_ETAG
            or type(size) is not int
            or not 0 < size <= MAX_OBJECT_SIZE
            or not isinstance(done, list)
        ):
            return None
        parts = -(-size // self.part_size)
        if len(done) > parts:
            return None
        recorded: dict[int, int] = {}
        for item in done:  # bounded: at most ``parts`` items
            if not (isinstance(item, list) and len(item) == 2):
                return None
            index, crc = item
            if type(index) is not int or type(crc) is not int:
                return None
            if not (0 <= index < parts and 0 <= crc < 1 << 32) or index in recorded:
                return None
            recorded[index] = crc
        self.etag, self.size = etag, size
        return recorded

    def load(self) -> bool:
        """Read and check the sidecar and the parts on disk (blocking); True to continue."""
        try:
            recorded = self._valid(self._read())
            if recorded is None:
                return False
            st = os.lstat(self.part_path)
            if not stat.S_ISREG(st.st_mode):
                return False
            needed = max((self.span(i)[1] + 1 for i in recorded), default=0)
            if not needed <= st.st_size <= self.size:
                return False
            self.done = self._verified(recorded)
        except (OSError, ValueError, TypeError, RecursionError):
            return False
        self.on_disk = True
        return True

    def _verified(self, recorded: dict[int, int]) -> dict[int, int]:
        # Bytes already on disk are trusted only if they still have the recorded CRC-32.
        fd = os.open(self.part_path, os.O_RDONLY | NOFOLLOW | os.O_CLOEXEC)
        try:
            good = {}
            for index in sorted(recorded):  # bounded by the parts recorded
                start, end = self.span(index)
                if crc32_of_range(fd, start, end - start + 1) == recorded[index]:
                    good[index] = recorded[index]
        finally:
            os.close(fd)
        self.dropped = len(recorded) - len(good)
        return good

    def reset(self) -> None:
        """Forget everything and delete the sidecar (blocking)."""
        self.etag, self.size, self.done = None, 0, {}
        self.on_disk = False
        clear_path(self.path)
        clear_path(self.path + ".tmp")

    def start(self, etag: str | None, size: int) -> None:
        """Track a fresh download of the object version ``etag`` of ``size`` bytes."""
        self.etag, self.size, self.done = etag, size, {}

    @property
    def active(self) -> bool:
        # Without an ETag no later call could tell whether the object changed.
        return self.etag is not None and self.size > 0

    def snapshot(self, index: int, crc: int) -> tuple[int, list[list[int]]]:
        """Mark part ``index`` (whose bytes have CRC-32 ``crc``) complete; what ``save`` writes."""
        self.done[index] = crc
        self._generation += 1
        return self._generation, [[i, self.done[i]] for i in sorted(self.done)]

    def save(self, generation: int, done: list[list[int]], fd: int, fsync: bool) -> None:
        """Write the sidecar atomically (blocking; parts may finish in parallel threads)."""
        with self._lock:
            if generation <= self._saved_generation or self.unsaveable:
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
            try:
                clear_path(tmp)
                # Created exclusively and never through a symlink; the rename replaces
                # whatever is at the sidecar's path (a symlink there is replaced, not followed).
                out = open_new(tmp)
                with os.fdopen(out, "w", encoding="utf-8") as f:
                    json.dump(state, f)
                os.replace(tmp, self.path)
            except OSError:
                # Something that cannot be cleared is in the way (a non-empty directory): the
                # download goes on, but is not resumable; its partial file goes on failure.
                clear_path(tmp)
                self.unsaveable = True
                self.on_disk = False
                return
            self._saved_generation = generation
            self.on_disk = True


async def open_resumed(
    client: TransferClient, opts: DownloadOptions, state: ResumeState
) -> FirstResponse | None:
    """GET the first missing part, unpinned; None if the object is not the recorded version."""
    # All parts done (interrupted just before the rename): fetch the last one again, so the
    # download still gets the object's current metadata and proves it unchanged.
    index = next(state.missing(), state.parts - 1)
    state.done.pop(index, None)
    start, end = state.span(index)
    try:
        stream = await enter(opts.stream(client, (start, end), None))
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
