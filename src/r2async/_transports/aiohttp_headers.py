"""Response headers of the aiohttp transport, answered from aiohttp's own parse.

Why: aiohttp's C parser has already split the response headers into a case-insensitive
multidict of ``str``; building an ``httpx.Headers`` from the raw byte pairs (normalising each
name and value) and then indexing it for r2async's lookups does that work twice more, on
every response. :class:`AiohttpHeaders` is an ``IndexedHeaders`` (see ``indexed_headers``:
lookups are one dict lookup, and result parsers read that dict directly) whose index is made
from aiohttp's decoded strings, and whose byte list (``raw``, ``multi_items()``, everything
else httpx offers) is built only when first asked for.

Lookups (also ``items()`` and ``get_list``, which httpx calls for ``Content-Encoding`` on
every body it reads) answer exactly as ``httpx.Headers`` does: case-insensitive, repeated
headers joined with ", " in their order. When a value is not ASCII the index is made from
the bytes as httpx decodes them (httpx picks one decoding for the whole header block,
aiohttp decodes each value as UTF-8), and so it is once the headers were changed (``[]=``,
``del``, ``update``, ``encoding=``).

What it relies on in httpx: ``httpx.Headers`` keeps its state in ``_list`` (triples of raw
name, lower-case name, value) and ``_encoding``, and its public methods read them there;
and what ``IndexedHeaders`` relies on.
:func:`usable` checks once, on a sample, that an instance answers exactly as the plain
class does; if not, :func:`response_headers` returns a plain ``httpx.Headers``.
"""

from __future__ import annotations

from collections.abc import ItemsView
from typing import Any

import httpx

from .indexed_headers import IndexedHeaders, _indexable, indexed


class AiohttpHeaders(IndexedHeaders):
    """Response headers indexed from aiohttp's parsed multidict; the byte list built lazily."""

    def __init__(self, raw: Any, parsed: Any) -> None:
        """Wrap one response's headers.

        Args:
            raw: aiohttp's ``raw_headers`` (name and value byte pairs, as received).
            parsed: aiohttp's ``headers`` (a case-insensitive multidict of ``str``) for the
                same response.
        """
        # Not httpx.Headers.__init__: it would build the byte list now.
        self._raw = raw
        self._parsed = parsed
        self._built: list[tuple[bytes, bytes, bytes]] | None = None
        self._encoding = None
        self._index = None

    @property
    def _list(self) -> list[tuple[bytes, bytes, bytes]]:
        built = self._built
        if built is None:
            built = self._built = [(name, name.lower(), value) for name, value in self._raw]
        return built

    @_list.setter
    def _list(self, value: list[tuple[bytes, bytes, bytes]]) -> None:
        self._built = value
        self._parsed = self._index = None

    @property
    def encoding(self) -> str:
        encoding = self._encoding
        if encoding is None:
            encoding = httpx.Headers.encoding.fget(self)  # type: ignore[attr-defined]
        return encoding

    @encoding.setter
    def encoding(self, value: str) -> None:
        self._encoding = value
        self._parsed = self._index = None

    def _lookup(self) -> dict[str, str]:
        # The index IndexedHeaders keeps (lower-case name -> values joined with ", "), made
        # from aiohttp's decoded strings; from the bytes, as httpx decodes them, when a value
        # is not ASCII or the headers were changed.
        parsed = self._parsed
        if parsed is None:
            return super()._lookup()
        index: dict[str, str] = {}
        for name, value in parsed.items():
            if not value.isascii():
                self._parsed = None
                return super()._lookup()
            name = name.lower()
            index[name] = f"{index[name]}, {value}" if name in index else value
        self._index = index
        return index

    def items(self) -> ItemsView[str, str]:
        # What httpx.Headers.items() gives (names lower-cased, repeated values joined).
        return dict(self._index or self._lookup()).items()

    def get_list(self, key: str, split_commas: bool = False) -> list[str]:
        # httpx asks for Content-Encoding this way on every body it reads.
        parsed = self._parsed
        if parsed is not None:
            values: list[str] = parsed.getall(key, [])
            if all(value.isascii() for value in values):
                if not split_commas:
                    return values
                return [item.strip() for value in values for item in value.split(",")]
        return super().get_list(key, split_commas)

    # Changes go to the byte list; lookups then take httpx's path.
    def __setitem__(self, key: str, value: str) -> None:
        self._parsed = None
        super().__setitem__(key, value)

    def __delitem__(self, key: str) -> None:
        self._parsed = None
        super().__delitem__(key)

    def update(self, headers: Any = None) -> None:  # type: ignore[override]
        self._parsed = None
        super().update(headers)


_USABLE: bool | None = None


def usable() -> bool:
    """Whether :class:`AiohttpHeaders` answers as ``httpx.Headers`` on this httpx (checked once)."""
    global _USABLE
    if _USABLE is None:
        try:
            from multidict import CIMultiDict, CIMultiDictProxy

            raw = [(b"ETag", b'"x"'), (b"x-amz-meta-A", b"1"), (b"X-Amz-Meta-a", b"2")]
            parsed = CIMultiDictProxy(CIMultiDict([(k.decode(), v.decode()) for k, v in raw]))
            plain = httpx.Headers(raw)
            fast = AiohttpHeaders(raw, parsed)
            _USABLE = (
                _indexable()
                and fast.raw == plain.raw
                and fast["X-AMZ-META-A"] == plain["X-AMZ-META-A"] == "1, 2"
                and fast.get("etag") == plain.get("etag") == '"x"'
                and fast.get("missing") is None
                and "Etag" in fast
                and "missing" not in fast
                and dict(fast.items()) == dict(plain.items())
                and fast.multi_items() == plain.multi_items()
                and fast == plain
                and fast.encoding == plain.encoding
                and fast.get_list("x-amz-meta-a") == plain.get_list("x-amz-meta-a") == ["1", "2"]
                and fast.get_list("etag", split_commas=True)
                == plain.get_list("etag", split_commas=True)
                and fast.get_list("missing") == plain.get_list("missing") == []
            )
            fast["etag"] = plain["etag"] = "y"
            del fast["x-amz-meta-a"], plain["x-amz-meta-a"]
            _USABLE = _USABLE and fast["ETag"] == "y" and fast.raw == plain.raw and len(fast) == 1
        except Exception:
            _USABLE = False
    return _USABLE


def response_headers(raw: Any, parsed: Any) -> httpx.Headers:
    """The headers of one aiohttp response as ``httpx.Headers``.

    Args:
        raw: the response's ``raw_headers``.
        parsed: the response's ``headers``.
    """
    if usable():
        return AiohttpHeaders(raw, parsed)
    if _indexable():
        return indexed(httpx.Headers(raw))
    return httpx.Headers(raw)
