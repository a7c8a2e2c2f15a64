"""The fast listing reader agrees with the ElementTree reference on every document.

``parse_list_objects``/``parse_list_objects_v1`` try ``_listparse.scan`` first and fall back
to the ElementTree reading (``_reference_list_objects*``) on ``Unsupported``. These
properties generate listings the way servers write them (and the ways they could), then
check that:

* the public parsers give exactly what the reference gives: equal results with the same
  ``repr`` (so the same types and time zones) and the same ``model_fields_set`` per
  object, or the same ``ResponseParseError`` message;
* the fast reader never returns a result where the reference raises;
* the fast reader does take the plain documents (no comments, CDATA, CR...), so the
  first point is not met by always falling back.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, quote_plus, unquote_plus

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from r2async import ResponseParseError
from r2async._operations import listing_fast, listing_reference
from r2async._operations.listing import (
    build_list_objects,
    build_list_objects_v1,
    parse_list_objects,
    parse_list_objects_v1,
)
from r2async._operations.listparse import Unsupported, scan

NS = "http://s3.amazonaws.com/doc/2006-03-01/"
SPEC_V2 = build_list_objects("bkt", prefix="p", delimiter="/")
SPEC_V1 = build_list_objects_v1("bkt", marker="m")
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Every character XML 1.0 can carry, as text or as a character reference.
xml_chars = st.characters(
    blacklist_categories=("Cs",),
    blacklist_characters="\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f\x10\x11\x12"
    "\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\ufffe\uffff",
)
# Keys can hold anything but lone surrogates: under encoding-type=url even control
# characters arrive (percent-encoded).
key_chars = st.characters(blacklist_categories=("Cs",))
tricky = st.sampled_from(
    [
        *"&<>\"' +%/\t\n\r",
        *["é", "日", "\U0001f600", "\x7f", "\x85", "\ufffd", "\U0010fffd"],
        # Text that looks like markup once its own escapes are undone.
        *["&lt;", "&#34;", "&amp;", "]]>", "%2B", "<Key>", "</Contents>"],
    ]
)
texts = st.lists(st.one_of(xml_chars, tricky), max_size=12).map("".join)
keys = st.lists(st.one_of(key_chars, tricky), min_size=0, max_size=16).map("".join)


# ---------------------------------------------------------------------------------------------
# Writing XML the ways servers do


@dataclass
class Writer:
    """Escapes text with randomly chosen (valid) spellings, and records what is exotic."""

    rng: random.Random
    exotic: bool  # may use constructs the fast reader leaves to ElementTree
    used_exotic: list[str] = field(default_factory=list)

    def ref(self, char: str) -> str:
        code = ord(char)
        return self.rng.choice(
            [f"&#{code};", f"&#x{code:x};", f"&#x{code:X};", f"&#00{code};", f"&#x0{code:x};"]
        )

    def text(self, value: str) -> str:
        out = []
        for char in value:
            roll = self.rng.random()
            if char == "&":
                out.append(self.rng.choice(["&amp;", "&#38;", "&#x26;"]))
            elif char == "<":
                out.append(self.rng.choice(["&lt;", "&#60;", "&#x3c;"]))
            elif char == ">":
                if self.exotic and roll < 0.3:
                    self.used_exotic.append("literal >")
                    out.append(">")
                else:
                    out.append(self.rng.choice(["&gt;", "&#62;"]))
            elif char == '"':
                out.append(self.rng.choice(['"', "&quot;", "&#34;"]))
            elif char == "'":
                out.append(self.rng.choice(["'", "&apos;", "&#39;"]))
            elif char == "\r":
                if self.exotic and roll < 0.3:
                    self.used_exotic.append("literal CR")
                    out.append(self.rng.choice(["\r", "\r\n"]))
                else:
                    out.append(self.rng.choice(["&#13;", "&#xD;"]))
            elif char in "\t\n":
                out.append(char if roll < 0.5 else self.ref(char))
            elif roll < 0.1:
                out.append(self.ref(char))
            else:
                out.append(char)
        escaped = "".join(out)
        if self.exotic and "]]>" not in value and self.rng.random() < 0.1:
            self.used_exotic.append("CDATA")
            return f"<![CDATA[{value}]]>"
        if self.exotic and self.rng.random() < 0.05:
            self.used_exotic.append("comment in text")
            cut = self.rng.randint(0, len(escaped))
            # Cut between references only: find a spot outside any "&...;".
            while "&" in escaped[:cut] and ";" not in escaped[escaped.rfind("&", 0, cut) : cut]:
                cut -= 1
            return escaped[:cut] + "<!-- c -->" + escaped[cut:]
        return escaped

    def element(self, name: str, value: str) -> str:
        if not value and self.rng.random() < 0.3:
            return f"<{name}/>"
        attr = ""
        if self.exotic and self.rng.random() < 0.05:
            self.used_exotic.append("attribute")
            attr = ' a="1"'
        return f"<{name}{attr}>{self.text(value)}</{name}>"

    def join(self, parts: list[str], pretty: bool) -> str:
        sep = "\n  " if pretty else ""
        out = sep.join(parts)
        if self.exotic and parts and self.rng.random() < 0.1:
            self.used_exotic.append("comment between elements")
            at = self.rng.randint(0, len(parts))
            out = sep.join([*parts[:at], "<!-- between -->", *parts[at:]])
        if self.exotic and parts and self.rng.random() < 0.05:
            self.used_exotic.append("processing instruction")
            at = self.rng.randint(0, len(parts))
            out = sep.join([*parts[:at], "<?pi some data?>", *parts[at:]])
        return out


def encode_key(key: str, style: int) -> str:
    # Form-style (AWS, R2, SeaweedFS), %20-style, or with '/' left as is.
    if style == 0:
        return quote_plus(key, safe="")
    if style == 1:
        return quote(key, safe="")
    return quote_plus(key, safe="/")


dates = st.one_of(
    st.sampled_from(
        [
            "2025-01-02T03:04:05.000Z",
            "2025-01-02T03:04:05Z",
            "2026-11-26T04:36:02Z",
            "2025-01-02T03:04:05.123456Z",
            "2025-01-02T03:04:05+02:00",
            "2025-01-02T03:04:05",
            "2025-01-02",
            "yesterday",
            "",
            "2025-13-02T03:04:05Z",
        ]
    ),
    st.datetimes().map(lambda d: d.isoformat(timespec="milliseconds") + "Z"),
)
etags = st.sampled_from(
    ['"d41d8cd98f00b204e9800998ecf8427e"', "d41d8cd98f00b204e9800998ecf8427e", 'W/"x"', "", '"a-2"']
)
sizes = st.integers(0, 40).flatmap(
    lambda roll: (
        st.sampled_from(["", " 7 ", "-1", "1_000", "big", "٣"])
        if roll == 0
        else st.integers(0, 10**13).map(str)
    )
)
CONTENT_FIELDS = [
    "Key",
    "LastModified",
    "ETag",
    "Size",
    "StorageClass",
    "ChecksumAlgorithm",
    "ChecksumType",
    "Owner",
    "Unknown",
]
# A shape: which children an entry has, in which order (repeats allowed); nearly always
# one Key somewhere.
shapes = st.tuples(
    st.lists(st.sampled_from(CONTENT_FIELDS[1:]), max_size=9),
    st.integers(0, 9),
    st.integers(0, 40),
).map(
    lambda t: (
        t[0]
        if t[2] == 0
        else [*t[0][: t[1]], "Key", *t[0][t[1] :], *(["Key"] if t[2] == 1 else [])]
    )
)


@st.composite
def contents_entry(
    draw: st.DrawFn, w: Writer, shape: list[str], encoded: bool, pretty: bool
) -> str:
    parts = []
    for name in shape:
        if name == "Key":
            # Unencoded names can only hold what XML can carry.
            key = draw(keys if encoded else texts)
            if encoded:
                key = encode_key(key, draw(st.integers(0, 2)))
                if draw(st.integers(0, 300)) == 0:
                    key += "%FF"  # not UTF-8 once decoded
            parts.append(w.element("Key", key))
        elif name == "LastModified":
            parts.append(w.element(name, draw(dates)))
        elif name == "ETag":
            parts.append(w.element(name, draw(etags)))
        elif name == "Size":
            parts.append(w.element(name, draw(sizes)))
        elif name == "ChecksumAlgorithm":
            parts.append(w.element(name, draw(st.sampled_from(["CRC32", "SHA256", "", "a&b"]))))
        elif name == "Owner":
            inner = [
                w.element(child, draw(texts))
                for child in draw(st.lists(st.sampled_from(["ID", "DisplayName", "X"]), max_size=3))
            ]
            parts.append(
                f"<Owner>{w.join(inner, pretty)}</Owner>"
                if inner or draw(st.booleans())
                else "<Owner/>"
            )
        elif name == "Unknown":
            parts.append(
                draw(
                    st.sampled_from(
                        [
                            "<Foo>x</Foo>",
                            "<Foo><Key>nested</Key></Foo>",
                            "<Foo/>",
                            "<Bar><Baz/>t</Bar>",
                        ]
                    )
                )
            )
        else:
            parts.append(w.element(name, draw(texts)))
    return f"<Contents>{w.join(parts, pretty)}</Contents>"


@dataclass
class Doc:
    body: bytes
    plain: bool


@st.composite
def documents(draw: st.DrawFn, exotic: bool = False) -> Doc:
    w = Writer(draw(st.randoms(use_true_random=False)), exotic)
    encoded = draw(st.booleans())
    pretty = draw(st.integers(0, 4)) == 0

    header: list[str] = []
    header_fields = draw(
        st.lists(
            st.sampled_from(
                [
                    "Name",
                    "Prefix",
                    "MaxKeys",
                    "KeyCount",
                    "IsTruncated",
                    "NextContinuationToken",
                    "ContinuationToken",
                    "StartAfter",
                    "Delimiter",
                    "Marker",
                    "NextMarker",
                ]
            ),
            max_size=8,
        )
    )
    for name in header_fields:
        if name in ("MaxKeys", "KeyCount"):
            value = draw(
                st.sampled_from(["", "x", "7"])
                if draw(st.integers(0, 20)) == 0
                else st.integers(0, 1000).map(str)
            )
        elif name == "IsTruncated":
            value = draw(st.sampled_from(["true", "false", " TRUE ", "", "yes"]))
        elif name == "NextMarker" and encoded:
            value = encode_key(draw(keys), 0)
        else:
            value = draw(texts)
        header.append(w.element(name, value))
    if encoded or draw(st.integers(0, 5)) == 0:
        header.append(w.element("EncodingType", "url" if encoded else draw(texts)))

    # Entries: mostly one shape (runs), sometimes a few, in any order.
    shape_list = draw(st.lists(shapes, min_size=1, max_size=3))
    n_entries = draw(st.one_of(st.integers(0, 5), st.integers(20, 60)))
    entries = [
        draw(
            contents_entry(
                w,
                shape_list[
                    draw(st.integers(0, len(shape_list) - 1)) if draw(st.integers(0, 3)) == 0 else 0
                ],
                encoded,
                pretty,
            )
        )
        for _ in range(n_entries)
    ]
    prefixes = []
    for _ in range(draw(st.integers(0, 5))):
        value = encode_key(draw(keys), 0) if encoded else draw(texts)
        inner = [w.element("Prefix", value) for _ in range(draw(st.integers(0, 2)))]
        prefixes.append(f"<CommonPrefixes>{''.join(inner)}</CommonPrefixes>")

    # Where the header goes: before the entries (AWS), around them (SeaweedFS), or mixed.
    layout = draw(st.integers(0, 2))
    if layout == 0:
        children = header + entries + prefixes
    elif layout == 1:
        half = len(header) // 2
        children = header[:half] + entries + prefixes + header[half:]
    else:
        children = header + entries + prefixes
        draw(st.randoms(use_true_random=False)).shuffle(children)

    decl = draw(
        st.sampled_from(
            [
                '<?xml version="1.0" encoding="UTF-8"?>\n',
                "<?xml version='1.0' encoding='utf-8'?>",
                '<?xml version="1.0"?>',
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
                if exotic
                else '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n',
                "",
            ]
        )
    )
    root = draw(st.sampled_from([f'<ListBucketResult xmlns="{NS}">', "<ListBucketResult>"]))
    lead = ""
    trail = draw(st.sampled_from(["", "\n", " \n\t"]))
    if exotic:
        roll = draw(st.integers(0, 9))
        if roll == 0:
            w.used_exotic.append("other namespace")
            root = '<ListBucketResult xmlns="urn:other">'
        elif roll == 1:
            w.used_exotic.append("prefixed namespace")
            root = f'<ListBucketResult xmlns="{NS}" xmlns:x="urn:x">'
            children.append("<x:Foo>1</x:Foo>")
        elif roll == 2:
            w.used_exotic.append("byte-order mark")
            lead = "\ufeff"
        elif roll == 3:
            w.used_exotic.append("comment after the root")
            trail = "<!-- end -->\n"
        elif roll == 4:
            lead = " \n\x0b"  # stripped by both readers
    body = lead + decl + root + w.join(children, pretty) + "</ListBucketResult>" + trail
    return Doc(body.encode("utf-8"), plain=not w.used_exotic and "\r" not in decl)


# ---------------------------------------------------------------------------------------------
# Comparing outcomes


def outcome(parse: Any, body: bytes, spec: Any) -> tuple[str, Any]:
    """What a parser gives: its result as (repr, fields sets), or its error message."""
    try:
        result = parse(body, {}, spec)
    except ResponseParseError as exc:
        return ("error", str(exc))
    return ("ok", (result, repr(result), [o.model_fields_set for o in result.objects]))


def check(body: bytes, *, plain: bool = False) -> None:
    for public, reference, fast, spec in (
        (
            parse_list_objects,
            listing_reference.list_objects,
            listing_fast.list_objects,
            SPEC_V2,
        ),
        (
            parse_list_objects_v1,
            listing_reference.list_objects_v1,
            listing_fast.list_objects_v1,
            SPEC_V1,
        ),
    ):
        expected = outcome(reference, body, spec)
        assert outcome(public, body, spec) == expected
        try:
            got = outcome(fast, body, spec)
        except Unsupported:
            assert not (plain and expected[0] == "ok"), "a plain document was not read fast"
            continue
        # The fast reader never raises ResponseParseError and never answers where the
        # reference raises.
        assert got[0] == "ok" and got == expected


@SETTINGS
@given(documents())
def test_plain_listings_are_read_fast_and_exactly(doc: Doc) -> None:
    check(doc.body, plain=doc.plain)


@SETTINGS
@given(documents(exotic=True))
def test_exotic_listings_read_the_same_whichever_reader(doc: Doc) -> None:
    check(doc.body, plain=doc.plain)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A generated document with a few random byte-level edits: usually malformed."""
    body = bytearray(draw(documents()).body)
    for _ in range(draw(st.integers(1, 3))):
        if not body:
            break
        at = draw(st.integers(0, len(body) - 1))
        op = draw(st.integers(0, 4))
        if op == 0:
            del body[at]
        elif op == 1:
            body[at:at] = draw(
                st.sampled_from(
                    [
                        b"<",
                        b">",
                        b"&",
                        b"/",
                        b"</Key>",
                        b"<Key>",
                        b"\x01",
                        b"\r",
                        b"]]>",
                        b"&foo;",
                        b"&#0;",
                        b"&#xD800;",
                        b"\xff",
                        b"\xef\xbf\xbe",
                        b'"',
                        b"<!-- -->",
                        b"<![CDATA[x]]>",
                    ]
                )
            )
        elif op == 2:
            del body[at:]
        elif op == 3:
            end = draw(st.integers(at, min(len(body), at + 40)))
            body[at:at] = body[at:end]
        else:
            body[at] = draw(st.integers(0, 255))
    return bytes(body)


