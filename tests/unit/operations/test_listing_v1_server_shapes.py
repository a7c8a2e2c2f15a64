"""ListObjects V1 paging with a delimiter, against pages shaped the way other S3 servers shape them.

moto sends an opaque ``NextMarker`` (a hash standing for a position) and every common prefix on
every page; s3rver sends the last key as ``NextMarker``, every common prefix on every page, no
``EncodingType`` and another namespace; SeaweedFS echoes ``EncodingType=url`` yet sends
``NextMarker`` unencoded. Deriving the marker from the last key or prefix (what r2async did)
skips keys on the first two; the server's marker, preferred when sent, lists every key once.
The shapes were recorded from moto 5.2 and read from s3rver's source (lib/controllers/bucket.js).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from urllib.parse import quote_plus

import httpx
import pytest
import respx

from r2async import R2Client, ResponseParseError
from r2async._operations.listing import build_list_objects_v1, parse_list_objects_v1
from r2async._operations.listing_reference import list_objects_v1 as reference_v1

BASE = "http://127.0.0.1:9"
S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/"
# s3rver's namespace differs from S3's (lib/controllers/bucket.js).
S3RVER_NS = "http://doc.s3.amazonaws.com/2006-03-01/"

# 30 keys in a small tree, with the characters URL encoding changes.
KEYS = sorted(
    [f"{d}/{i}" for d in ("a", "c", "e+f", "g h") for i in range(4)]
    + ["b", "d", "d+", "f%g", "h i", "x"]
    + [f"p/q/{i}" for i in range(4)]
    + ["z/1", "z/2", "zz", "é"]
)
assert len(KEYS) == 30


def _folded(keys: list[str], delimiter: str | None) -> tuple[list[str], list[str]]:
    """(keys listed as objects, common prefixes), as S3 groups them."""
    objects: list[str] = []
    prefixes: list[str] = []
    for key in keys:
        if delimiter and delimiter in key:
            prefix = key[: key.index(delimiter) + len(delimiter)]
            if prefix not in prefixes:
                prefixes.append(prefix)
        else:
            objects.append(key)
    return objects, prefixes


def _contents(key: str) -> str:
    return (
        f"<Contents><Key>{key}</Key><LastModified>2026-12-03T13:03:47.000Z</LastModified>"
        '<ETag>"9dd4e461268c8034f5c8564e155c67a6"</ETag><Size>1</Size>'
        "<StorageClass>STANDARD</StorageClass></Contents>"
    )


def _xml_escape(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;")


class Moto:
    """Pages as moto 5.2 writes them: opaque NextMarker, all prefixes on every page."""

    def __init__(self) -> None:
        self.positions: dict[str, str] = {}

    def page(self, params: dict[str, str]) -> bytes:
        delimiter = params.get("delimiter")
        max_keys = int(params.get("max-keys", "1000"))
        objects, prefixes = _folded(KEYS, delimiter)
        marker = params.get("marker")
        start = self.positions.get(marker, marker) if marker else None
        remaining = [k for k in objects if start is None or k > start]
        shown, truncated = remaining[:max_keys], len(remaining) > max_keys
        enc = quote_plus if params.get("encoding-type") == "url" else _xml_escape
        out = [f'<?xml version="1.0" encoding="utf-8"?>\n<ListBucketResult xmlns="{S3_NS}">']
        out.append(f"<IsTruncated>{'true' if truncated else 'false'}</IsTruncated>")
        if truncated:
            token = hashlib.md5(shown[-1].encode()).hexdigest()
            self.positions[token] = shown[-1]
            out.append(f"<NextMarker>{token}</NextMarker>")
        out += [_contents(enc(k)) for k in shown]
        out.append(f"<Name>bucket</Name><MaxKeys>{max_keys}</MaxKeys>")
        if delimiter:
            out.append(f"<Delimiter>{enc(delimiter)}</Delimiter>")
        out += [f"<CommonPrefixes><Prefix>{enc(p)}</Prefix></CommonPrefixes>" for p in prefixes]
        if params.get("encoding-type") == "url":
            out.append("<EncodingType>url</EncodingType>")
        out.append("</ListBucketResult>")
        return "".join(out).encode()


class S3rver:
    """Pages as s3rver writes them: NextMarker is the last key (only with a delimiter), every
    prefix on every page, no URL encoding, no EncodingType, its own namespace."""

    def page(self, params: dict[str, str]) -> bytes:
        delimiter = params.get("delimiter")
        max_keys = int(params.get("max-keys", "1000"))
        objects, prefixes = _folded(KEYS, delimiter)
        marker = params.get("marker")
        if marker:
            # s3rver: keys.slice(keys.findIndex(key => key.startsWith(marker)) + 1)
            found = next((i for i, k in enumerate(objects) if k.startswith(marker)), -1)
            objects = objects[found + 1 :]
        shown, truncated = objects[:max_keys], len(objects) > max_keys
        out = [f'<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="{S3RVER_NS}">']
        out.append(
            f"<Name>bucket</Name><Prefix></Prefix><Marker>{_xml_escape(marker or '')}</Marker>"
        )
        if delimiter and truncated:
            out.append(f"<NextMarker>{_xml_escape(shown[-1])}</NextMarker>")
        out.append(f"<MaxKeys>{max_keys}</MaxKeys>")
        if delimiter:
            out.append(f"<Delimiter>{_xml_escape(delimiter)}</Delimiter>")
        out.append(f"<IsTruncated>{'true' if truncated else 'false'}</IsTruncated>")
        out += [_contents(_xml_escape(k)) for k in shown]
        out += [
            f"<CommonPrefixes><Prefix>{_xml_escape(p)}</Prefix></CommonPrefixes>" for p in prefixes
        ]
        out.append("</ListBucketResult>")
        return "".join(out).encode()


Server = Callable[[dict[str, str]], bytes]


async def _list_all_v1(
    page: Server, *, delimiter: str | None, max_keys: int
) -> tuple[list[str], set[str]]:
    """Every key and prefix ``list_objects_v1`` finds by following ``next_marker``."""
    keys: list[str] = []
    prefixes: set[str] = set()
    async with R2Client(endpoint_url=BASE, access_key_id="a", secret_access_key="b") as r2:
        with respx.mock(base_url=BASE) as mock:
            mock.get(url__regex=r".*").mock(
                side_effect=lambda request: httpx.Response(
                    200, content=page(dict(request.url.params))
                )
            )
            marker = None
            for _ in range(len(KEYS) + 2):  # bounded: one page per key at worst
                result = await r2.list_objects_v1(
                    "bucket", delimiter=delimiter, marker=marker, max_keys=max_keys
                )
                keys += [o.key for o in result.objects]
                prefixes.update(result.common_prefixes)
                if not result.is_truncated:
                    return keys, prefixes
                marker = result.next_marker
                assert marker
    raise AssertionError("the listing did not end")


@pytest.mark.parametrize("server", [Moto, S3rver], ids=["moto", "s3rver"])
@pytest.mark.parametrize("max_keys", [1, 2, 3, 7])
async def test_v1_paging_with_a_delimiter_lists_every_key_once(
    server: type[Moto] | type[S3rver], max_keys: int
) -> None:
    objects, expected_prefixes = _folded(KEYS, "/")
    keys, prefixes = await _list_all_v1(server().page, delimiter="/", max_keys=max_keys)
    assert keys == objects
    assert prefixes == set(expected_prefixes)


@pytest.mark.parametrize("server", [Moto, S3rver], ids=["moto", "s3rver"])
async def test_v1_paging_without_a_delimiter_lists_every_key_once(
    server: type[Moto] | type[S3rver],
) -> None:
    keys, prefixes = await _list_all_v1(server().page, delimiter=None, max_keys=4)
    assert keys == KEYS and not prefixes


def _page(next_marker: str, *, encoded: bool, keys: list[str], prefixes: list[str]) -> bytes:
    enc = quote_plus if encoded else _xml_escape
    return (
        f'<ListBucketResult xmlns="{S3_NS}"><Name>bucket</Name><IsTruncated>true</IsTruncated>'
        f"<NextMarker>{next_marker}</NextMarker>"
        + "".join(_contents(enc(k)) for k in keys)
        + "".join(f"<CommonPrefixes><Prefix>{enc(p)}</Prefix></CommonPrefixes>" for p in prefixes)
        + ("<EncodingType>url</EncodingType>" if encoded else "")
        + "</ListBucketResult>"
    ).encode()


SPEC = build_list_objects_v1("bucket", delimiter="/")


@pytest.mark.parametrize("parse", [parse_list_objects_v1, reference_v1], ids=["fast", "reference"])
def test_next_marker_is_decoded_when_the_response_says_url(parse: Callable[..., object]) -> None:
    # AWS: NextMarker URL-encoded like the keys under encoding-type=url.
    body = _page("m%2Fc+d%2F", encoded=True, keys=["m/a b"], prefixes=["m/c d/"])
    assert parse(body, {}, SPEC).next_marker == "m/c d/"  # type: ignore[attr-defined]


@pytest.mark.parametrize("parse", [parse_list_objects_v1, reference_v1], ids=["fast", "reference"])
def test_next_marker_is_not_decoded_without_encoding_type(parse: Callable[..., object]) -> None:
    # A server that ignores encoding-type sends literal names: '+' and '%' stay as they are.
    body = _page("m/c+d%2F", encoded=False, keys=["m/a"], prefixes=["z/"])
    assert parse(body, {}, SPEC).next_marker == "m/c+d%2F"  # type: ignore[attr-defined]


@pytest.mark.parametrize("parse", [parse_list_objects_v1, reference_v1], ids=["fast", "reference"])
def test_an_unencoded_next_marker_under_encoding_type_url_is_taken_as_sent(
    parse: Callable[..., object],
) -> None:
    # SeaweedFS: EncodingType=url echoed, NextMarker sent raw. It names an entry of the page
    # as sent ("m/c+d/"), and its decoding ("m/c d/") names none: it was not encoded.
    body = _page("m/c+d/", encoded=True, keys=["m/a"], prefixes=["m/c+d/"])
    assert parse(body, {}, SPEC).next_marker == "m/c+d/"  # type: ignore[attr-defined]


@pytest.mark.parametrize("parse", [parse_list_objects_v1, reference_v1], ids=["fast", "reference"])
def test_an_opaque_next_marker_is_preferred_over_the_last_entry(
    parse: Callable[..., object],
) -> None:
    body = _page("92eb5ffee6ae2fec", encoded=True, keys=["a", "b"], prefixes=["c/", "e/"])
    assert parse(body, {}, SPEC).next_marker == "92eb5ffee6ae2fec"  # type: ignore[attr-defined]


@pytest.mark.parametrize("parse", [parse_list_objects_v1, reference_v1], ids=["fast", "reference"])
def test_a_next_marker_that_is_not_utf8_is_refused(parse: Callable[..., object]) -> None:
    body = _page("%FF", encoded=True, keys=["a"], prefixes=[])
    with pytest.raises(ResponseParseError, match="NextMarker"):
        parse(body, {}, SPEC)


@pytest.mark.parametrize("parse", [parse_list_objects_v1, reference_v1], ids=["fast", "reference"])
def test_without_next_marker_the_marker_is_derived(parse: Callable[..., object]) -> None:
    body = _page("", encoded=True, keys=["a", "b c"], prefixes=["a/"])
    assert parse(body, {}, SPEC).next_marker == "b c"  # type: ignore[attr-defined]
