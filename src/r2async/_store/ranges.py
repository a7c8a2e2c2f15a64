"""Byte ranges for ``get_ranges``: validation, and merging nearby ranges into fewer GETs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["coalesce", "range_header", "resolve_ranges"]

# Ranges closer than this share one GET (as object_store does): one round trip costs more
# than reading a few hundred KiB more.
_GAP = 1024 * 1024
# A merged GET stays below this, so one big request does not serialise the whole read.
_MAX_MERGED = 16 * 1024 * 1024


def resolve_ranges(
    starts: Sequence[int], ends: Sequence[int] | None, lengths: Sequence[int] | None
) -> list[tuple[int, int]]:
    """[(start, end)] from starts and either ends (exclusive) or lengths; ValueError if bad.

    Args:
        starts: the first byte of each range.
        ends: each range's end, exclusive (or None to use ``lengths``).
        lengths: each range's length (or None to use ``ends``).
    """
    if (ends is None) == (lengths is None):
        raise ValueError("give exactly one of end(s) and length(s)")
    if ends is None:
        assert lengths is not None
        ends = [s + n for s, n in zip(starts, lengths, strict=True)]
    if len(ends) != len(starts):
        raise ValueError("starts and ends/lengths must have the same length")
    out = []
    for start, end in zip(starts, ends, strict=True):
        if start < 0 or end <= start:
            raise ValueError(f"invalid range [{start}, {end}): need 0 <= start < end")
        out.append((int(start), int(end)))
    return out


def coalesce(ranges: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Merge overlapping or nearby ranges; every input range lies inside one output range.

    Args:
        ranges: (start, end) pairs, end exclusive, in any order.
    """
    merged: list[tuple[int, int]] = []
    for start, end in sorted(set(ranges)):
        if merged:
            first, last = merged[-1]
            if start - last <= _GAP and max(end, last) - first <= _MAX_MERGED:
                merged[-1] = (first, max(end, last))
                continue
        merged.append((start, end))
    return merged


def range_header(value: Any) -> tuple[str | None, int]:
    """obspec's ``range`` option -> (Range header, first byte; negative for a suffix).

    Args:
        value: ``(start, end)`` (end exclusive), ``{"offset": n}``, ``{"suffix": n}`` or None.
    """
    if value is None:
        return None, 0
    if isinstance(value, Mapping):
        if "offset" in value:
            return f"bytes={int(value['offset'])}-", int(value["offset"])
        if "suffix" in value:
            return f"bytes=-{int(value['suffix'])}", -int(value["suffix"])
        raise ValueError(f"range must have 'offset' or 'suffix': {value!r}")
    start, end = (int(v) for v in value)
    if end <= start:
        raise ValueError(f"range {value!r} is empty")
    return f"bytes={start}-{end - 1}", start