@SETTINGS
@given(mutated())
def test_damaged_listings_fail_or_read_exactly_as_elementtree_says(body: bytes) -> None:
    check(body)


@SETTINGS
@given(documents())
def test_the_validating_path_gives_the_same_objects(doc: Doc) -> None:
    # When ObjectInfo is not the plain model _construct assumes, rows are validated
    # instead; both must give the same objects.
    direct = outcome(listing_fast.list_objects, doc.body, SPEC_V2) if _fast_ok(doc.body) else None
    saved = listing_fast._PLAIN_OBJECT_INFO
    listing_fast._PLAIN_OBJECT_INFO = False
    try:
        validated = (
            outcome(listing_fast.list_objects, doc.body, SPEC_V2) if _fast_ok(doc.body) else None
        )
    finally:
        listing_fast._PLAIN_OBJECT_INFO = saved
    assert direct == validated


def _fast_ok(body: bytes) -> bool:
    try:
        listing_fast.list_objects(body, {}, SPEC_V2)
    except Unsupported:
        return False
    return True


def test_objectinfo_is_the_plain_model_the_fast_path_builds_directly() -> None:
    # If this fails, ObjectInfo changed (fields, defaults, validators): the fast reader now
    # validates its rows (correct, slower); update _OBJECT_FIELDS if the change is wanted.
    assert listing_fast._plain_object_info()


