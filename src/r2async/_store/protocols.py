"""Static proof that ``R2Store`` satisfies obspec's protocols (checked by mypy, never run).

obspec is only needed by the type checker (it is in the ``dev`` extra): at run time this
module imports nothing from it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import obspec

    from .store import R2Store

    def _satisfies(store: R2Store) -> None:
        # Each assignment fails type checking if a method's signature or result shape drifts
        # from obspec's protocol.
        get: obspec.Get = store
        get_async: obspec.GetAsync = store
        get_range: obspec.GetRange = store
        get_range_async: obspec.GetRangeAsync = store
        get_ranges: obspec.GetRanges = store
        get_ranges_async: obspec.GetRangesAsync = store
        put: obspec.Put = store
        put_async: obspec.PutAsync = store
        list_: obspec.List = store
        list_async: obspec.ListAsync = store
        list_delimited: obspec.ListWithDelimiter = store
        list_delimited_async: obspec.ListWithDelimiterAsync = store
        head: obspec.Head = store
        head_async: obspec.HeadAsync = store
        delete: obspec.Delete = store
        delete_async: obspec.DeleteAsync = store
        copy: obspec.Copy = store
        copy_async: obspec.CopyAsync = store
        rename: obspec.Rename = store
        rename_async: obspec.RenameAsync = store
        del get, get_async, get_range, get_range_async, get_ranges, get_ranges_async
        del put, put_async, list_, list_async, list_delimited, list_delimited_async
        del head, head_async, delete, delete_async, copy, copy_async, rename, rename_async
