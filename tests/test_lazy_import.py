"""``import r2async`` loads nothing until a name is used, and every export still resolves.

The package __init__ maps each exported name to its module (``_LAZY``) and repeats the
imports under ``TYPE_CHECKING`` for type checkers; these tests keep ``__all__``, ``_LAZY``
and those imports in agreement, so an export added to one place only fails here.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import r2async

INIT = Path(r2async.__file__)


def _fresh(code: str) -> str:
    """Run ``code`` in a new interpreter (a clean sys.modules) and return its stdout."""
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    return proc.stdout


def test_import_r2async_loads_no_dependency() -> None:
    out = _fresh(
        "import sys, json, r2async\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('httpx', 'pydantic', 'aiohttp', 'anyio', 'r2async'))))"
    )
    assert json.loads(out) == ["r2async"]


def test_names_load_their_modules_on_first_use_only() -> None:
    out = _fresh(
        "import sys, json\n"
        "from r2async import NoSuchKeyError\n"
        "mods = sorted(m for m in sys.modules if m.startswith('r2async.'))\n"
        "import r2async\n"
        "print(json.dumps([mods, 'aiohttp' in sys.modules, r2async.R2Client.__name__, "
        "'aiohttp' in sys.modules, 'R2Client' in vars(r2async)]))"
    )
    mods, aiohttp_before, name, aiohttp_after, cached = json.loads(out)
    assert "r2async._exceptions" in mods and "r2async._client" not in mods
    assert name == "R2Client" and cached
    # The fast transport's dependency is imported only when a transport is created.
    assert not aiohttp_before and not aiohttp_after


def test_every_export_resolves_and_star_import_works() -> None:
    for name in r2async.__all__:
        value = getattr(r2async, name)
        if isinstance(value, type):
            assert value.__name__ == name
        assert name in vars(r2async)
    namespace: dict[str, object] = {}
    exec("from r2async import *", namespace)
    assert set(r2async.__all__) <= set(namespace)
    assert set(r2async.__all__) <= set(dir(r2async))


def test_unknown_names_raise_attribute_error() -> None:
    assert not hasattr(r2async, "NoSuchThing")
    try:
        r2async.NoSuchThing  # type: ignore[attr-defined]  # noqa: B018
    except AttributeError as exc:
        assert "NoSuchThing" in str(exc)
    else:  # pragma: no cover - the assertion above is what matters
        raise AssertionError("expected AttributeError")


def test_all_lazy_map_and_type_checking_imports_agree() -> None:
    tree = ast.parse(INIT.read_text())
    typed: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            for stmt in node.body:
                assert isinstance(stmt, ast.ImportFrom), "only imports under TYPE_CHECKING"
                for alias in stmt.names:
                    typed[alias.name] = "." * stmt.level + (stmt.module or "")
    eager = [
        node
        for node in tree.body
        if isinstance(node, ast.Import)
        or (isinstance(node, ast.ImportFrom) and node.module != "__future__")
    ]
    assert eager == [], "import exports lazily: add them to _LAZY and under TYPE_CHECKING"
    lazy = r2async._LAZY
    assert sorted(lazy) == sorted(r2async.__all__), "every name in __all__ needs a _LAZY entry"
    assert typed == lazy, "the TYPE_CHECKING imports must match _LAZY (name -> module)"
    assert list(r2async.__all__) == sorted(r2async.__all__)
