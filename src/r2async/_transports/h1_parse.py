"""HTTP/1.1 client framing, sans-IO: the request head out, the response head and body in.

Why: the pool's own connection (``h1_connection``) speaks HTTP/1.1 without h11 and httpcore's
connection machinery, which were a quarter of the client CPU of a small request. This module
holds every rule of the wire format, and no I/O, so each rule is tested on its own
(tests/unit/transports/test_h1_parse.py).

The rules are h11's (0.16) where h11 has one, stricter where noted, and every length from the
wire is bounded:

* a response head (status line and headers) is at most ``MAX_HEAD`` bytes (httpcore's bound on
  h11's buffer) and ``MAX_HEADERS`` lines; lines end in CRLF or a bare LF (as h11 accepts);
  the status line is ``HTTP/1.0`` or ``HTTP/1.1`` (stricter: h11 takes any ``d.d``), a space,
  three digits and an optional reason; header names are tokens, values are h11's
  ``field-value`` (no NUL, CR, LF or other control whitespace inside, outer spaces and tabs
  stripped); a folded line (obs-fold) is refused (stricter: h11 unfolds it, RFC 9112 lets a
  client refuse);
* ``Content-Length``: digits only, at most 19 of them; repeated or comma-joined values must be
  equal; ``Transfer-Encoding``: ``chunked`` only, in one header; both in one response are
  refused (stricter: h11 lets ``chunked`` win; RFC 9112 calls that a smuggling sign);
* framing (RFC 9112 6.3): no body after HEAD, nor for 1xx, 204 or 304; ``chunked``; a length;
  else the body runs until the server closes, and the connection is not reused;
* keep-alive: not after ``Connection: close`` (request or response) nor an HTTP/1.0 response;
* chunked bodies: a chunk-size line is at most ``MAX_CHUNK_LINE`` bytes (hex size of at most
  16 digits, extensions ignored), each chunk's data must be followed by exactly CRLF (h11
  0.16's fix), the trailer section is bounded as a head is and checked, then discarded;
* interim (1xx) responses are skipped by the connection, at most ``MAX_INTERIM`` per request;
  101 is refused (r2async never asks to switch protocols);
* requests: method a token, target visible ASCII, header names tokens, values h11's
  ``field-value`` (the error names the header, never its value: it may be a secret), one
  ``Host``, the same ``Content-Length``/``Transfer-Encoding`` rules as above.

Errors are httpcore's (``RemoteProtocolError`` for what the server sent, ``LocalProtocolError``
for a request that cannot be sent), as httpcore's own HTTP/1.1 connection raises them, so
httpx maps them to the same httpx exceptions.
"""

from __future__ import annotations

import re

import httpcore

from .call_guard import MAX_INTERIM

__all__ = [
    "CHUNKED",
    "LAST_CHUNK",
    "MAX_CHUNK_LINE",
    "MAX_HEAD",
    "MAX_HEADERS",
    "MAX_INTERIM",
    "UNTIL_CLOSE",
    "ChunkedDecoder",
    "ResponseHead",
    "body_length",
    "chunk",
    "find_head_end",
    "parse_head",
    "request_head",
]

# A response head, as httpcore bounds h11's buffer (its MAX_INCOMPLETE_EVENT_SIZE).
MAX_HEAD = 100 * 1024
# Header lines in a head or a trailer section (R2 sends about 15; S3 metadata is 2 KiB at most).
MAX_HEADERS = 256
# A chunk-size line with its extensions and line end.
MAX_CHUNK_LINE = 4096
# Digits of a Content-Length: 19 keep it below 2**63.
_MAX_LENGTH_DIGITS = 19
_MAX_CHUNK_DIGITS = 16

# body_length's answers besides a byte count.
CHUNKED = -1
UNTIL_CLOSE = -2

