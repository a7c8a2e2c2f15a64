"""Blocking file helpers, run in worker threads: reads, checksums, pwrite, fsync, temp paths."""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import stat
import threading
import zlib
from typing import IO

from .._checksums import new_hasher
from .._limits import MiB

# Size of each disk write/read hop to a worker thread: big enough to amortise the thread hop.
IO_CHUNK = 1 * MiB

# download_file(resume=True) keeps its partial file at <path>.r2async-part, and which parts of
# it are complete in <path>.r2async-part.json.
RESUME_SUFFIX = ".r2async-part"

# Never follow a symlink planted where a temporary or partial file goes: the download would
# write through it (into the link's target) and then rename the link over the destination.
NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_OPEN_FLAGS = os.O_RDWR | os.O_CREAT | NOFOLLOW | getattr(os, "O_BINARY", 0) | os.O_CLOEXEC


def checksum_of_bytes(algorithm: str, data: bytes) -> str:
    import base64

    h = new_hasher(algorithm)
    h.update(data)
    return base64.b64encode(h.digest()).decode()


def checksum_of_file(
    algorithm: str, path_or_file: str | IO[bytes], offset: int, length: int
) -> str:
    import base64

    h = new_hasher(algorithm)
    f = open(path_or_file, "rb") if isinstance(path_or_file, str) else path_or_file  # noqa: SIM115
    try:
        f.seek(offset)
        remaining = length
        while remaining > 0:
            chunk = f.read(min(IO_CHUNK, remaining))
            if not chunk:
                raise OSError(f"the file ended {remaining} bytes early while checksumming it")
            h.update(chunk)
            remaining -= len(chunk)
    finally:
        if isinstance(path_or_file, str):
            f.close()
    return base64.b64encode(h.digest()).decode()


def open_rb(path: str) -> IO[bytes]:
    return open(path, "rb")  # closed by the caller


def pwrite(fd: int, data: bytes, offset: int, lock: threading.Lock) -> None:
    view = memoryview(data)
    if hasattr(os, "pwrite"):
        # Bounded: each pass writes at least one byte (os.pwrite raises rather than write 0).
        while view:
            n = os.pwrite(fd, view, offset)
            view = view[n:]
            offset += n
        return
    with lock:  # pragma: no cover - Windows has no pwrite
        os.lseek(fd, offset, os.SEEK_SET)
        while view:
            n = os.write(fd, view)
            view = view[n:]


def md5_of_fd(fd: int, size: int) -> str:
    h = hashlib.md5()
    offset = 0
    while offset < size:
        if hasattr(os, "pread"):
            chunk = os.pread(fd, min(4 * IO_CHUNK, size - offset), offset)
        else:  # pragma: no cover - Windows
            os.lseek(fd, offset, os.SEEK_SET)
            chunk = os.read(fd, min(4 * IO_CHUNK, size - offset))
        if not chunk:
            break
        h.update(chunk)
        offset += len(chunk)
    return h.hexdigest()


def fsync_dir(directory: str) -> None:
    # Makes the rename itself durable; not possible (nor needed) on Windows.
    if os.name != "posix":  # pragma: no cover
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def temp_path(path: str, *, resume: bool = False) -> tuple[str, str, str]:
    # The temporary file lives beside the destination so the final rename stays atomic. A
    # resumable download uses a fixed name, so a later call can find it again.
    dest = os.path.abspath(path)
    directory, name = os.path.split(dest)
    if os.path.isdir(dest):
        raise IsADirectoryError(f"{path!r} is a directory; pass the path of the file to write")
    if resume:
        return dest, directory, dest + RESUME_SUFFIX
    return dest, directory, os.path.join(directory, f".{name}.r2async-{secrets.token_hex(4)}.part")


# download_file(resume=True) keeps its partial file at <path>.r2async-part, and which parts of
def unlink_quietly(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def clear_path(path: str) -> bool:
    """Remove whatever is at ``path`` (file, symlink, empty directory); True if it is now free.

    A symlink is removed itself, never its target; a non-empty directory is left alone.
    """
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    try:
        if stat.S_ISDIR(st.st_mode):
            os.rmdir(path)
        else:
            os.unlink(path)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return True


def open_new(path: str) -> int:
    """Create ``path`` exclusively (never through a symlink) and return its descriptor."""
    return os.open(path, _OPEN_FLAGS | os.O_EXCL, 0o666)


def open_partial(path: str, *, keep: bool) -> int:
    """Open the regular file at ``path`` to continue it (``keep``) or start it over.

    Anything else found there (a symlink, a directory, a FIFO) is removed and a new file is
    created; OSError if that is impossible (a non-empty directory).
    """
    try:
        fd = os.open(path, _OPEN_FLAGS | (0 if keep else os.O_TRUNC), 0o666)
    except OSError:
        fd = -1  # a symlink (ELOOP), a directory (EISDIR), ...
    if fd >= 0:
        if stat.S_ISREG(os.fstat(fd).st_mode):
            return fd
        os.close(fd)
    if not clear_path(path):
        raise IsADirectoryError(f"{path!r} is in the way of the partial download; remove it")
    return open_new(path)


def pwrite_crc(fd: int, data: bytes, offset: int, lock: threading.Lock, crc: int) -> int:
    """``pwrite`` ``data`` and return the running CRC-32 of the part it belongs to."""
    pwrite(fd, data, offset, lock)
    return zlib.crc32(data, crc)


def crc32_of_range(fd: int, start: int, length: int) -> int | None:
    """CRC-32 of ``length`` bytes at ``start`` of ``fd``; None if the file ends before."""
    crc = 0
    offset, end = start, start + length
    while offset < end:  # bounded: each pass reads at least one byte or returns
        chunk = os.pread(fd, min(4 * IO_CHUNK, end - offset), offset)
        if not chunk:
            return None
        crc = zlib.crc32(chunk, crc)
        offset += len(chunk)
    return crc
