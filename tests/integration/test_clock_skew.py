"""A client whose clock is two hours off still works against SeaweedFS, on both transports.

SeaweedFS, like R2, answers ``403 RequestTimeTooSkewed`` to a request signed with a time far
from its own. r2async takes the offset from the answer's ``Date`` (against the request's own
``x-amz-date``), signs again at once, and keeps the offset for later requests and presigned
URLs.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import types
import uuid
from collections.abc import Iterator

import httpx
import pytest

from r2async import R2Client
from r2async._client import presign
from r2async._signing import auth as auth_module
from r2async.testing import LocalR2Server

SKEW = -7200.0  # two hours behind: a presigned URL (1 h) would be born expired


@pytest.fixture(scope="module")
def skew_bucket(s3_server: LocalR2Server) -> str:
    name = f"skew-{uuid.uuid4().hex[:20]}"
    s3_server.create_bucket(name)
    return name


@pytest.fixture
def clock_two_hours_behind(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    real = time.time
    shim = types.SimpleNamespace(
        time=lambda: real() + SKEW, strftime=time.strftime, gmtime=time.gmtime
    )
    monkeypatch.setattr(auth_module, "time", shim)
    monkeypatch.setattr(
        presign,
        "_utcnow",
        lambda: dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=SKEW),
    )
    yield


@pytest.mark.parametrize("transport", ["httpx", "aiohttp"])
async def test_a_skewed_clock_is_corrected_once_and_remembered(
    s3_server: LocalR2Server,
    skew_bucket: str,
    transport: str,
    clock_two_hours_behind: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    key = f"{transport}/k"
    async with R2Client(**s3_server.client_kwargs, transport=transport) as r2:  # type: ignore[arg-type]
        with caplog.at_level(logging.DEBUG, logger="r2async"):
            await r2.put_object(skew_bucket, key, b"on time")
            assert (await r2.get_object(skew_bucket, key)).body == b"on time"
            listed = await r2.list_objects(skew_bucket, prefix=f"{transport}/")
        assert [o.key for o in listed.objects] == [key]
        # The offset is the clock's error, to the second.
        assert abs(r2._shared.clock_offset + SKEW) <= 2
        attempts = [r for r in caplog.records if getattr(r, "r2_operation", None)]
        skewed = [r for r in attempts if "RequestTimeTooSkewed" in r.getMessage()]
        # One refused attempt (the first), then every request signed with the corrected time.
        assert len(skewed) == 1 and skewed[0].r2_operation == "PutObject"
        assert [r.r2_status for r in attempts] == [403, 200, 200, 200]
        # Presigned URLs use the corrected clock too.
        url = r2.presign_get_object(skew_bucket, key).url
    async with httpx.AsyncClient() as http:
        response = await http.get(url)
    assert response.status_code == 200 and response.content == b"on time"


async def test_without_the_correction_the_server_refuses_the_skewed_clock(
    s3_server: LocalR2Server, skew_bucket: str, clock_two_hours_behind: None
) -> None:
    # Control: the presigned URL of a client that never talked to the server keeps the skew.
    async with R2Client(**s3_server.client_kwargs) as r2:
        url = r2.presign_get_object(skew_bucket, "httpx/k").url
    async with httpx.AsyncClient() as http:
        response = await http.get(url)
    assert response.status_code == 403
