"""A request hook on the user's http_client cannot send the credentials to another host.

httpx runs a client's request event hooks after r2async has signed the request. A hook that
pointed the request at another host (or replaced its headers) used to have it sent, with
``Authorization`` and the session token, before r2async noticed on the answer. Now the request
refuses the new URL or headers while the hooks run, so the other host (a second loopback
server here) receives nothing, and neither does the intended one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from tests.support.loopback import Answer, LoopbackServer, Received, response

from r2async import R2Client

TOKEN = "FwoGZXIvYXdzE-session-token-for-the-hook-test"


async def _ok(request: Received) -> Answer:
    return response(200, headers={"ETag": '"e"'})


@pytest.fixture
async def servers() -> AsyncIterator[tuple[LoopbackServer, LoopbackServer]]:
    async with LoopbackServer(_ok) as intended, LoopbackServer(_ok) as other:
        yield intended, other


def _to(other: LoopbackServer) -> dict[str, Callable[[httpx.Request], None]]:
    def set_url(request: httpx.Request) -> None:
        request.url = httpx.URL(f"{other.url}/bkt/k")

    def copy_with_port(request: httpx.Request) -> None:
        request.url = request.url.copy_with(port=other.port)

    def replace_headers(request: httpx.Request) -> None:
        request.headers = httpx.Headers({**request.headers, "x-amz-meta-sneaky": "1"})

    def both(request: httpx.Request) -> None:
        request.headers = httpx.Headers(dict(request.headers))
        request.url = httpx.URL(f"{other.url}/bkt/k")

    return {
        "set-url-other-host": set_url,
        "copy-with-other-port": copy_with_port,
        "replace-headers": replace_headers,
        "replace-headers-and-url": both,
    }


CALLS: dict[str, Callable[[R2Client], Any]] = {
    "put_object": lambda r2: r2.put_object("bkt", "k", b"data"),
    "get_object": lambda r2: r2.get_object("bkt", "k"),
    "head_object": lambda r2: r2.head_object("bkt", "k"),
}


@pytest.mark.parametrize("call", sorted(CALLS))
@pytest.mark.parametrize(
    "rewrite",
    ["set-url-other-host", "copy-with-other-port", "replace-headers", "replace-headers-and-url"],
)
async def test_a_hook_rewriting_the_request_is_refused_before_anything_is_sent(
    servers: tuple[LoopbackServer, LoopbackServer], rewrite: str, call: str
) -> None:
    intended, other = servers
    change = _to(other)[rewrite]

    async def hook(request: httpx.Request) -> None:
        change(request)

    async with (
        httpx.AsyncClient(event_hooks={"request": [hook]}) as http,
        R2Client(
            endpoint_url=intended.url,
            access_key_id="AKID",
            secret_access_key="SECRET",
            session_token=TOKEN,
            http_client=http,
        ) as r2,
    ):
        with pytest.raises(RuntimeError, match="event hook on http_client tried to replace"):
            await CALLS[call](r2)
    assert other.connections == 0 and other.requests == []
    assert intended.connections == 0


async def test_a_hook_that_only_adds_tracing_headers_still_sends(
    servers: tuple[LoopbackServer, LoopbackServer],
) -> None:
    # Control: the same setup with a harmless hook reaches the intended server, signed.
    intended, other = servers

    async def hook(request: httpx.Request) -> None:
        request.headers["traceparent"] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

    async with (
        httpx.AsyncClient(event_hooks={"request": [hook]}) as http,
        R2Client(
            endpoint_url=intended.url,
            access_key_id="AKID",
            secret_access_key="SECRET",
            session_token=TOKEN,
            http_client=http,
        ) as r2,
    ):
        await r2.put_object("bkt", "k", b"data")
        # The request object stays usable for r2async after the hook ran (it is unsealed).
        await r2.put_object("bkt", "k2", b"data")
    assert len(intended.requests) == 2 and other.connections == 0
    assert intended.requests[0].headers["traceparent"].startswith("00-")
    assert intended.requests[0].headers["x-amz-security-token"] == TOKEN
