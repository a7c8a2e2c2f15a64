"""A conditional write whose answer was lost is not repeated, so its own write never reads as 412.

A hostile loopback server stores what it is sent, applies S3's preconditions (If-None-Match,
If-Match, cf-copy-destination-*), and can apply a write and then reset the connection instead of
answering (the lost response). Before the fix the client repeated the write, the repeat saw the
first attempt's object and got 412, and the caller was told the precondition failed although
its own write had landed. The rule now: a conditional write is not repeated once it may have
reached the server (the transport error is raised, with a note saying why); a failure to
connect (nothing sent) is still retried. Both transports.
"""

from __future__ import annotations

import hashlib
import io
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from tests.support.loopback import Answer, LoopbackServer, Received, error_response, response

from r2async import APIConnectionError, PreconditionFailedError, R2Client, _retry

TRANSPORTS = ["httpx", "aiohttp"]
COPY_RESULT = (
    b'<?xml version="1.0" encoding="UTF-8"?><CopyObjectResult><ETag>"c0"</ETag>'
    b"<LastModified>2024-01-01T00:00:00.000Z</LastModified></CopyObjectResult>"
)
COMPLETE_RESULT = (
    b'<?xml version="1.0" encoding="UTF-8"?><CompleteMultipartUploadResult>'
    b'<Bucket>bkt</Bucket><Key>k</Key><ETag>"m-1"</ETag></CompleteMultipartUploadResult>'
)


@dataclass
class Store:
    """A tiny S3: objects by path, preconditions, and a script of answers to drop or replace."""

    objects: dict[str, str] = field(default_factory=dict)  # path -> ETag
    # Per request, in order: "drop" (apply, then reset), "503" (answer 503 without applying),
    # or "ok" (apply and answer); requests past the script are answered normally.
    script: list[str] = field(default_factory=list)

    def _precondition_fails(self, path: str, headers: dict[str, str], prefix: str = "") -> bool:
        current = self.objects.get(path)
        none_match = headers.get(prefix + "if-none-match")
        match = headers.get(prefix + "if-match")
        if none_match is not None and current is not None and none_match in ("*", current):
            return True
        return match is not None and (current is None or match not in ("*", current))

    async def answer(self, request: Received) -> Answer:
        step = self.script.pop(0) if self.script else "ok"
        if step == "503":
            return error_response(503, "SlowDown")
        path = request.target.partition("?")[0]
        query = request.target.partition("?")[2]
        if request.method == "HEAD":
            etag = self.objects.get(path)
            reply = response(200, headers={"ETag": etag}) if etag else response(404)
            return None if step == "drop" else reply
        if request.method == "PUT" and "x-amz-copy-source" in request.headers:
            if self._precondition_fails(path, request.headers, "cf-copy-destination-"):
                return error_response(412, "PreconditionFailed")
            self.objects[path] = '"c0"'
            reply = response(200, COPY_RESULT)
        elif request.method == "PUT":
            if self._precondition_fails(path, request.headers):
                return error_response(412, "PreconditionFailed")
            etag = f'"{hashlib.md5(request.body).hexdigest()}"'
            self.objects[path] = etag
            reply = response(200, headers={"ETag": etag})
        elif request.method == "POST" and query.startswith("uploadId="):
            if self._precondition_fails(path, request.headers):
                return error_response(412, "PreconditionFailed")
            self.objects[path] = '"m-1"'
            reply = response(200, COMPLETE_RESULT)
        else:
            return error_response(400, "NotScripted")
        return None if step == "drop" else reply


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    waits: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(_retry, "sleep", fake_sleep)
    return waits


@pytest.fixture
def store() -> Store:
    return Store()


@pytest.fixture(params=TRANSPORTS)
async def r2(request: pytest.FixtureRequest, store: Store) -> AsyncIterator[Any]:
    async with (
        LoopbackServer(store.answer) as server,
        R2Client(
            endpoint_url=server.url,
            access_key_id="AKID",
            secret_access_key="SECRET",
            transport=request.param,
        ) as client,
    ):
        yield client, server


CONDITIONAL_WRITES = {
    "put-if-none-match": lambda r2: r2.put_object("bkt", "k", b"data", if_none_match="*"),
    "put-if-match": lambda r2: r2.put_object("bkt", "k", b"data", if_match='"old"'),
    "put-headers-if-none-match": lambda r2: r2.put_object(
        "bkt", "k", b"data", headers={"If-None-Match": "*"}
    ),
    "put-operation-headers": lambda r2: r2.with_options(headers={"if-none-match": "*"}).put_object(
        "bkt", "k", b"data"
    ),
    "upload-file-below-threshold": lambda r2: r2.upload_file(
        "bkt", "k", io.BytesIO(b"data"), if_none_match="*"
    ),
    "upload-stream-below-threshold": lambda r2: r2.upload_stream(
        "bkt", "k", _chunks(), if_none_match="*"
    ),
    "copy-destination-if-none-match": lambda r2: r2.copy_object(
        "bkt", "k", source_key="src", destination_if_none_match="*"
    ),
    "complete-if-none-match": lambda r2: r2.complete_multipart_upload(
        "bkt", "k", "UPLOAD", [(1, '"p1"')], if_none_match="*"
    ),
}


