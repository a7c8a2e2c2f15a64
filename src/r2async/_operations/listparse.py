"""A fast reader for ``ListBucketResult`` documents (ListObjects V1 and V2), exact or nothing.

Parsing a 1,000-key page with ElementTree and reading it element by element costs about
6 ms, most of it building and searching 8,000 ``Element`` objects. This reader works on
the text instead: it cuts the document at every ``<`` and ``>`` (two C calls), so that the
odd pieces are tags and the even ones the text between them, and then reads whole runs of
identically shaped ``<Contents>`` entries by slicing columns out of those lists.

It is not a general XML parser and does not pretend to be one. It accepts only a strict
subset of XML -- the shape S3 servers actually send -- and raises ``Unsupported`` for
anything else (comments, CDATA, processing instructions, attributes or namespace prefixes
below the root, a literal ``>`` or carriage return in text, undeclared or unusual
entities, a byte-order mark, any error at all). The caller then parses the same bytes
with the ElementTree reader, which is the reference: it gives the answer or raises
``ResponseParseError``. So a document is either inside the subset, where this reader
gives exactly what ElementTree gives (tests/unit/operations/test_list_parse_property.py
checks that on generated listings), or it gets ElementTree's treatment, malformed ones included.

Why a document this reader accepts is well-formed XML, as expat would require:

* Markup: after removing every byte but ``<``, ``>`` and the control characters XML
  forbids (and CR, whose line-end normalisation this reader does not do), what is left
  must be exactly ``<><>...<>``. So nothing forbidden appears anywhere, every ``<`` opens
  a tag that the next ``>`` closes, and text holds neither ``<`` nor ``>``.
* Tags: every tag must be ``name``, ``/name`` or ``name/`` with an ASCII XML name (no
  whitespace, attributes, ``!`` or ``?``), checked once per distinct shape of an entry;
  every shape is checked for proper nesting, and a run of entries is accepted only when
  its tag sequence equals the checked shape repeated, compared in C.
* Text: every ``&`` must start one of the five predefined entities or a character
  reference to a character XML allows; the text must decode as UTF-8 (strictly, so no
  surrogates) and hold no U+FFFE/U+FFFF. Entities are then replaced exactly once.
* Envelope: an optional ``<?xml version="1.0" ...?>`` declaration (UTF-8 or no encoding),
  whitespace, the root ``<ListBucketResult>`` either bare or with exactly the S3 default
  namespace, and nothing but whitespace after its end tag.

DTDs and entity declarations cannot get through (``<!`` is not a tag name), and
``check_safe`` still runs first, so the size limit and encoding checks are shared.
"""

from __future__ import annotations

import re
from functools import cache

from .. import _xml
from .._exceptions import ResponseParseError

__all__ = ["MAX_LISTING_TAGS", "ContentsGroup", "Listing", "Unsupported", "scan"]

# A listing document holds at most this many tags ("<" marks). A full page of 1,000 objects
# with owner and checksums has about 22,000; the rest leaves room for the common prefixes
# that some servers (moto, s3rver) repeat on every page. It bounds what either reader
# builds from one answer (ElementTree: some 40 MB at worst) before it builds anything.
MAX_LISTING_TAGS = 400_000


class Unsupported(Exception):
    """The document is outside what this reader handles: parse it with ElementTree."""


# Plain classes rather than NamedTuples or dataclasses: creating those costs about a
# millisecond each at import.


class ContentsGroup:
    """The ``<Contents>`` entries of one shape, as columns of raw (entity-decoded) text.

    A column holds, per entry, the text of the first child of that name: ``""`` when it is
    empty, ``None`` when the entry has no such child (ElementTree's ``findtext``).
    ``positions`` are the entries' places among all the document's entries. ``owner`` is
    (ID texts, DisplayName texts) of the first ``<Owner>``, and ``checksum_algorithms`` the
    non-empty texts of every ``<ChecksumAlgorithm>`` child, each None when the shape has none.
    """

    __slots__ = (
        "checksum_algorithms",
        "checksum_type",
        "etag",
        "key",
        "last_modified",
        "owner",
        "positions",
        "size",
        "storage_class",
    )

    def __init__(
        self,
        *,
        positions: list[int],
        key: list[str | None],
        last_modified: list[str | None],
        etag: list[str | None],
        size: list[str | None],
        storage_class: list[str | None],
        checksum_type: list[str | None],
        owner: tuple[list[str | None], list[str | None]] | None,
        checksum_algorithms: list[tuple[str, ...]] | None,
    ) -> None:
        self.positions = positions
        self.key = key
        self.last_modified = last_modified
        self.etag = etag
        self.size = size
        self.storage_class = storage_class
        self.checksum_type = checksum_type
        self.owner = owner
        self.checksum_algorithms = checksum_algorithms


