"""The calls the benchmark makes, which each client module in ``clients/`` implements."""

from __future__ import annotations

import asyncio
from typing import Any


class Adapter:
    """One client library behind the calls the benchmark makes.

    A client module in ``clients/`` subclasses this and names the subclass ``ADAPTER``; the
    class attributes below are all the runner, the start-up rows and the report need to know.
    Client libraries are imported inside the methods, never at module level: every adapter
    module is imported by every worker before its timing starts.
    """

    # The client's key on the command line (``--clients``) and in results.json.
    name = ""
    # Its row label in the tables.
    label = ""
    # Row order in the tables and the default run order (lower first).
    order = 1000
    # Modules that must import for the client to run; missing ones skip it with a note.
    requires: tuple[str, ...] = ()
    # What construct() imports: loaded before construction is timed.
    modules: tuple[str, ...] = ()
    # Start-up rows this client adds: (row name, import statement timed in a fresh process).
    import_rows: tuple[tuple[str, str], ...] = ()
    # Distributions to install in the lean start-up venv besides r2async[fast] (peers).
    startup_dists: tuple[str, ...] = ()
    # A remark printed under the tables (and set by an adapter that had to fall back).
    note = ""

    def __init__(self, cfg: dict[str, Any]) -> None:
        self.cfg = cfg
        self.endpoint: str = cfg["endpoint"]
        self.bucket: str = cfg["bucket"]

    async def start(self) -> None:
        """Create the client (the construction time is measured separately)."""

    def construct(self) -> Any:
        """Build one client object as a user would, for the construction-time row."""
        raise NotImplementedError

    async def build(self) -> Any:
        """Construct a client ready to send (what the construction row times)."""
        return self.construct()

    async def dispose(self, client: Any) -> None:
        """Close what build() made (some clients hold sessions)."""
        for method in ("aclose", "close"):
            fn = getattr(client, method, None)
            if fn is not None:
                result = fn()
                if asyncio.iscoroutine(result):
                    await result
                return

    async def put(self, key: str, data: bytes) -> None:
        raise NotImplementedError

    async def get(self, key: str) -> int:
        raise NotImplementedError

    async def stream(self, key: str, chunk_size: int = 256 * 1024) -> int:
        raise NotImplementedError

    async def list_page(self, prefix: str) -> int:
        raise NotImplementedError

    async def aclose(self) -> None:
        pass
