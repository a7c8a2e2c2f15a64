"""Global options made into a client, and the event loop run with Ctrl-C handling.

Credentials are checked here, before anything is imported or sent, so a missing variable is
a usage error (exit 2) that names what to set. ``r2async`` (httpx, pydantic) is imported only
when a command opens a client.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from ._errors import EXIT_INTERRUPTED, UsageError
from ._output import Output
from ._parser import parse_header
from ._progress import wanted

if TYPE_CHECKING:
    from r2async import R2Client

# Parts of one object in flight; objects in flight are --concurrency.
PART_CONCURRENCY = 8


@dataclass
class Session:
    """Everything a command needs besides its own arguments."""

    endpoint_url: str | None
    jurisdiction: str | None
    concurrency: int
    part_size: int
    headers: dict[str, str]
    output: Output
    show_progress: bool
    transport: str = "auto"
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Session:
        """Read the global options.

        Args:
            args: the parsed command line.
        """
        headers: dict[str, str] = {}
        for text in args.headers or ():
            name, value = parse_header(text)
            headers[name] = value
        output = Output(json_lines=args.json, quiet=args.quiet)
        return cls(
            endpoint_url=args.endpoint_url,
            jurisdiction=args.jurisdiction,
            concurrency=args.concurrency,
            part_size=args.part_size,
            headers=headers,
            output=output,
            show_progress=wanted(
                quiet=args.quiet, no_progress=args.no_progress, json_lines=args.json
            ),
            transport=args.transport,
        )

    def check_credentials(self) -> None:
        """Raise UsageError naming the variables to set when credentials are missing."""
        missing = [
            name for name in ("R2_ACCESS_KEY_ID", "R2_SECRET_ACCESS_KEY") if not self.env.get(name)
        ]
        if not (
            self.endpoint_url or self.env.get("R2_ENDPOINT_URL") or self.env.get("R2_ACCOUNT_ID")
        ):
            missing.insert(0, "R2_ACCOUNT_ID (or R2_ENDPOINT_URL, or --endpoint-url)")
        if missing:
            raise UsageError(
                "no R2 credentials: set "
                + ", ".join(missing)
                + " in the environment (an R2 API token's access key id and secret, from the "
                "Cloudflare dashboard under R2 > Manage API tokens)"
            )

    def client(self, *, bulk: bool = False) -> R2Client:
        """A new client for these options (checked before any I/O).

        Args:
            bulk: the client moves much object data (``_engine.moves_bulk``): with
                ``--transport auto`` it then uses the aiohttp transport when aiohttp is
                installed, which reads bodies 1 MiB per call instead of 64 KiB (a third less
                CPU per downloaded GiB, benchmarks/results/transfer.md) but costs its import.
        """
        self.check_credentials()
        _skip_unused_imports()
        from r2async import R2Client

        transport: Literal["httpx", "aiohttp"] = "httpx"
        if self.transport == "aiohttp":
            transport = "aiohttp"
        elif self.transport == "auto" and bulk:
            from importlib.util import find_spec

            if find_spec("aiohttp") is not None:
                transport = "aiohttp"
        try:
            return R2Client(
                endpoint_url=self.endpoint_url or None,
                jurisdiction=self.jurisdiction,
                headers=self.headers or None,
                transport=transport,
            )
        except (ValueError, TypeError) as exc:
            raise UsageError(str(exc)) from None


def _skip_unused_imports() -> None:
    # Modules this process never uses but third-party imports load when they are installed;
    # marking them absent here (an ImportError for their importer, which each handles) saves
    # start-up on every command (measured with -X importtime):
    # - trio: the command runs on asyncio only, but httpcore imports trio (~100 ms);
    # - httpx._main: httpx's own command line, which ``import httpx`` loads together with
    #   click, pygments and rich whenever they are installed (~150 ms; rich is in our extra).
    if "httpcore" not in sys.modules and "trio" not in sys.modules:
        sys.modules["trio"] = None  # type: ignore[assignment]
    if "httpx" not in sys.modules and "httpx._main" not in sys.modules:
        sys.modules["httpx._main"] = None  # type: ignore[assignment]


def run(main: Callable[[], Awaitable[int]]) -> int:
    """Run a command's coroutine; the first Ctrl-C cancels it (cleanup runs), exit 130.

    Cancellation reaches every await: r2async aborts in-flight multipart uploads (shielded)
    and deletes partial download files. A second Ctrl-C exits at once.

    Args:
        main: the command's coroutine function.
    """

    async def runner() -> int:
        import anyio

        loop = asyncio.get_running_loop()
        interrupted = False
        result = EXIT_INTERRUPTED
        # An anyio cancel scope, not Task.cancel(): cleanup that r2async shields (aborting a
        # multipart upload) then runs to its end.
        with anyio.CancelScope() as scope:

            def on_sigint() -> None:
                nonlocal interrupted
                if interrupted:
                    os._exit(EXIT_INTERRUPTED)
                interrupted = True
                scope.cancel()

            # Not on Windows nor outside the main thread: KeyboardInterrupt is caught below.
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(signal.SIGINT, on_sigint)
            try:
                result = await main()
            finally:
                with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                    loop.remove_signal_handler(signal.SIGINT)
        return EXIT_INTERRUPTED if interrupted else result

    try:
        return asyncio.run(runner())
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
