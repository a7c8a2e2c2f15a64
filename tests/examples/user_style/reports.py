"""A user's own code that writes to R2: the kind of function the r2async pytest plugin tests."""

from __future__ import annotations

import csv
import io

from r2async import PreconditionFailedError, R2Client


class ReportExistsError(Exception):
    """A report of that name was already saved; reports are write-once."""


async def save_report(r2: R2Client, bucket: str, name: str, rows: list[dict[str, str]]) -> str:
    """Save ``rows`` as ``reports/<name>.csv`` and return the key; never overwrite a report."""
    if not rows:
        raise ValueError("a report needs at least one row")
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    key = f"reports/{name}.csv"
    try:
        await r2.put_object(
            bucket,
            key,
            buffer.getvalue(),
            content_type="text/csv",
            metadata={"rows": str(len(rows))},
            if_none_match="*",
        )
    except PreconditionFailedError as exc:
        raise ReportExistsError(key) from exc
    return key


async def load_report(r2: R2Client, bucket: str, name: str) -> list[dict[str, str]]:
    """Read a saved report back as rows."""
    result = await r2.get_object(bucket, f"reports/{name}.csv")
    return list(csv.DictReader(io.StringIO(result.body.decode())))


async def save_report_from_env(bucket: str, name: str, rows: list[dict[str, str]]) -> str:
    """Like ``save_report`` with a client configured from the ``R2_*`` environment variables."""
    async with R2Client() as r2:
        return await save_report(r2, bucket, name, rows)
