"""What the command prints: human lines or JSON lines on stdout, errors on stderr.

``--json`` field names (stable; documented in docs/cli.md):

- transfers and deletions (cp, mv, sync, rm, rb --force): ``{"action", "source",
  "destination", "size", "ok"}`` per object, plus ``"error"`` (the exception's type name) and
  ``"message"`` when ``ok`` is false; ``"dry_run": true`` for a dry run; then one
  ``{"action": "summary", ...}`` line.
- ls: ``{"type": "bucket", "name", "creation_date"}``, ``{"type": "prefix", "url", "prefix"}``,
  ``{"type": "object", "url", "key", "size", "last_modified", "etag", "storage_class"}``.

Standard library only.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from typing import Any

from ._errors import describe

# Human output lists this many failures at the end; --json lists every one.
MAX_LISTED_FAILURES = 50
_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


def human_size(size: int) -> str:
    """A size like '1.5 MiB' (powers of 1,024), as ``ls -H`` prints it.

    Args:
        size: bytes.
    """
    value = float(size)
    for unit in _UNITS:
        if value < 1024 or unit == _UNITS[-1]:
            return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def rate(size: int, seconds: float) -> str:
    """Throughput like '12.3 MiB/s'.

    Args:
        size: bytes moved.
        seconds: time taken.
    """
    return human_size(int(size / seconds)) + "/s" if seconds > 0 else "-"


@dataclass
class Failure:
    """One object whose operation failed, as listed at the end."""

    action: str
    source: str | None
    destination: str | None
    error: str
    message: str


@dataclass
class Output:
    """The one place that writes to stdout and stderr.

    Args:
        json_lines: print one JSON object per line instead of text.
        quiet: drop per-object lines and the summary (errors still print).
    """

    json_lines: bool = False
    quiet: bool = False
    failures: list[Failure] = field(default_factory=list)

    def record(self, human: str | None, record: dict[str, Any]) -> None:
        """Print primary output: ``record`` as JSON, or the ``human`` line.

        Args:
            human: the text line (None: nothing in text mode).
            record: the JSON object.
        """
        if self.json_lines:
            _write(json.dumps(record, ensure_ascii=False, default=str))
        elif human is not None:
            _write(human)

    def done(
        self,
        action: str,
        source: str | None,
        destination: str | None,
        size: int | None,
        *,
        dry_run: bool = False,
    ) -> None:
        """Report one object's successful operation (not with --quiet).

        Args:
            action: 'upload', 'download', 'copy', 'move', 'delete', ...
            source: where from (URL or path).
            destination: where to (None for deletions).
            size: bytes (None when unknown).
            dry_run: nothing was done; this is what would be.
        """
        if self.quiet:
            return
        text = f"{'(dry run) ' if dry_run else ''}{action}: {source}"
        if destination is not None:
            text += f" to {destination}"
        rec: dict[str, Any] = {
            "action": action,
            "source": source,
            "destination": destination,
            "size": size,
            "ok": True,
        }
        if dry_run:
            rec["dry_run"] = True
        self.record(text, rec)

    def failed(
        self, action: str, source: str | None, destination: str | None, exc: BaseException
    ) -> None:
        """Report one object's failure now (stderr, or a JSON line) and keep it for the end.

        Args:
            action: the operation that failed.
            source: where from.
            destination: where to (None for deletions).
            exc: the exception raised.
        """
        name, message = describe(exc)
        self.failures.append(Failure(action, source, destination, name, message))
        if self.json_lines:
            self.record(
                None,
                {
                    "action": action,
                    "source": source,
                    "destination": destination,
                    "ok": False,
                    "error": name,
                    "message": message,
                },
            )
        else:
            where = source if destination is None else f"{source} to {destination}"
            self.error(f"{action} failed: {where}: {name}: {message}")

    def summary(self, text: str, record: dict[str, Any]) -> None:
        """The final line: text on stderr (not with --quiet), or a JSON summary on stdout.

        Args:
            text: the human summary.
            record: the JSON summary's fields ('action': 'summary' is added).
        """
        if self.json_lines:
            self.record(None, {"action": "summary", **record, "failed": len(self.failures)})
            return
        if not self.quiet:
            self.error(text)
        self.list_failures()

    def list_failures(self) -> None:
        """List the failures at the end (human output only; JSON lines were printed already)."""
        if self.json_lines or not self.failures:
            return
        self.error(f"{len(self.failures)} failed:")
        for failure in self.failures[:MAX_LISTED_FAILURES]:
            where = failure.source or ""
            if failure.destination is not None:
                where += f" to {failure.destination}"
            self.error(f"  {failure.action} {where}: {failure.error}: {failure.message}")
        hidden = len(self.failures) - MAX_LISTED_FAILURES
        if hidden > 0:
            self.error(f"  ... and {hidden} more (--json lists every one)")

    def error(self, text: str) -> None:
        """A line on stderr (errors, warnings, summaries).

        Args:
            text: the line.
        """
        print(text, file=sys.stderr, flush=True)


def _write(line: str) -> None:
    # Looked up on each call: a progress display may have redirected sys.stdout to print
    # above itself.
    print(line, file=sys.stdout)
