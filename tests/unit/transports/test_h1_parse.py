"""The HTTP/1.1 framing rules of the pool's own connection: src/r2async/_transports/h1_parse.py.

Each rule that refuses something has a case here that breaks it, next to one that passes, so
that neither a loosened nor an over-tight rule goes unnoticed.
"""

from __future__ import annotations

import httpcore
import pytest

from r2async._transports.h1_parse import (
    CHUNKED,
    LAST_CHUNK,
    MAX_CHUNK_LINE,
    MAX_HEAD,
    MAX_HEADERS,
    UNTIL_CLOSE,
    ChunkedDecoder,
    ResponseHead,
    body_length,
    chunk,
    find_head_end,
    parse_head,
    request_head,
)


def _head(*lines: str, status: str = "HTTP/1.1 200 OK") -> bytes:
    return ("\r\n".join([status, *lines]) + "\r\n\r\n").encode("latin-1")


def _refused(head: bytes, match: str) -> None:
    with pytest.raises(httpcore.RemoteProtocolError, match=match):
        parse_head(head)


# -- finding the end of a head -------------------------------------------------------------------


def test_the_head_ends_after_its_blank_line_crlf_or_bare_lf() -> None:
    data = b"HTTP/1.1 200 OK\r\nA: b\r\n\r\nbody"
    assert find_head_end(data) == len(data) - 4
    assert find_head_end(b"HTTP/1.1 200 OK\nA: b\n\nbody") == len(b"HTTP/1.1 200 OK\nA: b\n\n")
    assert find_head_end(b"HTTP/1.1 200 OK\r\nA: b\r\n") == -1


def test_a_resumed_search_finds_a_blank_line_split_across_reads() -> None:
    first = b"HTTP/1.1 200 OK\r\nA: b\r\n\r"
    assert find_head_end(first) == -1
    data = first + b"\nrest"
    assert find_head_end(data, len(first)) == len(first) + 1


# -- the status line -----------------------------------------------------------------------------


def test_a_plain_head_is_parsed() -> None:
    head = parse_head(_head("Content-Length: 5", "X-Amz-Id:  a b\t"))
    assert (head.status, head.reason, head.http_version) == (200, b"OK", b"HTTP/1.1")
    # Names as sent, values without their outer spaces and tabs.
    assert head.headers == [(b"Content-Length", b"5"), (b"X-Amz-Id", b"a b")]
    assert (head.content_length, head.chunked, head.close) == (5, False, False)


def test_bare_lf_line_ends_are_accepted_as_h11_does() -> None:
    head = parse_head(b"HTTP/1.1 404 Not Found\nContent-Length: 0\n\n")
    assert head.status == 404 and head.headers == [(b"Content-Length", b"0")]


def test_the_reason_phrase_may_be_absent_or_empty() -> None:
    assert parse_head(b"HTTP/1.1 200\r\n\r\n").reason == b""
    assert parse_head(b"HTTP/1.1 200 \r\n\r\n").reason == b""
    assert parse_head(b"HTTP/1.1 500 Oops \xe9\r\n\r\n").reason == b"Oops \xe9"


@pytest.mark.parametrize(
    "status",
    [
        "HTTP/2.0 200 OK",  # stricter than h11: HTTP/1.0 and HTTP/1.1 only
        "HTTP/1.1 20 OK",
        "HTTP/1.1 2000 OK",
        "HTTP/1.1 200OK",
        "HTTP/1.1  200 OK",
        "http/1.1 200 OK",
        "ICY 200 OK",
        "HTTP/1.1 200 O\x00K",
        "HTTP/1.1 200 O\x0bK",
    ],
)
def test_an_illegal_status_line_is_refused(status: str) -> None:
    _refused(_head(status=status), "illegal status line")


def test_a_head_without_a_status_line_is_refused() -> None:
    _refused(b"\r\n\r\n", "no status line|illegal status line")


# -- header lines --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "No-Colon",
        "Space Before : colon",
        "Name : value",
        "Bad\x01Name: value",
        ": no name",
        "Nul: a\x00b",
        "Form-Feed: a\x0cb",
        "Lone-CR: a\rb",
        "Ä: non-ascii name",
    ],
)
def test_an_illegal_header_line_is_refused(line: str) -> None:
    _refused(_head("Content-Length: 0", line), "illegal header line")


