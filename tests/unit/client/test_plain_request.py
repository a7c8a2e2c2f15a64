"""The request of an attempt is the one httpx.Request(content=...) builds, built cheaper."""

from __future__ import annotations

import httpx
import pytest

from r2async._request import plain_request

URL = httpx.URL("http://127.0.0.1:9000/bucket/a%20b/..?uploads&x=%2F")
CASES = [
    ("GET", None, {"x-amz-meta-a": "1", "range": "bytes=0-9"}),
    ("HEAD", None, {}),
    ("PUT", b"abc", {"content-length": "3", "content-type": "text/plain"}),
    ("PUT", None, {"content-length": "0", "if-none-match": "*"}),
    ("POST", b"<xml/>", {"content-length": "6", "content-md5": "x"}),
    ("DELETE", None, {}),
]


@pytest.mark.parametrize(("method", "content", "merged"), CASES)
def test_same_request_as_httpx_builds_from_content(
    method: str, content: bytes | None, merged: dict[str, str]
) -> None:
    expected = httpx.Request(method, URL, headers=merged, content=content, extensions={"e": 1})
    got = plain_request(method, URL, dict(merged), content, {"e": 1})
    assert got.method == expected.method
    assert got.url.raw_path == expected.url.raw_path
    assert got.headers.raw == expected.headers.raw  # same names, values and order
    assert got.content == expected.content
    assert type(got.stream) is type(expected.stream)
    assert got.extensions == expected.extensions


def test_the_body_is_not_copied() -> None:
    body = bytes(range(256)) * 64
    got = plain_request("PUT", URL, {"content-length": str(len(body))}, body, {})
    assert got.content is body