_TOKEN = rb"[-!#$%&'*+.^_`|~0-9a-zA-Z]+"
_FIELD_VALUE = rb"(?:[^\x00\s]+(?:[ \t]+[^\x00\s]+)*)?"
_HEADER_LINE = re.compile(rb"(" + _TOKEN + rb"):[ \t]*(" + _FIELD_VALUE + rb")[ \t]*")
_STATUS_LINE = re.compile(rb"HTTP/1\.([01]) ([0-9]{3})(?: ((?:[ \t]|[^\x00\s])*))?")
_TOKEN_RE = re.compile(_TOKEN)
_TARGET_RE = re.compile(rb"[\x21-\x7e]+")
_VALUE_RE = re.compile(_FIELD_VALUE)
_DIGITS = re.compile(rb"[0-9]+")
_BLANK_LINE = re.compile(rb"\n\r?\n")
_CHUNK_LINE = re.compile(rb"([0-9A-Fa-f]{1,%d})[ \t]*(?:;[^\r\n\x00]*)?\r\n" % _MAX_CHUNK_DIGITS)


class ResponseHead:
    """A parsed response head: status, reason, version and headers, with their framing facts."""

    __slots__ = (
        "chunked",
        "close",
        "content_length",
        "headers",
        "http_version",
        "reason",
        "status",
    )

    def __init__(
        self,
        status: int,
        reason: bytes,
        http_version: bytes,
        headers: list[tuple[bytes, bytes]],
        content_length: int | None,
        chunked: bool,
        close: bool,
    ) -> None:
        self.status = status
        self.reason = reason
        self.http_version = http_version  # b"HTTP/1.1" or b"HTTP/1.0"
        self.headers = headers  # names as sent, values stripped
        self.content_length = content_length
        self.chunked = chunked
        self.close = close  # Connection: close, or HTTP/1.0


def _remote(message: str) -> httpcore.RemoteProtocolError:
    return httpcore.RemoteProtocolError(message)


def find_head_end(buf: bytes | bytearray, start: int = 0) -> int:
    """The offset just past the blank line that ends a head in ``buf``, or -1 if not there yet.

    Args:
        buf: the bytes received so far.
        start: where to resume a search that found nothing (earlier bytes were searched).
    """
    match = _BLANK_LINE.search(buf, max(0, start - 2))
    return -1 if match is None else match.end()


def _lines(head: bytes) -> list[bytes]:
    # The lines of a head or trailer section through its blank line, line ends removed.
    if head.count(b"\n") == head.count(b"\r\n"):
        return head.split(b"\r\n")[:-2]
    lines = head.split(b"\n")[:-2]
    return [line[:-1] if line.endswith(b"\r") else line for line in lines]


def _content_length(value: bytes, seen: int | None) -> int:
    # One Content-Length value (maybe comma-joined copies), consistent with any seen before.
    lengths = {part.strip(b" \t") for part in value.split(b",")}
    if len(lengths) != 1:
        raise _remote("conflicting Content-Length headers")
    text = lengths.pop()
    if not _DIGITS.fullmatch(text) or len(text) > _MAX_LENGTH_DIGITS:
        raise _remote("bad Content-Length")
    length = int(text)
    if seen is not None and seen != length:
        raise _remote("conflicting Content-Length headers")
    return length


def _has_close(value: bytes) -> bool:
    return any(part.strip(b" \t").lower() == b"close" for part in value.split(b","))


def _header_fields(lines: list[bytes], what: str) -> list[tuple[bytes, bytes]]:
    if len(lines) > MAX_HEADERS:
        raise _remote(f"more than {MAX_HEADERS} header lines in the {what}")
    fields = []
    match = _HEADER_LINE.fullmatch
    for line in lines:
        found = match(line)
        if found is None:
            if line[:1] in (b" ", b"\t"):
                raise _remote(f"folded header line (obs-fold) in the {what}")
            raise _remote(f"illegal header line in the {what}")
        fields.append((found[1], found[2]))
    return fields


