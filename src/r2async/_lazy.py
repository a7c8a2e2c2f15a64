"""Deferred imports of r2async's own heavier modules.

``from r2async import R2Client`` should not pay for pydantic (about 50 ms) and for the result
models of every operation family before the program makes its first request: a CLI that
exits early, or a worker that builds its client at start-up, never needs most of them. The
client mixins therefore reach their ``_operations`` modules through a :class:`LazyModule`.

Unlike ``importlib.util.LazyLoader`` (whose first-access race was only fixed in CPython
3.12.3), the proxy imports through the ordinary, thread-safe import machinery, and on first
use replaces itself in the importing module's globals with the real module: afterwards a
method's ``ops.build_x`` is a plain global and attribute lookup, and a test that monkeypatches
the real module is seen by every caller.

The importing module names the result models only under ``TYPE_CHECKING``. So that
``typing.get_type_hints`` can still resolve its methods' annotations, loading also binds the
public names of the module (and of ``also``) into the importer's globals; :func:`load_all`
loads every deferred module at once, for tools that inspect signatures before any request.
"""

from __future__ import annotations

import importlib
import sys
import threading
from collections.abc import MutableMapping
from types import ModuleType
from typing import Any

__all__ = ["LazyModule", "load_all"]

_REGISTRY: list[LazyModule] = []


class LazyModule:
    """A stand-in for module ``name``, bound to global ``alias`` of the module that holds it."""

    __slots__ = ("_alias", "_also", "_name", "_namespace")

    def __init__(
        self,
        name: str,
        namespace: MutableMapping[str, Any],
        alias: str,
        *,
        also: tuple[str, ...] = (),
    ) -> None:
        """Create the stand-in.

        Args:
            name: the absolute module name to import on first use.
            namespace: the importing module's ``globals()``; ``alias`` in it is replaced.
            alias: the global name this stand-in is bound to there.
            also: further modules whose ``__all__`` names the importer's annotations use.
        """
        self._name = name
        self._namespace = namespace
        self._alias = alias
        self._also = also
        _REGISTRY.append(self)

    def load(self) -> ModuleType:
        """Import the module now, rebind the alias to it and bind the annotations' names."""
        module = importlib.import_module(self._name)
        for other in (module, *map(importlib.import_module, self._also)):
            for public in getattr(other, "__all__", ()):
                # setdefault: never shadow a name the importer defines or imports itself.
                self._namespace.setdefault(public, getattr(other, public))
        if self._namespace.get(self._alias) is self:
            self._namespace[self._alias] = module
        return module

    def __getattr__(self, attr: str) -> Any:
        return getattr(self.load(), attr)

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}>"


def load_all() -> None:
    """Import every deferred module now (for tools that resolve R2Client's type hints)."""
    for lazy in list(_REGISTRY):
        lazy.load()


def warm() -> None:
    """Prime pydantic (a worker thread's job).

    pydantic looks up its plugins (entry points: importing ``importlib.metadata`` and reading
    every installed distribution's metadata, 5-25 ms) the first time it builds a validator;
    building one here, in a worker thread, keeps that off the event loop. The other
    validators are built on first use (pure computation, well under a millisecond). The
    object operations' results need no validator at all (see ``_construct``), so a
    first request of theirs does not wait for this: it runs in the background afterwards.
    """
    from ._models import PresignedRequest

    # One priming at a time (the warm-up thread of a request that validates and the
    # background thread may both get here): pydantic's look-up is not thread-safe, and a
    # second caller during it would build its validator without the plugins.
    with _PRIME_LOCK:
        if not _PRIMED:
            if not PresignedRequest.__pydantic_complete__:
                PresignedRequest.model_rebuild()
            _PRIMED.append(True)


def primed() -> bool:
    """Whether pydantic has been primed in this process (see :func:`warm`)."""
    return bool(_PRIMED)


_PRIMED: list[bool] = []
_PRIME_LOCK = threading.Lock()
_LATER: list[threading.Thread] = []


def load_later() -> None:
    """Prime pydantic and load every deferred module in a background thread, once per process.

    The first request needs only its own family's modules (loaded when its method runs);
    the others (listing, multipart, transfers: about as long to import as pydantic) load
    here, off the event loop and off the first request's path, so that the first use of
    another family later imports nothing on the loop.

    Under asyncio the thread starts when the loop next runs its callbacks, that is once the
    task that made the first request waits for something: the rest of that operation (its
    body, its result) does not share the interpreter lock with these imports.
    """
    if _LATER or (
        _PRIMED and all(lazy._namespace.get(lazy._alias) is not lazy for lazy in _REGISTRY)
    ):
        return
    asyncio = sys.modules.get("asyncio")
    loop = None if asyncio is None else asyncio._get_running_loop()
    if loop is None:  # trio, or no loop: now
        _start_later()
    else:
        loop.call_soon(_start_later)


def _start_later() -> None:
    # Scheduled once per client's first request (harmless twice); one thread per process.
    if _LATER:
        return
    thread = threading.Thread(target=_load_quietly, name="r2async-load-later", daemon=True)
    _LATER.append(thread)
    thread.start()


def _load_quietly() -> None:
    # A failure here (an interpreter shutting down) resurfaces, if it matters, at first use.
    import contextlib

    with contextlib.suppress(BaseException):
        warm()
    with contextlib.suppress(BaseException):
        load_all()
    with contextlib.suppress(BaseException):
        from . import _xml

        _xml.load_parser()