def test_a_realistic_page_takes_the_fast_path() -> None:
    items = "".join(
        f"<Contents><Key>list/object-{i:06d}.json</Key><ETag>&#34;{i:032x}&#34;</ETag>"
        f"<Size>{i}</Size><Owner><ID>admin</ID><DisplayName>admin</DisplayName></Owner>"
        f"<StorageClass>STANDARD</StorageClass><LastModified>2026-11-26T04:36:02Z</LastModified>"
        "</Contents>"
        for i in range(1000)
    )
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="{NS}"><Name>b</Name>'
        f"<Prefix></Prefix><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>{items}"
        "<EncodingType>url</EncodingType><KeyCount>1000</KeyCount></ListBucketResult>"
    ).encode()
    page = scan(body)
    assert page.entries == 1000 and len(page.contents) == 1
    check(body, plain=True)


@pytest.mark.parametrize("seed", range(3))
def test_mixed_shapes_make_several_runs(seed: int) -> None:
    # What R2 lists for every object (ObjectInfo requires them); Size is in each shape.
    SENT = "<LastModified>2025-01-01T00:00:00Z</LastModified><ETag>e</ETag>"
    rng = random.Random(seed)
    shapes_ = [
        "<Key>k{i}</Key><Size>{i}</Size>" + SENT,
        "<Key>k{i}</Key><Size>{i}</Size><ChecksumAlgorithm>CRC32</ChecksumAlgorithm>" + SENT,
        "<Owner><ID>o</ID></Owner><Key>k{i}</Key><Size>1</Size>" + SENT,
    ]
    picks = [rng.randrange(3) if rng.random() < 0.5 else 0 for _ in range(200)]
    items = "".join(f"<Contents>{shapes_[p].format(i=i)}</Contents>" for i, p in enumerate(picks))
    body = f"<ListBucketResult>{items}</ListBucketResult>".encode()
    page = scan(body)
    assert page.entries == 200 and len(page.contents) == len(set(picks))
    check(body, plain=True)
    result = parse_list_objects(body, {}, SPEC_V2)
    assert [o.key for o in result.objects] == [f"k{i}" for i in range(200)]