def test_a_header_value_may_hold_tabs_and_obs_text_inside() -> None:
    head = parse_head(_head("A: x\ty \xe9", "Empty:", "Spaces:    "))
    assert head.headers == [(b"A", b"x\ty \xe9"), (b"Empty", b""), (b"Spaces", b"")]


def test_a_folded_header_line_is_refused() -> None:
    # h11 unfolds it; RFC 9112 lets a client refuse it, and R2 never sends one.
    _refused(_head("A: one", " two"), "obs-fold")
    _refused(_head("A: one", "\ttwo"), "obs-fold")


def test_the_head_size_is_bounded() -> None:
    filler = "X: " + "a" * 1000
    fits = _head(*[filler] * ((MAX_HEAD - 100) // 1005))
    assert len(fits) <= MAX_HEAD
    parse_head(fits)
    too_big = _head("X: " + "a" * MAX_HEAD)
    _refused(too_big, f"exceeds {MAX_HEAD} bytes")


def test_the_header_count_is_bounded() -> None:
    parse_head(_head(*[f"X-{i}: v" for i in range(MAX_HEADERS)]))
    _refused(_head(*[f"X-{i}: v" for i in range(MAX_HEADERS + 1)]), f"more than {MAX_HEADERS}")


# -- Content-Length and Transfer-Encoding --------------------------------------------------------


@pytest.mark.parametrize(
    ("lines", "length"),
    [
        (["Content-Length: 0"], 0),
        (["content-length: 1024"], 1024),
        (["Content-Length: 7", "Content-Length: 7"], 7),  # repeated, equal
        (["Content-Length: 7, 7"], 7),  # comma-joined copies
        (["Content-Length: " + "9" * 19], int("9" * 19)),
    ],
)
def test_a_valid_content_length_is_read(lines: list[str], length: int) -> None:
    assert parse_head(_head(*lines)).content_length == length


@pytest.mark.parametrize(
    ("lines", "match"),
    [
        (["Content-Length: 5", "Content-Length: 6"], "conflicting Content-Length"),
        (["Content-Length: 5, 6"], "conflicting Content-Length"),
        (["Content-Length: -1"], "bad Content-Length"),
        (["Content-Length: +5"], "bad Content-Length"),
        (["Content-Length: 0x10"], "bad Content-Length"),
        (["Content-Length: 1 2"], "bad Content-Length"),
        (["Content-Length:"], "bad Content-Length"),
        (["Content-Length: " + "1" * 20], "bad Content-Length"),
    ],
)
def test_a_bad_content_length_is_refused(lines: list[str], match: str) -> None:
    _refused(_head(*lines), match)


def test_chunked_is_the_one_transfer_encoding() -> None:
    assert parse_head(_head("Transfer-Encoding: chunked")).chunked
    assert parse_head(_head("transfer-encoding: Chunked")).chunked
    _refused(_head("Transfer-Encoding: gzip"), "Only Transfer-Encoding: chunked")
    _refused(_head("Transfer-Encoding: gzip, chunked"), "Only Transfer-Encoding: chunked")
    _refused(
        _head("Transfer-Encoding: chunked", "Transfer-Encoding: chunked"),
        "multiple Transfer-Encoding",
    )


def test_transfer_encoding_with_content_length_is_refused() -> None:
    # Stricter than h11 (which lets chunked win): a request-smuggling sign (RFC 9112 6.1).
    _refused(
        _head("Content-Length: 5", "Transfer-Encoding: chunked"),
        "both Transfer-Encoding and Content-Length",
    )


# -- framing and keep-alive ----------------------------------------------------------------------


def _framing(method: str, *lines: str, status: str = "HTTP/1.1 200 OK") -> int:
    return body_length(method.encode(), parse_head(_head(*lines, status=status)))


def test_the_body_framing_follows_rfc_9112() -> None:
    assert _framing("GET", "Content-Length: 10") == 10
    assert _framing("GET", "Transfer-Encoding: chunked") == CHUNKED
    assert _framing("GET") == UNTIL_CLOSE
    # No body, whatever the headers say.
    assert _framing("HEAD", "Content-Length: 10") == 0
    assert _framing("HEAD", "Transfer-Encoding: chunked") == 0
    assert _framing("GET", "Content-Length: 10", status="HTTP/1.1 204 No Content") == 0
    assert _framing("GET", "Content-Length: 10", status="HTTP/1.1 304 Not Modified") == 0
    assert _framing("GET", status="HTTP/1.1 100 Continue") == 0


@pytest.mark.parametrize(
    ("lines", "status", "close"),
    [
        ([], "HTTP/1.1 200 OK", False),
        (["Connection: keep-alive"], "HTTP/1.1 200 OK", False),
        (["Connection: close"], "HTTP/1.1 200 OK", True),
        (["connection: Keep-Alive, CLOSE"], "HTTP/1.1 200 OK", True),
        (["Connection: closed"], "HTTP/1.1 200 OK", False),
        ([], "HTTP/1.0 200 OK", True),
        (["Connection: keep-alive"], "HTTP/1.0 200 OK", True),  # as h11: never for 1.0
    ],
)
def test_keep_alive(lines: list[str], status: str, close: bool) -> None:
    head = parse_head(_head(*lines, status=status))
    assert head.close is close
    assert head.http_version == status[:8].encode()


def test_a_response_head_object_holds_what_it_was_given() -> None:
    head = ResponseHead(200, b"OK", b"HTTP/1.1", [], None, False, False)
    assert (head.status, head.content_length, head.chunked) == (200, None, False)


# -- chunked bodies ------------------------------------------------------------------------------

CHUNKED_BODY = b"5\r\nhello\r\n3;name=value\r\n, w\r\nA \r\norld......\r\n0\r\n\r\n"


def _decode(data: bytes, step: int | None = None) -> tuple[bytes, ChunkedDecoder]:
    decoder = ChunkedDecoder()
    out: list[bytes] = []
    pieces = [data] if step is None else [data[i : i + step] for i in range(0, len(data), step)]
    for piece in pieces:
        out += decoder.feed(piece)
        if decoder.done:
            break
    return b"".join(out), decoder


@pytest.mark.parametrize("step", [None, 1, 2, 3, 7])
def test_a_chunked_body_decodes_however_it_is_split(step: int | None) -> None:
    body, decoder = _decode(CHUNKED_BODY, step)
    assert body == b"hello, world......"
    assert decoder.done and decoder.trailing == b""
    decoder.feed_eof()  # complete: not an error


def test_bytes_past_the_end_of_a_chunked_body_are_kept_as_trailing() -> None:
    _, decoder = _decode(CHUNKED_BODY + b"HTTP/1.1 200 OK\r\n")
    assert decoder.done and decoder.trailing == b"HTTP/1.1 200 OK\r\n"


def test_a_trailer_section_is_checked_and_discarded() -> None:
    body, decoder = _decode(b"2\r\nab\r\n0\r\nX-Checksum: abc\r\nX-Other: d\r\n\r\nNEXT", 3)
    assert body == b"ab" and decoder.done
    with pytest.raises(httpcore.RemoteProtocolError, match="illegal header line"):
        _decode(b"2\r\nab\r\n0\r\nnot a header\r\n\r\n")


def test_the_trailer_section_is_bounded() -> None:
    decoder = ChunkedDecoder()
    decoder.feed(b"0\r\nX: ")
    with pytest.raises(httpcore.RemoteProtocolError, match="trailer section exceeds"):
        for _ in range(MAX_HEAD // 1000 + 2):
            decoder.feed(b"a" * 1000)


@pytest.mark.parametrize(
    "data",
    [
        b"g\r\nabc",  # not hex
        b"\r\n",  # no size
        b"-5\r\n",
        b"0x5\r\n",
        b"5\n",  # a chunk-size line ends in CRLF
        b"1" * 17 + b"\r\n",  # more than 16 hex digits
        b"5 5\r\n",
        b"5;a\x00b\r\n",
    ],
)
def test_an_illegal_chunk_size_line_is_refused(data: bytes) -> None:
    with pytest.raises(httpcore.RemoteProtocolError, match="illegal chunk header"):
        ChunkedDecoder().feed(data)


def test_chunk_extensions_and_trailing_spaces_are_accepted() -> None:
    body, decoder = _decode(b"3 ;a=b;c\r\nabc\r\n0\r\n\r\n")
    assert body == b"abc" and decoder.done


def test_the_chunk_size_line_is_bounded() -> None:
    decoder = ChunkedDecoder()
    decoder.feed(b"5;" + b"x" * (MAX_CHUNK_LINE - 10))
    with pytest.raises(httpcore.RemoteProtocolError, match="chunk-size line longer"):
        decoder.feed(b"x" * 20)


@pytest.mark.parametrize("after", [b"XY", b"\n\n", b"\rX", b"abc\r\n"])
def test_chunk_data_must_be_followed_by_crlf(after: bytes) -> None:
    with pytest.raises(httpcore.RemoteProtocolError, match="malformed chunk footer"):
        ChunkedDecoder().feed(b"2\r\nab" + after + b"0\r\n\r\n")


def test_a_cut_chunked_body_raises_at_eof() -> None:
    for cut in (3, 6, len(CHUNKED_BODY) - 2):
        decoder = ChunkedDecoder()
        decoder.feed(CHUNKED_BODY[:cut])
        with pytest.raises(httpcore.RemoteProtocolError, match="incomplete chunked read"):
            decoder.feed_eof()


def test_a_huge_chunk_size_costs_nothing_up_front() -> None:
    decoder = ChunkedDecoder()
    assert decoder.feed(b"ffffffffffffffff\r\nabc") == [b"abc"]
    assert not decoder.done


# -- requests ------------------------------------------------------------------------------------

HOST = (b"Host", b"example.com")


def test_a_request_head_is_serialised_in_order() -> None:
    head, length, keep_alive = request_head(
        b"PUT", b"/b/k?x=1", [HOST, (b"Content-Length", b"3"), (b"X-A", b"v")]
    )
    assert head == (
        b"PUT /b/k?x=1 HTTP/1.1\r\nHost: example.com\r\nContent-Length: 3\r\nX-A: v\r\n\r\n"
    )
    assert (length, keep_alive) == (3, True)


def test_request_framing_and_keep_alive() -> None:
    assert request_head(b"GET", b"/", [HOST])[1:] == (0, True)
    chunked = request_head(b"PUT", b"/", [HOST, (b"Transfer-Encoding", b"chunked")])
    assert chunked[1] == CHUNKED
    assert request_head(b"GET", b"/", [HOST, (b"Connection", b"close")])[2] is False
    assert chunk(b"hello") == b"5\r\nhello\r\n" and LAST_CHUNK == b"0\r\n\r\n"
    assert chunk(b"x" * 255)[:4] == b"ff\r\n"


@pytest.mark.parametrize(
    ("method", "target", "headers", "match"),
    [
        (b"GE T", b"/", [HOST], "Illegal method"),
        (b"", b"/", [HOST], "Illegal method"),
        (b"GET", b"/a b", [HOST], "Illegal request target"),
        (b"GET", b"/a\r\nX: y", [HOST], "Illegal request target"),
        (b"GET", b"", [HOST], "Illegal request target"),
        (b"GET", b"/", [HOST, (b"Bad Name", b"v")], "Illegal header name"),
        (b"GET", b"/", [HOST, (b"Bad:Name", b"v")], "Illegal header name"),
        (b"GET", b"/", [HOST, (b"X-A", b"v\r\nInjected: 1")], "Illegal header value for 'X-A'"),
        (b"GET", b"/", [HOST, (b"X-A", b"a\x00b")], "Illegal header value"),
        (b"GET", b"/", [HOST, (b"X-A", b" padded")], "Illegal header value"),
        (b"GET", b"/", [], "Missing mandatory Host"),
        (b"GET", b"/", [HOST, HOST], "multiple Host"),
        (b"PUT", b"/", [HOST, (b"Content-Length", b"x")], "bad Content-Length"),
        (
            b"PUT",
            b"/",
            [HOST, (b"Content-Length", b"1"), (b"Content-Length", b"2")],
            "conflicting Content-Length",
        ),
        (b"PUT", b"/", [HOST, (b"Transfer-Encoding", b"gzip")], "Only Transfer-Encoding"),
        (
            b"PUT",
            b"/",
            [HOST, (b"Transfer-Encoding", b"chunked"), (b"Content-Length", b"1")],
            "both Transfer-Encoding and Content-Length",
        ),
    ],
)
def test_a_request_that_cannot_be_sent_is_refused(
    method: bytes, target: bytes, headers: list[tuple[bytes, bytes]], match: str
) -> None:
    with pytest.raises(httpcore.LocalProtocolError, match=match):
        request_head(method, target, headers)


def test_a_refused_header_value_is_not_shown() -> None:
    secret = b"AWS4-HMAC-SHA256 Signature=deadbeef\n"
    with pytest.raises(httpcore.LocalProtocolError) as caught:
        request_head(b"GET", b"/", [HOST, (b"Authorization", secret)])
    assert "deadbeef" not in str(caught.value) and "Authorization" in str(caught.value)
