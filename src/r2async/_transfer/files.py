"""Blocking file helpers, run in worker threads: reads, checksums, pwrite, fsync, temp paths."""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import threading
from typing import IO

from .._checksums import new_hasher
from .._limits import MiB

# Size of each disk write/read hop to a worker thread: big enough to amortise the thread hop.
IO_CHUNK = 1 * MiB

# download_file(resume=True) keeps its partial file at <path>.r2async-part, and which parts of
# it are complete in <path>.r2async-part.json.
RESUME_SUFFIX = ".r2async-part"


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
