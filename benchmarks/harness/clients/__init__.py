"""Every client the runner compares, found by discovery: one module per client.

Each public module here (a name not starting with ``_``) defines ``ADAPTER``, a subclass of
``harness.adapter.Adapter``; importing this package imports them all and registers them by
``ADAPTER.name``, in ``ADAPTER.order``. Adding a peer is adding one module. Modules starting
with ``_`` hold code shared by several adapters and are not registered.

Only these modules import private ``r2async._*`` names (or name private modules), each in one
marked place, so that moving r2async's internals means repointing them here alone.
"""

from __future__ import annotations

import os

from ..adapter import Adapter


def _discover() -> dict[str, type[Adapter]]:
    # os.listdir and __import__, not pkgutil/importlib: a worker imports this before its
    # timing starts, and the cold-start row must not find extra stdlib modules preloaded.
    found: list[type[Adapter]] = []
    for filename in sorted(os.listdir(os.path.dirname(__file__))):
        stem, ext = os.path.splitext(filename)
        if ext != ".py" or stem.startswith("_"):
            continue
        module = __import__(f"{__name__}.{stem}", fromlist=["ADAPTER"])
        adapter = getattr(module, "ADAPTER", None)
        if not (isinstance(adapter, type) and issubclass(adapter, Adapter)):
            raise TypeError(f"{module.__name__} defines no ADAPTER (an Adapter subclass)")
        found.append(adapter)
    found.sort(key=lambda cls: (cls.order, cls.name))
    registry: dict[str, type[Adapter]] = {}
    for cls in found:
        if not cls.name or cls.name in registry:
            raise ValueError(f"adapter name {cls.name!r} is empty or taken twice")
        registry[cls.name] = cls
    return registry


ADAPTERS: dict[str, type[Adapter]] = _discover()
# name -> row label, in table order.
CLIENTS: dict[str, str] = {name: cls.label for name, cls in ADAPTERS.items()}
# Start-up rows (row name -> timed import statement), in table order.
IMPORTS: dict[str, str] = {row: stmt for cls in ADAPTERS.values() for row, stmt in cls.import_rows}
