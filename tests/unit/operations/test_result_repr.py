"""Result reprs show what R2 sent, not a dozen None checksum and SSE-C fields."""

from __future__ import annotations

import datetime as dt

from r2async import GetObjectResult, HeadObjectResult, PutObjectResult

# What R2 always sends with an object: required fields of the GET/HEAD results.
SENT = {"etag": '"e"', "last_modified": dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)}


def test_repr_leaves_out_unset_fields() -> None:
    result = PutObjectResult(etag='"abc"', request_id="r1")
    assert repr(result) == "PutObjectResult(etag='\"abc\"', request_id='r1')"
    assert "None" not in repr(HeadObjectResult(content_length=3, **SENT))


def test_repr_shows_set_checksums_and_summarises_a_long_body() -> None:
    small = GetObjectResult(content_length=3, body=b"abc", checksum_crc32="AAAAAA==", **SENT)
    assert "checksum_crc32='AAAAAA=='" in repr(small)
    assert "body=b'abc'" in repr(small)
    big = GetObjectResult(content_length=100_000, body=b"x" * 100_000, **SENT)
    assert "body=<100000 bytes>" in repr(big)
    assert len(repr(big)) < 200