class Listing:
    """What a ``ListBucketResult`` holds, as ElementTree would read it.

    ``fields``: the text of the first root child of each name (``""`` when empty).
    ``entries``: how many ``<Contents>``; ``contents``: their groups by shape (one for most
    pages). ``prefixes``: per ``<CommonPrefixes>``, the text of its first ``<Prefix>``, or
    None when it has none.
    """

    __slots__ = ("contents", "entries", "fields", "prefixes")

    def __init__(
        self,
        fields: dict[str, str],
        entries: int,
        contents: list[ContentsGroup],
        prefixes: list[str | None],
    ) -> None:
        self.fields = fields
        self.entries = entries
        self.contents = contents
        self.prefixes = prefixes


_ROOT = "ListBucketResult"
_ROOT_TAGS = frozenset({_ROOT, f'{_ROOT} xmlns="{_xml.S3_NS}"'})
_ROOT_END = "/" + _ROOT
# Root children read as entries, whatever their content.
_ENTRIES = frozenset({"Contents", "CommonPrefixes"})
_SPACE = " \t\n"  # XML whitespace but CR (documents with CR are left to ElementTree)

# The XML declaration, as the tag between "<" and ">": version 1.0, UTF-8 or no encoding.
_DECL = (
    r"""\?xml[ \t\n]+version[ \t\n]*=[ \t\n]*(?:"1\.0"|'1\.0')"""
    r"""(?:[ \t\n]+encoding[ \t\n]*=[ \t\n]*(?:"(?:UTF|utf)-8"|'(?:UTF|utf)-8'))?"""
    r"""(?:[ \t\n]+standalone[ \t\n]*=[ \t\n]*(?:"(?:yes|no)"|'(?:yes|no)'))?[ \t\n]*\?"""
)
_NAME = r"[A-Za-z_][A-Za-z0-9_.\-]*"

# Every byte but the delimiters, the C0 controls XML forbids, and CR: deleting these must
# leave exactly "<>" repeated.
_KEEP = {0x3C, 0x3E, 0x0D, *range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)}
_NOT_MARKS = bytes(b for b in range(256) if b not in _KEEP)

# References the column decoder replaces with plain str.replace: none of them stands for
# "&", so replacing them in any order is the same as one left-to-right pass (every "&"
# left over still starts an original reference). "&amp;" goes last, alone.
_SIMPLE_REFS = (
    ("&quot;", '"'),
    ("&#34;", '"'),
    ("&apos;", "'"),
    ("&#39;", "'"),
    ("&lt;", "<"),
    ("&gt;", ">"),
    ("&#x9;", "\t"),
    ("&#xA;", "\n"),
    ("&#xD;", "\r"),
)
# An "&" that does not start one of the references in the common forms above: only then
# is every reference in the document checked one by one.
_UNCOMMON_AMP = r"&(?!(?:quot|amp|apos|lt|gt|#34|#39|#x9|#xA|#xD);)"
_REF = r"&(?:(quot|amp|apos|lt|gt)|#([0-9]+)|#x([0-9a-fA-F]+));"


@cache
def _regex(pattern: str) -> re.Pattern[str]:
    # Compiled on first use: compiling all of these at import costs about a millisecond.
    return re.compile(pattern)


_NAMED = {"quot": '"', "amp": "&", "apos": "'", "lt": "<", "gt": ">"}
# Column values are joined with NUL to decode them in one pass: XML can carry no NUL,
# neither literally (check_safe) nor as a reference (_valid_char).
_SEP = "\x00"


def _valid_char(code: int) -> bool:
    """Whether XML 1.0 allows the character ``code`` (its Char production)."""
    return (
        code in (0x9, 0xA, 0xD)
        or 0x20 <= code <= 0xD7FF
        or 0xE000 <= code <= 0xFFFD
        or 0x10000 <= code <= 0x10FFFF
    )