def parse_head(head: bytes) -> ResponseHead:
    """Parse a response head: the bytes through its blank line (see :func:`find_head_end`).

    Args:
        head: the head, at most ``MAX_HEAD`` bytes (the caller checks before it searches).

    Raises:
        httpcore.RemoteProtocolError: the head breaks one of the module's rules.
    """
    if len(head) > MAX_HEAD:
        raise _remote(f"the response head exceeds {MAX_HEAD} bytes")
    lines = _lines(head)
    if not lines:
        raise _remote("no status line received")
    status_line = _STATUS_LINE.fullmatch(lines[0])
    if status_line is None:
        raise _remote("illegal status line")
    headers = _header_fields(lines[1:], "response head")
    content_length: int | None = None
    chunked = False
    close = status_line[1] == b"0"
    for name, value in headers:
        size = len(name)
        if size == 14 and name.lower() == b"content-length":
            content_length = _content_length(value, content_length)
        elif size == 17 and name.lower() == b"transfer-encoding":
            if chunked:
                raise _remote("multiple Transfer-Encoding headers")
            if value.lower() != b"chunked":
                raise _remote("Only Transfer-Encoding: chunked is supported")
            chunked = True
        elif size == 10 and not close and name.lower() == b"connection":
            close = _has_close(value)
    if chunked and content_length is not None:
        raise _remote("both Transfer-Encoding and Content-Length in a response")
    reason = status_line[3]
    return ResponseHead(
        status=int(status_line[2]),
        reason=b"" if reason is None else reason,
        http_version=b"HTTP/1." + status_line[1],
        headers=headers,
        content_length=content_length,
        chunked=chunked,
        close=close,
    )


def body_length(method: bytes, head: ResponseHead) -> int:
    """The response body's framing: a byte count, ``CHUNKED`` or ``UNTIL_CLOSE`` (RFC 9112 6.3).

    Args:
        method: the request's method.
        head: the final response's head (not an interim one).
    """
    status = head.status
    if method == b"HEAD" or status in (204, 304) or status < 200:
        return 0
    if head.chunked:
        return CHUNKED
    if head.content_length is not None:
        return head.content_length
    return UNTIL_CLOSE


def request_head(
    method: bytes, target: bytes, headers: list[tuple[bytes, bytes]]
) -> tuple[bytes, int, bool]:
    """The request head to send, its body framing, and whether the connection may be kept.

    Returns ``(head, length, keep_alive)``: ``length`` is the body's byte count (0 without
    ``Content-Length`` or ``Transfer-Encoding``), or ``CHUNKED``.

    Args:
        method: e.g. ``b"GET"``.
        target: the request target (path and query).
        headers: the headers in order, names and values as ``bytes``, ``Host`` among them.

    Raises:
        httpcore.LocalProtocolError: an illegal method, target, header name or value, no or
            several ``Host`` headers, or a bad ``Content-Length``/``Transfer-Encoding``.
    """
    if not _TOKEN_RE.fullmatch(method):
        raise httpcore.LocalProtocolError("Illegal method")
    if not _TARGET_RE.fullmatch(target):
        raise httpcore.LocalProtocolError("Illegal request target")
    parts = [method, b" ", target, b" HTTP/1.1\r\n"]
    hosts = 0
    length: int | None = None
    chunked = False
    keep_alive = True
    name_ok = _TOKEN_RE.fullmatch
    value_ok = _VALUE_RE.fullmatch
    for name, value in headers:
        if not name_ok(name):
            raise httpcore.LocalProtocolError("Illegal header name")
        if not value_ok(value):
            # The value may be a secret: only the header's name is told.
            raise httpcore.LocalProtocolError(f"Illegal header value for {name.decode('ascii')!r}")
        size = len(name)
        if size == 4 and name.lower() == b"host":
            hosts += 1
        elif size == 14 and name.lower() == b"content-length":
            try:
                length = _content_length(value, length)
            except httpcore.RemoteProtocolError as exc:
                raise httpcore.LocalProtocolError(str(exc)) from None
        elif size == 17 and name.lower() == b"transfer-encoding":
            if chunked or value.lower() != b"chunked":
                raise httpcore.LocalProtocolError("Only Transfer-Encoding: chunked is supported")
            chunked = True
        elif size == 10 and name.lower() == b"connection" and _has_close(value):
            keep_alive = False
        parts += (name, b": ", value, b"\r\n")
    if hosts != 1:
        raise httpcore.LocalProtocolError(
            "Missing mandatory Host: header" if not hosts else "Found multiple Host: headers"
        )
    if chunked and length is not None:
        raise httpcore.LocalProtocolError("both Transfer-Encoding and Content-Length in a request")
    parts.append(b"\r\n")
    return b"".join(parts), CHUNKED if chunked else (length or 0), keep_alive


