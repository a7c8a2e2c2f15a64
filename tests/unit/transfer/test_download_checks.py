"""The checks every ranged GET of a download passes before its body is read, unit by unit:
Content-Range (exactly the span, the first answer's total), Content-Length, ETag pinning
(ObjectChangedError for another version), chunk and end bounds, the part spans. Fake
streams stand in for responses; no sockets.
"""

from __future__ import annotations

import datetime
from typing import Any

import anyio
import pytest

from r2async import IntegrityError, InvalidRangeError, ObjectChangedError, PreconditionFailedError
from r2async._limits import MAX_OBJECT_SIZE
from r2async._models import ObjectMetadata
from r2async._transfer.options import DownloadOptions
from r2async._transfer.ranges import (
    FirstResponse,
    changed_error,
    changed_note,
    check_chunk,
    check_end,
    check_length,
    open_first,
    open_part,
    parse_content_range,
    part_spans,
)

P = 5 * 1024 * 1024
ETAG = '"0123456789abcdef0123456789abcdef"'


# What R2 always sends with an object (required fields); each case overrides what it tests.
_ALWAYS = {
    "etag": ETAG,
    "content_length": 0,
    "last_modified": datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc),
}


def meta(**fields: Any) -> ObjectMetadata:
    return ObjectMetadata(**{**_ALWAYS, **fields})


def unchecked_meta(**fields: Any) -> ObjectMetadata:
    """Metadata as a test double or a model built without validation could carry it."""
    return ObjectMetadata.model_construct(**{**_ALWAYS, **fields})


# --- parse_content_range -------------------------------------------------------------------


def test_no_content_range_is_none() -> None:
    assert parse_content_range(meta()) is None


@pytest.mark.parametrize(
    ("value", "span"),
    [
        ("bytes 0-9/100", (0, 9, 100)),
        ("  bytes 5-5/6 ", (5, 5, 6)),
        (
            f"bytes 0-{MAX_OBJECT_SIZE - 1}/{MAX_OBJECT_SIZE}",
            (0, MAX_OBJECT_SIZE - 1, MAX_OBJECT_SIZE),
        ),
    ],
)
def test_a_content_range_is_read(value: str, span: tuple[int, int, int]) -> None:
    assert parse_content_range(meta(content_range=value)) == span


@pytest.mark.parametrize(
    "value", ["bytes 0-9/*", "bytes 0-9", "0-9/10", "bytes a-9/10", "x bytes 0-9/10"]
)
def test_an_unreadable_content_range_is_refused(value: str) -> None:
    with pytest.raises(IntegrityError, match=r"^unreadable Content-Range '"):
        parse_content_range(meta(content_range=value))


@pytest.mark.parametrize(
    "value",
    [
        "bytes 10-9/100",  # start after end
        "bytes 0-100/100",  # end at the size
        "bytes 0-200/100",
        f"bytes 0-{MAX_OBJECT_SIZE}/{MAX_OBJECT_SIZE + 1}",  # larger than R2 can store
    ],
)
def test_an_impossible_content_range_is_refused(value: str) -> None:
    with pytest.raises(IntegrityError, match=r"^impossible Content-Range '"):
        parse_content_range(meta(content_range=value))


# --- lengths, chunks, ends, spans ----------------------------------------------------------


def test_check_length() -> None:
    check_length(unchecked_meta(content_length=None), 0, 9, "k")  # not sent: bounded while reading
    check_length(meta(content_length=10), 0, 9, "k")
    check_length(meta(content_length=1), 5, 5, "k")
    for wrong in (9, 11, 0):
        with pytest.raises(IntegrityError) as info:
            check_length(meta(content_length=wrong), 0, 9, "k")
        assert str(info.value) == f"GetObject of 'k' bytes 0-9 announced {wrong:,} bytes"


def test_check_chunk() -> None:
    check_chunk(0, 10, 0, 9, "k")  # exactly to the end
    check_chunk(5, 0, 5, 9, "k")
    with pytest.raises(IntegrityError) as info:
        check_chunk(5, 6, 0, 9, "k")  # one byte past
    assert str(info.value) == "GetObject of 'k' sent more than bytes 0-9"


def test_check_end() -> None:
    check_end(10, 0, 9, "k")
    check_end(20, 10, 19, "k")
    for pos in (9, 11):
        with pytest.raises(IntegrityError) as info:
            check_end(pos, 2, 9, "k")
        assert str(info.value) == f"GetObject of 'k' bytes 2-9 ended after {pos - 2} bytes"


@pytest.mark.parametrize(
    ("first_end", "size", "part", "spans"),
    [
        (9, 25, 10, [(10, 19), (20, 24)]),
        (9, 30, 10, [(10, 19), (20, 29)]),
        (9, 10, 10, []),
        (-1, 0, 10, []),
        (9, 11, 10, [(10, 10)]),
        (4, 12, 3, [(5, 7), (8, 10), (11, 11)]),
    ],
)
def test_part_spans(first_end: int, size: int, part: int, spans: list[tuple[int, int]]) -> None:
    assert list(part_spans(first_end, size, part)) == spans