def _check_references(text: str) -> None:
    """Raise ``Unsupported`` unless every ``&`` in ``text`` starts a valid reference."""
    if _regex(_UNCOMMON_AMP).search(text) is None:
        return
    refs = 0
    for match in _regex(_REF).finditer(text):
        refs += 1
        name, dec, hexa = match.groups()
        if name is None:
            # Compare digit counts before converting, so a huge number costs nothing.
            digits = (dec or hexa).lstrip("0")
            if len(digits) > 7 or not _valid_char(int(digits or "0", 10 if dec else 16)):
                raise Unsupported("character reference to a character XML does not allow")
    if refs != text.count("&"):
        raise Unsupported("'&' that starts no predefined entity or character reference")


def _ref_char(match: re.Match[str]) -> str:
    name, dec, hexa = match.groups()
    if name is not None:
        return _NAMED[name]
    return chr(int(dec, 10) if dec is not None else int(hexa, 16))


def _unescape(text: str) -> str:
    """``text`` with its (already validated) references replaced, in one exact pass."""
    if "&" not in text:
        return text
    done = text
    for ref, char in _SIMPLE_REFS:
        done = done.replace(ref, char)
        if "&" not in done:  # a memchr, where each further replace() is a search
            return done
    if done.count("&") != done.count("&amp;"):
        # Something else is left (say "&#233;"): one regex pass over the original text.
        return _regex(_REF).sub(_ref_char, text)
    return done.replace("&amp;", "&")


class _Decoder:
    """Replaces references in columns of text, until every "&" of the document is accounted for.

    Most documents have references in one column only (ETags: ``&quot;`` from AWS and R2,
    ``&#34;`` from SeaweedFS), so once that column is decoded the others need no look.
    """

    __slots__ = ("remaining",)

    def __init__(self, ampersands: int) -> None:
        self.remaining = ampersands

    def column(self, column: list[str | None]) -> list[str | None]:
        # A column is all None (no such child) or all str. One decode over the joined
        # column instead of one per value.
        if not self.remaining or not column or column[0] is None:
            return column
        joined = _SEP.join(column)  # type: ignore[arg-type]
        found = joined.count("&")
        if not found:
            return column
        self.remaining -= found
        return _unescape(joined).split(_SEP)  # type: ignore[return-value]

    def text(self, value: str) -> str:
        if not self.remaining or "&" not in value:
            return value
        self.remaining -= value.count("&")
        return _unescape(value)


# ---------------------------------------------------------------------------------------------
# Shapes


class _Shape:
    """A checked tag sequence of one element: where its direct children's texts are.

    ``children`` maps each direct child name to the offsets (from the element's start tag)
    of its occurrences, in order; an offset of -1 stands for an empty ``<name/>``.
    ``owner`` does the same for the children of the first ``<Owner>`` child.
    """

    __slots__ = ("children", "length", "owner")

    def __init__(
        self, length: int, children: dict[str, list[int]], owner: dict[str, list[int]] | None
    ) -> None:
        self.length = length
        self.children = children
        self.owner = owner


def _shape(tags: list[str]) -> _Shape:
    """Check that ``tags`` is one properly nested element and map its children."""
    children: dict[str, list[int]] = {}
    owner: dict[str, list[int]] | None = None
    in_owner = False
    stack: list[str] = []
    last = len(tags) - 1
    for pos, tag in enumerate(tags):
        if tag[:1] == "/":
            if not stack or tag[1:] != stack[-1]:
                raise Unsupported("mismatched end tag")
            stack.pop()
            if not stack and pos != last:
                raise Unsupported("element ends early")
            if len(stack) == 1:
                in_owner = False
            continue
        empty = tag[-1:] == "/"
        name = tag[:-1] if empty else tag
        if _regex(_NAME).fullmatch(name) is None:
            raise Unsupported(f"unsupported tag <{tag[:40]}>")
        offset = -1 if empty else pos
        if len(stack) == 1:
            children.setdefault(name, []).append(offset)
            if name == "Owner" and owner is None:
                owner = {}
                in_owner = not empty
        elif len(stack) == 2 and in_owner:
            assert owner is not None
            owner.setdefault(name, []).append(offset)
        if not empty:
            stack.append(name)
        elif not stack:
            raise Unsupported("empty element where one with children was expected")
    if stack:
        raise Unsupported("unclosed element")
    return _Shape(len(tags), children, owner)


