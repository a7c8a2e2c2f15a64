"""Wire tests for delete_objects (DeleteObjects) with respx: body, batching, errors, checks."""

from __future__ import annotations

import base64
import hashlib
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import httpx
import pytest
import respx
from tests.support.sigcheck import assert_signature_valid, signed_header_names

from r2async import DeleteFailure, DeleteObjectsResult, NoSuchBucketError, R2Client

ACCOUNT = "0123456789abcdef0123456789abcdef"
BASE = f"https://{ACCOUNT}.r2.cloudflarestorage.com"
AKID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
NS = "http://s3.amazonaws.com/doc/2006-03-01/"


def make_client(**kwargs: object) -> R2Client:
    return R2Client(account_id=ACCOUNT, access_key_id=AKID, secret_access_key=SECRET, **kwargs)  # type: ignore[arg-type]


def delete_result(deleted: list[str], errors: list[tuple[str, str, str]] = ()) -> bytes:  # type: ignore[assignment]
    def esc(s: str) -> str:
        # As Go's encoding/xml (SeaweedFS) does: CR as a character reference.
        return (
            s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#xD;")
        )

    inner = "".join(f"<Deleted><Key>{esc(k)}</Key></Deleted>" for k in deleted)
    inner += "".join(
        f"<Error><Key>{esc(k)}</Key><Code>{c}</Code><Message>{m}</Message></Error>"
        for k, c, m in errors
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<DeleteResult xmlns="{NS}">{inner}</DeleteResult>'
    ).encode()


def sent_keys(request: httpx.Request) -> list[str]:
    root = ET.fromstring(request.content)
    return [el.findtext(f"{{{NS}}}Key") or "" for el in root.iter(f"{{{NS}}}Object")]


def echo(request: httpx.Request) -> httpx.Response:
    """A server that deletes whatever it is asked to."""
    return httpx.Response(200, content=delete_result(sent_keys(request)))


async def test_request_is_exact_with_content_md5_signed() -> None:
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.post(url__regex=r".*").respond(
                200, content=delete_result(["a", "b/c"]), headers={"x-amz-request-id": "R1"}
            )
            result = await r2.delete_objects("bucket", ["a", "b/c"])
    req = route.calls.last.request
    assert req.method == "POST"
    assert req.url.raw_path == b"/bucket?delete"
    assert req.content == (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
        b"<Object><Key>a</Key></Object><Object><Key>b/c</Key></Object></Delete>"
    )
    # S3 requires Content-MD5 (or a checksum) on DeleteObjects; it is signed like the rest.
    md5 = base64.b64encode(hashlib.md5(req.content).digest()).decode()
    assert req.headers["content-md5"] == md5
    assert req.headers["content-type"] == "application/xml"
    assert req.headers["content-length"] == str(len(req.content))
    assert "content-md5" in signed_header_names(req)
    assert_signature_valid(req, access_key_id=AKID, secret_access_key=SECRET)
    assert result == DeleteObjectsResult(deleted=["a", "b/c"], errors=[], request_ids=["R1"])


async def test_quiet_mode_and_per_key_errors_are_reported_not_raised() -> None:
    body = delete_result(
        [], [("locked/obj", "AccessDenied", "Access Denied"), ("x&y", "InternalError", "oops")]
    )
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.post(url__regex=r".*").respond(200, content=body)
            result = await r2.delete_objects("bucket", ["ok", "locked/obj", "x&y"], quiet=True)
    content = route.calls.last.request.content
    assert b"<Quiet>true</Quiet><Object><Key>ok</Key>" in content
    assert result.deleted == []
    assert result.errors == [
        DeleteFailure(key="locked/obj", code="AccessDenied", message="Access Denied"),
        DeleteFailure(key="x&y", code="InternalError", message="oops"),
    ]


async def test_keys_are_escaped_never_trimmed_and_cr_survives_xml_parsing() -> None:
    keys = ["  lead", "trail  ", "a&b<c>d", "quote\"'", "tab\tnl\n", "cr\r", "crlf\r\n", "é/日本"]
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.post(url__regex=r".*").mock(side_effect=echo)
            result = await r2.delete_objects("bucket", keys)
    req = route.calls.last.request
    # A literal CR would be turned into LF by any XML parser; it goes out as &#13;.
    assert b"\r" not in req.content and b"<Key>cr&#13;</Key>" in req.content
    assert b"<Key>  lead</Key>" in req.content and b"<Key>a&amp;b&lt;c&gt;d</Key>" in req.content
    # What a conforming XML parser (like the server's) reads is exactly the keys given.
    assert sent_keys(req) == keys
    assert result.deleted == keys


async def test_any_number_of_keys_goes_out_in_batches_of_1000() -> None:
    keys = (f"k{i:05d}" for i in range(2500))  # a generator is fine
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.post(url__regex=r".*").mock(side_effect=echo)
            result = await r2.delete_objects("bucket", keys)
    batches = [sent_keys(c.request) for c in route.calls]
    assert [len(b) for b in batches] == [1000, 1000, 500]
    assert [k for b in batches for k in b] == [f"k{i:05d}" for i in range(2500)]
    assert result.deleted == [f"k{i:05d}" for i in range(2500)]
    for call in route.calls:
        req = call.request
        assert (
            req.headers["content-md5"]
            == base64.b64encode(hashlib.md5(req.content).digest()).decode()
        )