def chunk(data: bytes) -> bytes:
    """One chunk of a chunked request body (``data`` not empty)."""
    return b"%x\r\n%b\r\n" % (len(data), data)


LAST_CHUNK = b"0\r\n\r\n"

_SIZE, _DATA, _DATA_END, _TRAILER, _DONE = range(5)


class ChunkedDecoder:
    """Decodes a chunked body as its bytes arrive; ``done`` once the trailer section ended.

    ``feed`` returns the body's bytes found in what it was given; bytes past the end of the
    body stay in ``trailing`` (the connection must not be reused then).
    """

    __slots__ = ("_buf", "_left", "_searched", "_state", "trailing")

    def __init__(self) -> None:
        self._state = _SIZE
        self._left = 0  # data bytes left in the current chunk
        # An incomplete size line or chunk end (a few bytes), or trailer section (grown in
        # place, searched from where the last search stopped: a server dripping it byte by
        # byte costs linear time, not quadratic).
        self._buf = bytearray()
        self._searched = 0
        self.trailing = b""

    @property
    def done(self) -> bool:
        """Whether the whole body, its trailer section included, was received."""
        return self._state == _DONE

    def feed(self, data: bytes) -> list[bytes]:
        """The body bytes in ``data`` (possibly none), in order.

        Raises:
            httpcore.RemoteProtocolError: a malformed or oversized size line, chunk end or
                trailer section.
        """
        out: list[bytes] = []
        if self._buf:
            if self._state == _TRAILER:
                self._buf += data
                self._trailer()
                return out
            data = bytes(self._buf) + data
            self._buf = bytearray()
        pos = 0
        end = len(data)
        while pos < end:
            state = self._state
            if state == _DATA:
                take = min(self._left, end - pos)
                out.append(data if take == end else data[pos : pos + take])
                pos += take
                self._left -= take
                if not self._left:
                    self._state = _DATA_END
            elif state == _SIZE:
                eol = data.find(b"\n", pos, pos + MAX_CHUNK_LINE)
                if eol < 0:
                    if end - pos >= MAX_CHUNK_LINE:
                        raise _remote(f"chunk-size line longer than {MAX_CHUNK_LINE} bytes")
                    self._buf = bytearray(data[pos:])
                    break
                line = _CHUNK_LINE.fullmatch(data, pos, eol + 1)
                if line is None:
                    raise _remote("illegal chunk header")
                pos = eol + 1
                self._left = int(line[1], 16)
                self._state = _DATA if self._left else _TRAILER
            elif state == _DATA_END:
                have = data[pos : pos + 2]
                if have != b"\r\n"[: len(have)]:
                    raise _remote("malformed chunk footer (expected CRLF after the data)")
                if len(have) < 2:
                    self._buf = bytearray(have)
                    break
                pos += 2
                self._state = _SIZE
            elif state == _TRAILER:
                self._buf = bytearray(data[pos:])
                self._searched = 0
                self._trailer()
                break
            else:  # _DONE: anything more is not part of this response
                self.trailing += data[pos:]
                break
        return out

    def _trailer(self) -> None:
        # The trailer section in self._buf: a blank line alone, or header lines then one
        # (checked and bounded as a head is, then discarded as httpcore discards them).
        buf = self._buf
        if buf[:1] == b"\n" or buf[:2] == b"\r\n":
            ends = 1 if buf[:1] == b"\n" else 2
        elif buf == b"\r":
            return
        else:
            ends = find_head_end(buf, self._searched)
            if ends < 0:
                if len(buf) > MAX_HEAD:
                    raise _remote(f"the trailer section exceeds {MAX_HEAD} bytes")
                self._searched = len(buf)
                return
            if ends > MAX_HEAD:
                raise _remote(f"the trailer section exceeds {MAX_HEAD} bytes")
            _header_fields(_lines(bytes(buf[:ends])), "trailer section")
        self.trailing = bytes(buf[ends:])
        self._buf = bytearray()
        self._state = _DONE

    def feed_eof(self) -> None:
        """The server closed the connection: an error unless the body was complete."""
        if self._state != _DONE:
            raise _remote(
                "peer closed connection without sending complete message body "
                "(incomplete chunked read)"
            )