def _run_length(tags: list[str], start: int, shape: list[str], limit: int) -> int:
    """How many copies of ``shape`` follow one another from ``tags[start]`` (at least 1).

    Galloping: try doubling steps, then halving ones, each a single list comparison in C.
    """
    size = len(shape)
    count = 1
    step = 1
    growing = True
    while step:
        begin = start + count * size
        end = begin + step * size
        if end <= limit and tags[begin:end] == shape * step:
            count += step
            if growing:
                step *= 2
        else:
            growing = False
            step //= 2
    return count


class _Group:
    """Root children of one shape, gathered over the document: where they start, in order.

    Reads columns of their texts by offset from their start tags: with slices while they
    form one run, else one index per entry (pages that mix shapes, say objects with and
    without checksums, cost a little more per entry, not one setup per run).
    """

    __slots__ = ("count", "ordinals", "runs", "shape", "starts")

    def __init__(self, shape: _Shape) -> None:
        self.shape = shape
        self.starts: list[int] | None = None  # start tag index of each entry, when needed
        self.runs: list[tuple[int, int]] = []  # (start tag index, entries)
        self.ordinals: list[int] = []  # the entries' places among those of their name
        self.count = 0

    def add(self, start: int, count: int, ordinal: int) -> None:
        self.runs.append((start, count))
        if count == 1:
            self.ordinals.append(ordinal)
        else:
            self.ordinals.extend(range(ordinal, ordinal + count))
        self.count += count

    def column(self, texts: list[str], offsets: list[int] | None) -> list[str | None]:
        if not offsets:
            return [None] * self.count
        return self._at(texts, offsets[0])  # type: ignore[return-value]

    def columns(self, texts: list[str], offsets: list[int]) -> list[list[str]]:
        return [self._at(texts, offset) for offset in offsets]

    def _at(self, texts: list[str], offset: int) -> list[str]:
        if offset < 0:  # <Name/>
            return [""] * self.count
        size = self.shape.length
        if len(self.runs) == 1:
            start, count = self.runs[0]
            return texts[start + offset : start + count * size : size]
        if self.starts is None:
            self.starts = [start + k * size for start, count in self.runs for k in range(count)]
        return [texts[start + offset] for start in self.starts]


def _contents_group(texts: list[str], group: _Group, decoder: _Decoder) -> ContentsGroup:
    fields = group.shape.children
    owner_fields = group.shape.owner
    decode = decoder.column
    # ETags first: the column that usually holds every reference (see _Decoder).
    etag = decode(group.column(texts, fields.get("ETag")))
    key = decode(group.column(texts, fields.get("Key")))
    owner = None
    if owner_fields is not None:
        owner = (
            decode(group.column(texts, owner_fields.get("ID"))),
            decode(group.column(texts, owner_fields.get("DisplayName"))),
        )
    algorithms = None
    if "ChecksumAlgorithm" in fields:
        per_child = [
            decode(c)  # type: ignore[arg-type]
            for c in group.columns(texts, fields["ChecksumAlgorithm"])
        ]
        rows: list[tuple[str, ...]] = list(zip(*per_child, strict=True))
        if any("" in row for row in rows):
            rows = [tuple(a for a in row if a) for row in rows]
        algorithms = rows
    return ContentsGroup(
        positions=group.ordinals,
        key=key,
        last_modified=decode(group.column(texts, fields.get("LastModified"))),
        etag=etag,
        size=decode(group.column(texts, fields.get("Size"))),
        storage_class=decode(group.column(texts, fields.get("StorageClass"))),
        checksum_type=decode(group.column(texts, fields.get("ChecksumType"))),
        owner=owner,
        checksum_algorithms=algorithms,
    )


# ---------------------------------------------------------------------------------------------
# The document