async def test_errors_from_several_batches_are_combined() -> None:
    def partial(request: httpx.Request) -> httpx.Response:
        keys = sent_keys(request)
        return httpx.Response(
            200, content=delete_result(keys[1:], [(keys[0], "AccessDenied", "no")])
        )

    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            mock.post(url__regex=r".*").mock(side_effect=partial)
            result = await r2.delete_objects("bucket", [f"k{i}" for i in range(1001)])
    assert [e.key for e in result.errors] == ["k0", "k1000"]
    assert len(result.deleted) == 999


async def test_empty_iterable_sends_nothing() -> None:
    async with make_client() as r2:
        with respx.mock(base_url=BASE, assert_all_called=False) as mock:
            route = mock.route(url__regex=r".*").respond(200)
            result = await r2.delete_objects("bucket", [])
    assert route.call_count == 0
    assert result == DeleteObjectsResult()


async def test_a_failed_request_raises_after_earlier_batches_were_sent() -> None:
    err = (
        b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchBucket</Code>'
        b"<Message>The specified bucket does not exist</Message></Error>"
    )
    async with make_client(max_retries=0) as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.post(url__regex=r".*").mock(
                side_effect=[
                    httpx.Response(200, content=delete_result(["x"])),
                    httpx.Response(404, content=err),
                ]
            )
            with pytest.raises(NoSuchBucketError) as info:
                await r2.delete_objects("bucket", [f"k{i}" for i in range(1500)])
    assert route.call_count == 2
    assert info.value.operation == "DeleteObjects" and info.value.bucket == "bucket"


async def test_a_retried_batch_resends_the_identical_body() -> None:
    err = b"<Error><Code>InternalError</Code><Message>try again</Message></Error>"
    async with make_client(max_retries=1) as r2:
        with respx.mock(base_url=BASE) as mock:
            answers = iter([httpx.Response(500, content=err)])

            def flaky(request: httpx.Request) -> httpx.Response:
                return next(answers, None) or echo(request)

            route = mock.post(url__regex=r".*").mock(side_effect=flaky)
            result = await r2.delete_objects("bucket", ["a", "b"])
    first, second = (c.request for c in route.calls)
    assert first.content == second.content
    assert first.headers["content-md5"] == second.headers["content-md5"]
    assert result.deleted == ["a", "b"]


async def test_unexpected_body_raises_parse_error() -> None:
    from r2async import ResponseParseError

    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            mock.post(url__regex=r".*").respond(200, content=b"<Something/>")
            with pytest.raises(ResponseParseError, match="DeleteResult"):
                await r2.delete_objects("bucket", ["a"])


def _gen() -> Iterator[str]:
    yield "fine"
    yield "bad\x00key"


@pytest.mark.parametrize(
    ("keys", "kwargs", "exc", "match"),
    [
        ("single-key", {}, TypeError, "not a single str"),
        (b"bytes", {}, TypeError, "not a single str"),
        (None, {}, TypeError, "iterable"),
        (["ok", 5], {}, TypeError, "every key must be a str"),
        (["ok", ""], {}, ValueError, "must not be empty"),
        (["x" * 1025], {}, ValueError, "1024"),
        (["ok", "ctl\x01"], {}, ValueError, r"U\+0001.*delete_object"),
        (_gen(), {}, ValueError, r"U\+0000"),
        (["ok", "\ufffe"], {}, ValueError, "XML 1.0"),
        (["ok"], {"quiet": "yes"}, TypeError, "quiet"),
        (["ok"], {"headers": {"x-a": "a\r\nb"}}, ValueError, "CR/LF"),
    ],
)
async def test_bad_input_fails_before_any_request(
    keys: object, kwargs: dict[str, object], exc: type, match: str
) -> None:
    # The bad key is the last one: nothing at all is sent, not even the batches before it.
    async with make_client() as r2:
        with respx.mock(base_url=BASE, assert_all_called=False) as mock:
            route = mock.route(url__regex=r".*").respond(200, content=delete_result([]))
            with pytest.raises(exc, match=match):
                await r2.delete_objects("bucket", keys, **kwargs)  # type: ignore[arg-type]
            with pytest.raises(ValueError, match="bucket"):
                await r2.delete_objects("Bad..Bucket", ["a"])
    assert route.call_count == 0


async def test_operation_headers_apply_to_every_batch() -> None:
    async with make_client(operation_headers={"DeleteObjects": {"x-team": "ops"}}) as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.post(url__regex=r".*").mock(side_effect=echo)
            await r2.delete_objects("bucket", [f"k{i}" for i in range(1001)])
    assert [c.request.headers.get("x-team") for c in route.calls] == ["ops", "ops"]