# --- changed_error, changed_note -----------------------------------------------------------


def opts(**read_args: Any) -> DownloadOptions:
    return DownloadOptions.build(
        "bkt",
        "k",
        read_args=read_args,
        part_size=P,
        concurrency=2,
        progress=None,
        headers={"x-h": "v"},
        timeout=9.0,
    )


def test_changed_error_of_another_etag() -> None:
    error = changed_error(opts(), ETAG, "why")
    assert isinstance(error, ObjectChangedError)
    assert error.status_code == 206 and error.code == "PreconditionFailed"
    assert (error.bucket, error.key, error.operation) == ("bkt", "k", "GetObject")
    assert error.request_id is None and error.headers == {}
    assert error.message == (
        f"'k' changed during the download (its ETag is no longer {ETAG}: why); "
        "no byte of the other version was kept"
    )


def test_changed_error_of_a_refused_if_match() -> None:
    refused = PreconditionFailedError(
        "412", status_code=412, request_id="rid", headers={"x-amz-request-id": "rid"}
    )
    error = changed_error(opts(), ETAG, "why", refused)
    assert error.status_code == 412 and error.request_id == "rid"
    assert error.headers == {"x-amz-request-id": "rid"}


def notes(exc: BaseException) -> list[str]:
    return list(vars(exc).get("__notes__", []))


def test_changed_note() -> None:
    plain = PreconditionFailedError("412", status_code=412)
    changed_note(plain, "k", ETAG)
    assert notes(plain) == [f"'k' changed during the download (its ETag is no longer {ETAG})"]
    unpinned = PreconditionFailedError("412", status_code=412)
    changed_note(unpinned, "k", None)
    already = changed_error(opts(), ETAG, "why")
    changed_note(already, "k", ETAG)
    other = IntegrityError("x")
    changed_note(other, "k", ETAG)
    assert notes(unpinned) == notes(already) == notes(other) == []


# --- open_first, open_part: a fake client ----------------------------------------------------


class FakeStream:
    def __init__(self, metadata: ObjectMetadata | Exception) -> None:
        self._metadata = metadata
        self.closed = False

    async def __aenter__(self) -> FakeStream:
        if isinstance(self._metadata, Exception):
            raise self._metadata
        return self

    @property
    def metadata(self) -> ObjectMetadata:
        assert isinstance(self._metadata, ObjectMetadata)
        return self._metadata

    async def aclose(self) -> None:
        self.closed = True


class FakeClient:
    def __init__(self, *answers: ObjectMetadata | Exception) -> None:
        self.answers = list(answers)
        self.calls: list[dict[str, Any]] = []
        self.streams: list[FakeStream] = []

    def stream_object(self, bucket: str, key: str, **kwargs: Any) -> FakeStream:
        self.calls.append({"bucket": bucket, "key": key, **kwargs})
        stream = FakeStream(self.answers.pop(0))
        self.streams.append(stream)
        return stream


def run(coro: Any) -> Any:
    async def main() -> Any:
        return await coro

    return anyio.run(main)


def test_open_first_reads_size_and_etag_of_a_ranged_answer() -> None:
    client = FakeClient(meta(content_range=f"bytes 0-{P - 1}/{3 * P}", content_length=P, etag=ETAG))
    first = run(open_first(client, opts(if_none_match='"x"')))  # type: ignore[arg-type]
    assert (first.size, first.etag, first.start, first.end) == (3 * P, ETAG, 0, P - 1)
    assert first.stream is client.streams[0]
    call = client.calls[0]
    assert call["range"] == (0, P - 1) and call["if_none_match"] == '"x"'
    assert call["headers"] == {"x-h": "v"} and call["timeout"] == 9.0
    assert not client.streams[0].closed


def test_open_first_of_a_small_object() -> None:
    client = FakeClient(meta(content_range="bytes 0-9/10", content_length=10, etag=ETAG))
    first = run(open_first(client, opts()))  # type: ignore[arg-type]
    assert (first.size, first.end) == (10, 9)


def test_open_first_of_a_200() -> None:
    client = FakeClient(meta(content_length=10, etag=ETAG))
    first = run(open_first(client, opts()))  # type: ignore[arg-type]
    assert (first.size, first.end) == (10, 9)
    client = FakeClient(meta(content_length=MAX_OBJECT_SIZE, etag=ETAG))
    assert run(open_first(client, opts())).size == MAX_OBJECT_SIZE  # type: ignore[arg-type]