def test_hypothesis_generates_what_it_should() -> None:
    # A sanity check of the generator itself: plain documents parse with ElementTree.
    @settings(max_examples=30, deadline=None)
    @given(documents())
    def inner(doc: Doc) -> None:
        import xml.etree.ElementTree as ET

        ET.fromstring(doc.body.lstrip())

    inner()


# ---------------------------------------------------------------------------------------------
# URL-decoding a column at once


# Values as servers encode them (any key, form- or %20-style), and ones no encoder writes:
# a '%' that starts no escape, raw backslashes and non-ASCII, escapes of bytes that are not
# UTF-8 (alone, split across values, or around a raw character), escaped NULs.
encoded_values = st.one_of(
    keys.map(lambda k: quote_plus(k, safe="")),
    keys.map(lambda k: quote(k, safe="/")),
    st.lists(
        st.one_of(
            st.sampled_from(
                ["%", "%4", "%zz", "%41", "%C3", "%A9", "%00", "%2B", "+", "\\", "\\x41"]
            ),
            st.sampled_from(["%E2%82%AC", "%F0%9F%98%80", "%ED%A0%80", "%C0%AF", "é", "日"]),
            st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
        ),
        max_size=8,
    ).map("".join),
)


@settings(max_examples=1000, deadline=None)
@given(st.lists(encoded_values, max_size=6))
def test_column_url_decoding_is_unquote_plus_of_each_value(values: list[str]) -> None:
    try:
        expected: list[str] | None = [
            unquote_plus(v, encoding="utf-8", errors="strict") for v in values
        ]
    except UnicodeDecodeError:
        expected = None
    try:
        got: list[str] | None = listing_fast._fast_decode(values, url_encoded=True)
    except Unsupported:
        got = None
    assert got == expected
    assert listing_fast._fast_decode(values, url_encoded=False) is values
