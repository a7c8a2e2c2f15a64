"""Namespace-agnostic XML helpers, safe parsing, and the few request bodies r2async writes."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from ._exceptions import ResponseParseError

if TYPE_CHECKING:
    import xml.etree.ElementTree as ET

S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/"

# A 1,000-key listing with long keys is well under 2 MiB; anything far bigger is not an S3 answer.
MAX_XML_BYTES = 32 * 1024 * 1024

_ENCODING = re.compile(rb"""encoding\s*=\s*(["'])([^"']*)\1""")
_UTF8_NAMES = frozenset({b"utf-8", b"utf8", b"us-ascii", b"ascii"})
_LEADING_SPACE = re.compile(rb"[ \t\n\r\x0b\x0c]*")  # what bytes.lstrip() removes


_PARSER = "xml.etree.ElementTree"


def load_parser() -> None:
    """The standard library's XML parser, imported on first use.

    Not imported with this module: ``_send`` imports it, and ``xml.etree`` costs 4-6 ms of
    every process's first request, which parses no XML when it is answered 2xx (GET, HEAD,
    PUT, DELETE). An error answer loads it in a worker thread before its document is parsed
    (``_response.xml_parser_ready``); the operation families that parse XML import it with
    their own modules, and the background loads import it too (see ``_lazy.load_later``).
    """
    import xml.etree.ElementTree  # noqa: F401


def parser_loaded() -> bool:
    """Whether :func:`load_parser` would import nothing."""
    return _PARSER in sys.modules


def parse(body: bytes, *, what: str = "response") -> ET.Element:
    """Parse an XML response body safely.

    Refuses, before the parser sees a byte: bodies over ``MAX_XML_BYTES``; any encoding other
    than UTF-8 (a UTF-16 or EBCDIC document would hide ``<!DOCTYPE`` from a byte-level check);
    and DTDs or entity declarations (no billion-laughs, no external entities). S3 sends none
    of these. Namespaces are stripped from every tag so callers can look up plain names
    whether or not the server sent the S3 namespace.

    Args:
        body: the raw response body.
        what: a short description used in error messages (default "response").
    """
    check_safe(body, what=what)
    import xml.etree.ElementTree as ET  # see load_parser

    try:
        # S3 may send keep-alive whitespace before a slow CopyObject/Complete document.
        root = ET.fromstring(body.lstrip())
    except ET.ParseError as exc:
        raise ResponseParseError(f"{what}: malformed XML ({exc})") from None
    if "}" in root.tag:
        for el in root.iter():
            tag = el.tag
            if isinstance(tag, str) and tag[0] == "{":
                el.tag = tag.rpartition("}")[2]
    return root


def expect_root(root: ET.Element, tag: str, *, what: str, also: tuple[str, ...] = ()) -> None:
    """Raise ``ResponseParseError`` unless ``root`` is the document S3 documents, or a twin.

    S3 servers differ in the name of the root element: moto, for one, answers ListParts with
    ``<ListPartsResponse>`` where S3 documents ``<ListPartsResult>`` (botocore does not look at
    the root's name at all). A ``...Result`` root is therefore also accepted as ``...Response``,
    and ``also`` names any further alternates of one operation.

    Args:
        root: the parsed document's root element.
        tag: the root S3 documents, e.g. "ListPartsResult".
        what: the operation, for the error message.
        also: further root names this operation's answer may carry (default none).
    """
    name = root.tag
    if name == tag or name in also:
        return
    if tag.endswith("Result") and name == tag[: -len("Result")] + "Response":
        return
    raise ResponseParseError(f"{what}: expected <{tag}>, got <{name}>")


def check_safe(body: bytes, *, what: str = "response") -> None:
    """Raise ``ResponseParseError`` unless ``body`` is small, UTF-8 and free of DTDs.

    Args:
        body: the raw response body.
        what: a short description used in error messages (default "response").
    """
    if len(body) > MAX_XML_BYTES:
        raise ResponseParseError(
            f"{what}: XML body of {len(body)} bytes exceeds the {MAX_XML_BYTES}-byte limit"
        )
    # UTF-16/32 (with or without a byte-order mark) put NULs between ASCII characters; NUL is
    # never allowed in XML 1.0 anyway.
    if body[:2] in (b"\xfe\xff", b"\xff\xfe") or b"\x00" in body:
        raise ResponseParseError(f"{what}: XML that is not UTF-8 is refused")
    # Where the declaration would be: after leading whitespace (parse() strips it) and a BOM.
    start = _LEADING_SPACE.match(body).end()  # type: ignore[union-attr]
    if body.startswith(b"\xef\xbb\xbf", start):
        start += 3
    if body.startswith(b"<?xml", start):
        end = body.find(b"?>", start)
        match = _ENCODING.search(body, start, end) if end > 0 else None
        if end < 0 or (match is not None and match.group(2).lower() not in _UTF8_NAMES):
            raise ResponseParseError(
                f"{what}: XML declared in another encoding than UTF-8 is refused"
            )
    # In UTF-8 a DTD must spell "<!DOCTYPE" literally (XML keywords are case-sensitive), and
    # entities can only be declared inside one. A lone "!" is a memchr away (a 200 KB listing
    # in 3 us, where searching for "<!" takes 200 us as "<" is everywhere).
    if b"!" in body and (b"<!DOCTYPE" in body or b"<!ENTITY" in body):
        raise ResponseParseError(f"{what}: XML with a DTD or entity declaration is refused")


def text(el: ET.Element | None, name: str, default: str | None = None) -> str | None:
    """Text of the first direct child ``name`` of ``el`` ('' if empty), else ``default``."""
    if el is None:
        return default
    child = el.find(name)
    if child is None:
        return default
    return child.text or ""


def children(el: ET.Element, name: str) -> Iterator[ET.Element]:
    """Direct children of ``el`` named ``name``."""
    return iter(el.findall(name))


def boolean(value: str | None) -> bool:
    """S3's 'true'/'false' text as a bool (missing counts as false)."""
    return value is not None and value.strip().lower() == "true"


def escape(value: str) -> str:
    """``&``, ``<`` and ``>`` escaped, as ``xml.sax.saxutils.escape`` does.

    Not imported from there: ``xml.sax`` costs 1-2 ms of every process's first request
    (``_send`` imports this module) for these three replacements.
    """
    return value.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")


def element(tag: str, value: str) -> str:
    """One escaped XML element."""
    return f"<{tag}>{escape(value)}</{tag}>"


def document(root: str, inner: Iterable[str], *, namespace: bool = True) -> bytes:
    """An XML document with declaration, root element and the given inner fragments."""
    ns = f' xmlns="{S3_NS}"' if namespace else ""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<{root}{ns}>' + "".join(inner) + f"</{root}>"
    ).encode()


def parse_error(body: bytes) -> tuple[str | None, str | None, str | None, str | None]:
    """(code, message, request_id, host_id) of an S3 ``<Error>`` body; Nones if unreadable."""
    if not body or b"<" not in body:
        return None, None, None, None
    try:
        root = parse(body, what="error response")
    except ResponseParseError:
        return None, None, None, None
    if root.tag != "Error":
        err = root.find("Error")
        if err is None:
            return None, None, None, None
        root = err
    return (
        text(root, "Code"),
        text(root, "Message"),
        text(root, "RequestId"),
        text(root, "HostId"),
    )


_ERROR_DOC = re.compile(rb"\s*(?:<\?xml[^>]*\?>)?\s*<Error[\s>]")


def is_error_document(body: bytes) -> bool:
    """True when a 200 body is actually an ``<Error>`` document (CopyObject, Complete...).

    S3 may send whitespace for a long time before the document (to keep the connection
    alive), so the whole body is scanned, not just its first bytes.
    """
    return _ERROR_DOC.match(body) is not None
