"""A client used from a second event loop says so, instead of "Event loop is closed"."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import respx
from tests.support.r2_answers import object_headers

from r2async import R2Client

BASE = "https://acct.r2.cloudflarestorage.com"


def _client() -> R2Client:
    return R2Client(account_id="acct", access_key_id="AKID", secret_access_key="secret")


def test_second_asyncio_run_raises_a_clear_error() -> None:
    r2 = _client()
    with respx.mock(base_url=BASE) as mock:
        mock.head("/bucket-one/k").respond(200, headers=object_headers(size=1))
        asyncio.run(r2.head_object("bucket-one", "k"))
        with pytest.raises(RuntimeError, match=r"another event loop.*asyncio\.run"):
            asyncio.run(r2.head_object("bucket-one", "k"))

    async def close() -> None:
        await r2.aclose()

    asyncio.run(close())


async def test_the_same_loop_keeps_working_and_views_share_it() -> None:
    async with _client() as r2:
        with respx.mock(base_url=BASE) as mock:
            mock.head("/bucket-one/k").respond(200, headers=object_headers(size=1))
            await r2.head_object("bucket-one", "k")
            await r2.with_options(max_retries=0).head_object("bucket-one", "k")
            assert mock.calls.call_count == 2


def test_a_client_given_an_http_client_is_checked_too() -> None:
    http = httpx.AsyncClient()
    r2 = R2Client(
        account_id="acct", access_key_id="AKID", secret_access_key="secret", http_client=http
    )
    with respx.mock(base_url=BASE) as mock:
        mock.head("/bucket-one/k").respond(200, headers=object_headers(size=1))
        asyncio.run(r2.head_object("bucket-one", "k"))
        with pytest.raises(RuntimeError, match="another event loop"):
            asyncio.run(r2.head_object("bucket-one", "k"))
    asyncio.run(http.aclose())
