"""R2's multipart part-size rule, checked before CompleteMultipartUpload is sent.

R2 requires every part except the last to be exactly the same size, the last no larger, and
every part but the last at least 5 MiB; it checks this only at Complete, after all the data was
uploaded, and answers ``400 InvalidPart``. :func:`check_part_sizes` applies the rule to the
sizes the caller knows (``UploadPartResult.size``, ``Part.size`` from ``list_parts``) and
raises a ``ValueError`` naming the offending part; parts of unknown size are not judged.
"""

from __future__ import annotations

from collections.abc import Iterable

from .._limits import MIN_PART_SIZE

__all__ = ["check_part_sizes"]


def _mib(n: int) -> str:
    return f"{n} bytes" if n < 1024 * 1024 else f"{n} bytes ({n / (1024 * 1024):g} MiB)"


def check_part_sizes(sizes: Iterable[tuple[int, int | None]]) -> None:
    """Raise ``ValueError`` if the known part sizes break R2's rule.

    Args:
        sizes: (part number, size in bytes or None when unknown) for every part to complete.
    """
    ordered = sorted(sizes)
    if len(ordered) < 2:
        return
    *leading, (last_number, last_size) = ordered
    reference: tuple[int, int] | None = None
    for number, size in leading:
        if size is None:
            continue
        if size < MIN_PART_SIZE:
            raise ValueError(
                f"part {number} is {_mib(size)}: every part except the last must be at least "
                f"{_mib(MIN_PART_SIZE)} on R2; upload it again with the upload's part size"
            )
        if reference is None:
            reference = (number, size)
        elif size != reference[1]:
            raise ValueError(
                f"part {number} is {_mib(size)} but part {reference[0]} is "
                f"{_mib(reference[1])}: R2 requires every part except the last to be exactly "
                f"the same size; upload part {number} again with {reference[1]} bytes"
            )
    if reference is not None and last_size is not None and last_size > reference[1]:
        raise ValueError(
            f"the last part ({last_number}) is {_mib(last_size)}, larger than the other parts' "
            f"{_mib(reference[1])}: R2 requires the last part to be no larger; split the data "
            f"so that the last part holds at most {reference[1]} bytes"
        )
