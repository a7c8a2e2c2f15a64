"""Response headers of the aiohttp transport, answered from aiohttp's own parse.

Why: aiohttp's C parser has already split the response headers into a case-insensitive
multidict of ``str``; building an ``httpx.Headers`` from the raw byte pairs (normalising each
name and value) and then indexing it for r2async's lookups does that work twice more, on
every response. :class:`AiohttpHeaders` is an ``httpx.Headers`` whose lookups (``[]``,
``get``, ``in``) go to aiohttp's multidict, and whose byte list (``raw``, ``items()``,
``multi_items()``, everything else httpx offers) is built only when first asked for.

Lookups (also ``get_list``, which httpx calls for ``Content-Encoding`` on every body it
reads) answer exactly as ``httpx.Headers`` does: case-insensitive, repeated headers joined
with ", " in their order. A value that is not ASCII is answered by httpx's own code instead
(httpx picks one decoding for the whole header block, aiohttp decodes each value as UTF-8),
and so is every lookup once the headers were changed (``[]=``, ``del``, ``update``,
``encoding=``).

What it relies on in httpx: ``httpx.Headers`` keeps its state in ``_list`` (triples of raw
name, lower-case name, value) and ``_encoding``, and its public methods read them there.
:func:`usable` checks once, on a sample, that an instance answers exactly as the plain
class does; if not, :func:`response_headers` returns a plain ``httpx.Headers``.
"""

from __future__ import annotations

from typing import Any

import httpx


class AiohttpHeaders(httpx.Headers):
    """Response headers answered from aiohttp's parsed multidict; the byte list built lazily."""

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

    @property
    def _list(self) -> list[tuple[bytes, bytes, bytes]]:
        built = self._built
        if built is None:
            built = self._built = [(name, name.lower(), value) for name, value in self._raw]
        return built

    @_list.setter
    def _list(self, value: list[tuple[bytes, bytes, bytes]]) -> None:
        self._built = value
        self._parsed = None

    @property
    def encoding(self) -> str:
        return httpx.Headers.encoding.fget(self)  # type: ignore[attr-defined,no-any-return]

    @encoding.setter
    def encoding(self, value: str) -> None:
        self._encoding = value
        self._parsed = None

    def __getitem__(self, key: str) -> str:
        parsed = self._parsed
        if parsed is not None:
            values = parsed.getall(key, None)
            if values is None:
                raise KeyError(key)
            value = values[0] if len(values) == 1 else ", ".join(values)
            if value.isascii():
                return value
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        parsed = self._parsed
        if parsed is not None:
            values = parsed.getall(key, None)
            if values is None:
                return default
            value = values[0] if len(values) == 1 else ", ".join(values)
            if value.isascii():
                return value
        return super().get(key, default)

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

    def __contains__(self, key: Any) -> bool:
        parsed = self._parsed
        if parsed is not None and isinstance(key, str):
            return key in parsed
        return super().__contains__(key)

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
                fast.raw == plain.raw
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
    return httpx.Headers(raw)
