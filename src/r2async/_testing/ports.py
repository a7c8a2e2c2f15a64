"""Loopback ports for ``weed mini``, and the Unix sockets it leaves under /tmp."""

from __future__ import annotations

import contextlib
import os
import socket
import stat
import sys
from collections.abc import Iterable

from .errors import LocalServerError

# Components of `weed mini` that listen on TCP; each gets a free port P and a gRPC port P + 10000.
# The gRPC port must be exactly P + 10000 because mini's maintenance worker dials the admin gRPC
# port as "admin http port + 10000" whatever -admin.port.grpc says (seen in SeaweedFS 4.48);
# keeping weed's own convention for every component makes such shortcuts land on our process.
COMPONENTS = ("master", "volume", "filer", "s3", "admin")
GRPC_OFFSET = 10000
# The per-port Unix sockets weed creates under /tmp no matter what (no flag moves them); removed on
# stop when an unclean exit leaves them behind.
_TMP_SOCKET_PATTERNS = (
    "/tmp/seaweedfs-master-grpc-{grpc}.sock",
    "/tmp/seaweedfs-volume-grpc-{grpc}.sock",
    "/tmp/seaweedfs-filer-grpc-{grpc}.sock",
    "/tmp/seaweedfs-s3-grpc-{grpc}.sock",
    "/tmp/seaweedfs-admin-grpc-{grpc}.sock",
)


def free_port_pairs(count: int, avoid: Iterable[int] = ()) -> list[int]:
    """Return ``count`` distinct loopback ports P whose P + 10000 is free as well.

    Args:
        count: how many ports.
        avoid: ports already chosen for this server (not handed out again).
    """
    avoided = set(avoid)
    held: list[socket.socket] = []
    ports: list[int] = []
    try:
        # Bounded: the kernel hands out ephemeral ports 32768-60999, so about 80% of draws leave
        # room for P + 10000; 50 draws per wanted port is plenty.
        for _ in range(50 * count):
            if len(ports) == count:
                break
            first = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            first.bind(("127.0.0.1", 0))
            port = int(first.getsockname()[1])
            if port + GRPC_OFFSET > 65535 or port in avoided:
                first.close()
                continue
            second = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                second.bind(("127.0.0.1", port + GRPC_OFFSET))
            except OSError:
                first.close()
                second.close()
                continue
            # Kept open until all are chosen so no port is handed out twice.
            held += [first, second]
            ports.append(port)
    finally:
        for sock in held:
            sock.close()
    if len(ports) < count:
        raise LocalServerError("could not find free loopback ports for the local S3 server")
    return ports


def choose_ports() -> dict[str, int]:
    """A free port (with its gRPC twin free too) for each listening component."""
    return dict(zip(COMPONENTS, free_port_pairs(len(COMPONENTS)), strict=True))


def remove_stale_sockets(grpc_port: int) -> None:
    """Remove the /tmp Unix sockets weed leaves behind for ``grpc_port`` after an unclean exit."""
    if sys.platform == "win32":
        return
    for pattern in _TMP_SOCKET_PATTERNS:
        path = pattern.format(grpc=grpc_port)
        try:
            info = os.lstat(path)
        except OSError:
            continue
        # Only our own sockets: never a regular file or another user's socket.
        if stat.S_ISSOCK(info.st_mode) and info.st_uid == os.getuid():
            with contextlib.suppress(OSError):
                os.unlink(path)
