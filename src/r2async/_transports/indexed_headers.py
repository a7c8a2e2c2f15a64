"""Response headers indexed once, so that each lookup costs one dict lookup.

Why: result parsers read 10 to 25 headers of every response, and each lookup in an
``httpx.Headers`` scans and decodes its whole list (1-2 us apiece); indexing once costs less
than three lookups.

What it relies on in httpx: ``httpx.Headers`` keeps its whole state in its instance ``__dict__``
(``_list``, ``_encoding``) and its public methods go through ``__getitem__``/``get``/``raw``.
The subclass shares that state (no copy) and adds an index.

How it falls back: :func:`_indexable` checks once, on a sample, that a shared instance answers
exactly as the plain one (case-insensitive lookups, repeated headers joined with ", ",
``raw``, ``items``); if this httpx keeps its state otherwise, :func:`indexed` returns the
headers unchanged and r2async reads them through httpx's own lookups.
"""

from __future__ import annotations

from typing import Any

import httpx


class IndexedHeaders(httpx.Headers):
    """Response headers whose lookups cost a dict lookup.

    Result parsers read 10 to 25 headers of every response, and each lookup in an
    ``httpx.Headers`` scans and decodes its whole list (1-2 us apiece): indexing once costs
    less than three lookups. The parsed list is shared with the original, not copied; any
    change drops the index. Lookups answer exactly as ``httpx.Headers`` does (case-insensitive,
    repeated headers joined with ", ").
    """

    _index: dict[str, str] | None

    def _lookup(self) -> dict[str, str]:
        index = self._index
        if index is None:
            index = {}
            encoding = self.encoding
            for raw_name, raw_value in self.raw:
                name = raw_name.decode(encoding).lower()
                value = raw_value.decode(encoding)
                index[name] = f"{index[name]}, {value}" if name in index else value
            self._index = index
        return index

    def __getitem__(self, key: str) -> str:
        try:
            return (self._index or self._lookup())[key.lower()]
        except KeyError:
            raise KeyError(key) from None

    def get(self, key: str, default: Any = None) -> Any:
        return (self._index or self._lookup()).get(key.lower(), default)

    def __contains__(self, key: Any) -> bool:
        return isinstance(key, str) and key.lower() in (self._index or self._lookup())

    # Changes drop the index after the fact: httpx's own methods may look up (and so
    # re-index) part-way through.
    def __setitem__(self, key: str, value: str) -> None:
        try:
            super().__setitem__(key, value)
        finally:
            self._index = None

    def __delitem__(self, key: str) -> None:
        try:
            super().__delitem__(key)
        finally:
            self._index = None

    def update(self, headers: Any = None) -> None:  # type: ignore[override]
        try:
            super().update(headers)
        finally:
            self._index = None


_INDEXABLE: bool | None = None


def _indexable() -> bool:
    """Whether ``httpx.Headers`` keeps its state where _indexed() can share it (checked once)."""
    global _INDEXABLE
    if _INDEXABLE is None:
        try:
            plain = httpx.Headers([("A", "1"), ("a", "2"), ("B-C", "x")])
            fast = _share(plain)
            _INDEXABLE = (
                fast.raw == plain.raw
                and fast["a"] == plain["a"] == "1, 2"
                and fast.get("b-c") == "x"
                and "B-c" in fast
                and fast.get("missing") is None
                and dict(fast.items()) == dict(plain.items())
            )
        except Exception:
            _INDEXABLE = False
    return _INDEXABLE


def _share(headers: httpx.Headers) -> IndexedHeaders:
    indexed = IndexedHeaders.__new__(IndexedHeaders)
    indexed.__dict__.update(headers.__dict__)
    indexed._index = None
    return indexed


def indexed(headers: httpx.Headers) -> httpx.Headers:
    """``headers`` with indexed lookups, or as they are if this httpx keeps them otherwise."""
    if type(headers) is not httpx.Headers or not _indexable():
        return headers
    return _share(headers)