async def _chunks() -> AsyncIterator[bytes]:
    yield b"da"
    yield b"ta"


@pytest.mark.parametrize("name", sorted(CONDITIONAL_WRITES))
async def test_a_conditional_write_whose_answer_was_lost_is_not_repeated(
    name: str, r2: Any, store: Store, sleeps: list[float]
) -> None:
    client, server = r2
    if name == "put-if-match":
        store.objects["/bkt/k"] = '"old"'
    store.script = ["drop"]
    with pytest.raises(APIConnectionError) as info:
        await CONDITIONAL_WRITES[name](client)
    # One attempt, applied; no repeat that would have reported 412 on its own write.
    assert len(server.requests) == 1
    assert sleeps == []
    assert "/bkt/k" in store.objects and store.objects["/bkt/k"] != '"old"'
    text = str(info.value)
    assert "not retried" in text and ("is not repeated" in text or "not safe to repeat" in text)
    assert not isinstance(info.value, PreconditionFailedError)


async def test_the_note_names_the_condition_and_how_to_check(
    r2: Any, store: Store, sleeps: list[float]
) -> None:
    client, _ = r2
    store.script = ["drop"]
    with pytest.raises(APIConnectionError) as info:
        await client.put_object("bkt", "k", b"data", if_none_match="*")
    assert "conditional PutObject (If-None-Match) is not repeated" in str(info.value)
    assert "head_object" in str(info.value)


async def test_an_unconditional_write_is_still_retried_after_a_lost_answer(
    r2: Any, store: Store, sleeps: list[float]
) -> None:
    client, server = r2
    store.script = ["drop"]
    result = await client.put_object("bkt", "k", b"data")
    assert result.etag == f'"{hashlib.md5(b"data").hexdigest()}"'
    assert len(server.requests) == 2 and len(sleeps) == 1


async def test_copy_with_source_conditions_only_is_still_retried(
    r2: Any, store: Store, sleeps: list[float]
) -> None:
    # x-amz-copy-source-if-* test the source, which the copy does not change.
    client, server = r2
    store.script = ["drop"]
    result = await client.copy_object("bkt", "k", source_key="src", source_if_match='"s"')
    assert result.etag == '"c0"'
    assert len(server.requests) == 2


async def test_a_conditional_get_is_still_retried(
    r2: Any, store: Store, sleeps: list[float]
) -> None:
    client, server = r2
    store.objects["/bkt/k"] = '"e"'
    store.script = ["drop"]
    head = await client.head_object("bkt", "k", if_match='"e"')
    assert head.etag == '"e"' and len(server.requests) == 2


async def test_a_412_after_a_retried_error_answer_says_it_may_be_its_own_write(
    r2: Any, store: Store, sleeps: list[float]
) -> None:
    # A 503 is retried (the server said it failed); should the 503 have come after the write
    # was applied (a gateway's answer), the 412 that follows says so.
    client, server = r2
    store.script = ["503"]
    store.objects["/bkt/k"] = '"someone-else"'
    with pytest.raises(PreconditionFailedError) as info:
        await client.put_object("bkt", "k", b"data", if_none_match="*")
    assert len(server.requests) == 2
    assert "earlier attempt of this conditional PutObject" in str(info.value)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_conditional_write_that_could_not_connect_is_retried(
    transport: str, sleeps: list[float]
) -> None:
    async with R2Client(
        endpoint_url=f"http://127.0.0.1:{_closed_port()}",
        access_key_id="AKID",
        secret_access_key="SECRET",
        transport=transport,  # type: ignore[arg-type]
    ) as r2:
        with pytest.raises(APIConnectionError) as info:
            await r2.put_object("bkt", "k", b"data", if_none_match="*")
    assert "gave up after 4 attempts" in str(info.value) and len(sleeps) == 3


# -- against SeaweedFS, through the fault proxy -----------------------------------------------


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_against_a_real_server_the_lost_answer_is_reported_not_a_412(
    transport: str, s3_server: Any, bucket: str, sleeps: list[float]
) -> None:
    from tests.support.faults import FaultProxy, reset_after_body

    async with FaultProxy(s3_server.endpoint_url) as proxy:
        proxy.inject(reset_after_body(method="PUT"))
        kwargs = {**s3_server.client_kwargs, "endpoint_url": proxy.endpoint_url}
        async with R2Client(**kwargs, transport=transport) as r2:
            with pytest.raises(APIConnectionError, match="is not repeated"):
                await r2.put_object(bucket, "once", b"first", if_none_match="*")
            assert sleeps == []
            # The write landed; the server does enforce the condition (so a repeat would
            # have been told 412).
            assert (await r2.get_object(bucket, "once")).body == b"first"
            with pytest.raises(PreconditionFailedError):
                await r2.put_object(bucket, "once", b"second", if_none_match="*")
        assert proxy.pending == []