def test_open_first_of_an_empty_object_asks_again_without_a_range() -> None:
    client = FakeClient(InvalidRangeError("416", status_code=416), meta(content_length=0))
    first = run(open_first(client, opts()))  # type: ignore[arg-type]
    assert (first.size, first.end) == (0, -1)
    assert client.calls[1]["range"] is None


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (unchecked_meta(content_length=None), "GetObject of 'k' returned no Content-Length"),
        (
            meta(content_length=MAX_OBJECT_SIZE + 1),
            f"GetObject of 'k' announced {MAX_OBJECT_SIZE + 1:,} bytes",
        ),
        (
            meta(content_range=f"bytes 1-{P}/{3 * P}"),
            f"asked for bytes 0-{P - 1} of 'k' but got 'bytes 1-{P}/{3 * P}'",
        ),
        (
            meta(content_range=f"bytes 0-{P - 2}/{3 * P}"),
            f"asked for bytes 0-{P - 1} of 'k' but got 'bytes 0-{P - 2}/{3 * P}'",
        ),
        (
            meta(content_range="bytes 0-8/10"),
            f"asked for bytes 0-{P - 1} of 'k' but got 'bytes 0-8/10'",
        ),
        (
            meta(content_range="bytes 0-9/10", content_length=11),
            "GetObject of 'k' bytes 0-9 announced 11 bytes",
        ),
    ],
)
def test_open_first_refuses_a_wrong_answer_and_closes_it(
    answer: ObjectMetadata, message: str
) -> None:
    client = FakeClient(answer)
    with pytest.raises(IntegrityError) as info:
        run(open_first(client, opts()))  # type: ignore[arg-type]
    assert str(info.value) == message
    assert client.streams[0].closed


def first_response(etag: str | None = ETAG) -> FirstResponse:
    return FirstResponse(FakeStream(meta()), 3 * P, etag, P - 1)  # type: ignore[arg-type]


def test_open_part_pins_the_etag_and_accepts_the_exact_span() -> None:
    answer = meta(content_range=f"bytes {P}-{2 * P - 1}/{3 * P}", content_length=P, etag=ETAG)
    client = FakeClient(answer)
    stream = run(open_part(client, opts(if_none_match='"x"'), first_response(), P, 2 * P - 1))  # type: ignore[arg-type]
    assert stream is client.streams[0] and not stream.closed
    call = client.calls[0]
    assert call["range"] == (P, 2 * P - 1) and call["if_match"] == ETAG
    assert "if_none_match" not in call  # the caller's conditions held for the first answer


def test_open_part_turns_a_refused_if_match_into_object_changed() -> None:
    client = FakeClient(PreconditionFailedError("412", status_code=412, request_id="r"))
    with pytest.raises(ObjectChangedError) as info:
        run(open_part(client, opts(), first_response(), P, 2 * P - 1))  # type: ignore[arg-type]
    assert f"(its ETag is no longer {ETAG}: If-Match was refused)" in str(info.value)
    assert info.value.request_id == "r"
    assert isinstance(info.value.__cause__, PreconditionFailedError)


def test_open_part_without_an_etag_raises_the_412_as_it_is() -> None:
    refused = PreconditionFailedError("412", status_code=412)
    client = FakeClient(refused)
    with pytest.raises(PreconditionFailedError) as info:
        run(open_part(client, opts(), first_response(None), P, 2 * P - 1))  # type: ignore[arg-type]
    assert info.value is refused


@pytest.mark.parametrize(
    ("answer", "error", "message"),
    [
        (
            meta(content_range=f"bytes {P}-{2 * P - 1}/{3 * P}", etag='"other"'),
            ObjectChangedError,
            f'(its ETag is no longer {ETAG}: a part came with ETag "other")',
        ),
        (
            meta(content_range=f"bytes {P}-{2 * P - 1}/{3 * P + 1}", etag=ETAG),
            ObjectChangedError,
            f"(its ETag is no longer {ETAG}: its size is now {3 * P + 1:,} bytes)",
        ),
        (
            meta(etag=ETAG, content_length=3 * P),  # a 200: the whole object
            IntegrityError,
            f"asked for bytes {P}-{2 * P - 1}/{3 * P} of 'k' but got None",
        ),
        (
            meta(content_range=f"bytes {P + 1}-{2 * P - 1}/{3 * P}", etag=ETAG),
            IntegrityError,
            f"asked for bytes {P}-{2 * P - 1}/{3 * P} of 'k' but got",
        ),
        (
            meta(content_range=f"bytes {P}-{2 * P - 1}/{3 * P}", etag=ETAG, content_length=1),
            IntegrityError,
            f"GetObject of 'k' bytes {P}-{2 * P - 1} announced 1 bytes",
        ),
    ],
)
def test_open_part_refuses_a_wrong_answer_and_closes_it(
    answer: ObjectMetadata, error: type[Exception], message: str
) -> None:
    client = FakeClient(answer)
    with pytest.raises(error) as info:
        run(open_part(client, opts(), first_response(), P, 2 * P - 1))  # type: ignore[arg-type]
    assert message in str(info.value)
    assert client.streams[0].closed


def test_open_part_without_a_pinned_etag_checks_only_the_span() -> None:
    # No ETag to pin: another total is a plain IntegrityError, not "changed".
    client = FakeClient(meta(content_range=f"bytes {P}-{2 * P - 1}/{3 * P + 1}"))
    with pytest.raises(IntegrityError) as info:
        run(open_part(client, opts(), first_response(None), P, 2 * P - 1))  # type: ignore[arg-type]
    assert not isinstance(info.value, ObjectChangedError)
    assert "if_match" not in client.calls[0]
