"""``get_object`` sizes its buffer from Content-Length, but never trusts a hostile one with memory.

The body is read into one buffer of the declared length (no final join). A server that
declares 1 TiB and sends 1 MiB must cost neither a 1 TiB allocation (a ``MemoryError``, or
that much address space) nor more than what it sent; a body shorter than declared is a cut
(resumed, or raised), and a body sent in full is returned exactly, on both transports.
"""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from tests.support.hostile import Conn, HostileServer, response

from r2async import APIConnectionError, R2Client, ResponseTooLargeError

TRANSPORTS = ["httpx", "aiohttp"]
HUGE = 1 << 40  # 1 TiB
SENT = 1024 * 1024


async def _serve(conn: Conn) -> None:
    for _ in range(100):
        request = await conn.request()
        if request is None:
            return
        key = request.target.rsplit("/", 1)[1]
        if key == "huge":
            # Declares 1 TiB, sends 1 MiB, hangs up.
            await conn.write(response(length=HUGE) + b"h" * SENT)
            return
        if key == "short":
            # Declares 3 MiB, sends 2 MiB, hangs up.
            await conn.write(response(length=3 * SENT) + b"s" * (2 * SENT))
            return
        await conn.write(response(bytes(range(256)) * 4096))


@pytest.fixture
def server() -> Any:
    with HostileServer(_serve) as srv:
        yield srv


def _client(url: str, transport: str) -> R2Client:
    return R2Client(
        endpoint_url=url,
        access_key_id="AKID",
        secret_access_key="SECRET",
        transport=transport,  # type: ignore[arg-type]
        timeout=30,
        max_retries=0,
    )


def _vm_peak_mib() -> float:
    # The most address space the process ever held (Linux); a 1 TiB buffer would show here
    # even if the kernel never backed it with memory.
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmPeak:"):
                return int(line.split()[1]) / 1024
    pytest.skip("no /proc/self/status VmPeak here")


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_huge_declared_length_allocates_no_huge_buffer(
    server: HostileServer, transport: str
) -> None:
    async with _client(server.url, transport) as r2:
        before = _vm_peak_mib()
        with anyio.fail_after(20), pytest.raises(APIConnectionError) as caught:
            await r2.get_object("bucket", "huge")
        # A cut body (not a MemoryError), after the bytes that did arrive.
        assert "ended after" in str(caught.value) or "connection" in str(caught.value).lower()
        assert _vm_peak_mib() - before < 1024
        # The declared length is refused up front when the caller set a cap.
        with anyio.fail_after(20), pytest.raises(ResponseTooLargeError):
            await r2.get_object("bucket", "huge", max_size=4 * SENT)


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_body_shorter_than_declared_is_a_cut_not_a_short_result(
    server: HostileServer, transport: str
) -> None:
    async with _client(server.url, transport) as r2:
        with anyio.fail_after(20), pytest.raises(APIConnectionError):
            await r2.get_object("bucket", "short")


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_full_body_is_returned_exactly(server: HostileServer, transport: str) -> None:
    async with _client(server.url, transport) as r2:
        with anyio.fail_after(20):
            body = (await r2.get_object("bucket", "full")).body
            capped = (await r2.get_object("bucket", "full", max_size=SENT)).body
    assert type(body) is bytes
    assert body == capped == bytes(range(256)) * 4096
