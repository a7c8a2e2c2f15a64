"""The errors a local test server raises."""

from __future__ import annotations

import re

# weed mini checks its ports before binding ("Port allocation failed: port N ... is not
# available"); a later bind failure reads "address already in use".
PORT_CLASH = re.compile(r"port allocation failed|address already in use", re.IGNORECASE)


class LocalServerError(RuntimeError):
    """The local server could not be found, started, or asked to create a bucket."""


# Shown (and pickled) under the public module that exports it.
LocalServerError.__module__ = "r2async.testing"


class PortClash(LocalServerError):
    """Another program took one of the chosen ports before weed bound it."""


def failure(what: str, log_tail: str) -> LocalServerError:
    """The error for a failed start, ending with the server log's tail (a port clash if it says so).

    Args:
        what: what went wrong.
        log_tail: the end of the server log, secrets already removed.
    """
    cls = PortClash if PORT_CLASH.search(log_tail) else LocalServerError
    return cls(f"{what}\n--- tail of the SeaweedFS log ---\n{log_tail.rstrip()}")