def scan(body: bytes) -> Listing:
    """Read a ``ListBucketResult`` document, or raise ``Unsupported``.

    Never raises anything else for any input: every problem, malformed XML included, is
    ``Unsupported``, for the ElementTree reader to judge.
    """
    try:
        _xml.check_safe(body)
    except ResponseParseError:
        raise Unsupported("refused by check_safe") from None
    # Bounded before the document is split into pieces (a count in C, only for big bodies).
    if len(body) > MAX_LISTING_TAGS and body.count(b"<") > MAX_LISTING_TAGS:
        raise Unsupported("more tags than a listing page can need")
    data = body.lstrip()  # as the ElementTree reader does
    # Comments, CDATA and processing instructions other than the declaration: given up
    # before any real work. "!" and "?" are rare enough for memchr to decide most pages.
    if b"!" in data and b"<!" in data:
        raise Unsupported("comment or CDATA")
    after_declaration = data.find(b"?>") + 2 if data.startswith(b"<?") else 0
    if data.find(b"?", after_declaration) >= 0 and data.find(b"<?", after_declaration) >= 0:
        raise Unsupported("processing instruction")
    marks = data.translate(None, _NOT_MARKS)
    if marks != b"<>" * (len(marks) // 2):
        raise Unsupported("'<' or '>' in text, CR, or a control character")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise Unsupported("not UTF-8") from None
    if not text.isascii() and ("\ufffe" in text or "\uffff" in text):
        raise Unsupported("U+FFFE or U+FFFF")
    ampersands = text.count("&")
    if ampersands:
        _check_references(text)

    # pieces: text, tag, text, tag, ..., text. tags[i] is the i-th tag and texts[i] the text
    # that follows it.
    pieces = text.replace(">", "<").split("<")
    if pieces[0]:
        raise Unsupported("text before the first tag (a byte-order mark?)")
    tags = pieces[1::2]
    texts = pieces[2::2]
    root = 0
    if tags and tags[0][:1] == "?":
        if _regex(_DECL).fullmatch(tags[0]) is None or texts[0].strip(_SPACE):
            raise Unsupported("unsupported XML declaration")
        root = 1
    last = len(tags) - 1
    if (
        last <= root
        or tags[root] not in _ROOT_TAGS
        or tags[last] != _ROOT_END
        or texts[last].strip(_SPACE)
    ):
        raise Unsupported("not a plain <ListBucketResult> document")

    fields: dict[str, str] = {}
    # Entries are gathered by shape, and decoded once the whole document has been walked
    # (see _Decoder).
    groups: dict[tuple[str, ...], _Group] = {}
    counts = {"Contents": 0, "CommonPrefixes": 0}
    i = root + 1
    while i < last:
        tag = tags[i]
        if tag[-1:] == "/":  # <Name/>
            name = tag[:-1]
            if _regex(_NAME).fullmatch(name) is None:
                raise Unsupported(f"unsupported tag <{tag[:40]}>")
            if name == "Contents":
                raise Unsupported("an entry without <Key>")
            if name == "CommonPrefixes":
                counts[name] += 1  # a prefix without <Prefix>: skipped, as ElementTree does
            fields.setdefault(name, "")
            i += 1
            continue
        end_tag = "/" + tag
        # i + 1 < last: "<ListBucketResult>" left open inside the root is not a text field.
        if i + 1 < last and tags[i + 1] == end_tag and tag not in _ENTRIES:  # <Name>text</Name>
            if _regex(_NAME).fullmatch(tag) is None:
                raise Unsupported(f"unsupported tag <{tag[:40]}>")
            fields.setdefault(tag, texts[i])
            i += 2
            continue
        try:
            end = tags.index(end_tag, i + 1, last)
        except ValueError:
            raise Unsupported(f"no end tag for <{tag[:40]}>") from None
        layout = tags[i : end + 1]
        key = tuple(layout)
        fields.setdefault(tag, texts[i])
        group = groups.get(key)
        if group is None:
            group = groups[key] = _Group(_shape(layout))
        size = end + 1 - i
        # A page that mixes shapes has many runs of one entry: settle those with one
        # comparison before galloping.
        count = (
            _run_length(tags, i, layout, last) if tags[end + 1 : end + 1 + size] == layout else 1
        )
        if tag in _ENTRIES:
            group.add(i, count, counts[tag])
            counts[tag] += count
        i += count * size

    decoder = _Decoder(ampersands)
    fields = {name: decoder.text(value) for name, value in fields.items()}
    contents: list[ContentsGroup] = []
    prefixes: list[str | None] = [None] * counts["CommonPrefixes"]
    for key, group in groups.items():
        if not group.count:
            continue
        if key[0] == "Contents":
            contents.append(_contents_group(texts, group, decoder))
        else:
            values = decoder.column(group.column(texts, group.shape.children.get("Prefix")))
            for ordinal, value in zip(group.ordinals, values, strict=True):
                prefixes[ordinal] = value
    return Listing(fields, counts["Contents"], contents, prefixes)
