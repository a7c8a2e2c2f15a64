"""Transports: r2async's connection pool, the aiohttp transport, and their wire helpers."""

# The request extension carrying a call's overall deadline (a time.monotonic() instant), set
# by _send and enforced by r2async's transports (see call_guard). Defined here, in the
# package itself, so that _send can name it without importing httpcore (nor anyio).
DEADLINE = "r2async.deadline"
