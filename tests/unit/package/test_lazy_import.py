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
    assert "r2async._exceptions" in mods and "r2async._client.r2client" not in mods
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


def test_client_import_and_construction_defer_pydantic_and_models() -> None:
    out = _fresh(
        "import sys, json\n"
        "from r2async import R2Client\n"
        "R2Client(account_id='0' * 32, access_key_id='k', secret_access_key='s')\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('pydantic', 'anyio', 'r2async') and not m.startswith('r2async._client.r2client'))))"
    )
    loaded = json.loads(out)
    assert not [m for m in loaded if m.startswith(("pydantic", "anyio"))], loaded
    deferred = ("r2async._models", "r2async._operations.objects", "r2async._transfer")
    assert not [m for m in loaded if m.startswith(deferred)], loaded


def test_first_use_loads_the_family_and_binds_its_names_for_type_hints() -> None:
    out = _fresh(
        "import sys, json, typing\n"
        "from r2async import R2Client\n"
        "from r2async._client import objects as _client_objects\n"
        "r2 = R2Client(endpoint_url='http://127.0.0.1:9', access_key_id='k', "
        "secret_access_key='s')\n"
        "before = type(_client_objects.ops).__name__\n"
        "url = r2.presign_get_object('bkt', 'k').url\n"
        "spec = _client_objects.ops.build_head_object('bkt', 'k')\n"
        "hints = typing.get_type_hints(R2Client.head_object)\n"
        "print(json.dumps([before, type(_client_objects.ops).__name__, spec.method, "
        "hints['return'].__name__, 'pydantic' in sys.modules, url.startswith('http://')]))"
    )
    before, after, method, returned, pydantic_loaded, presigned = json.loads(out)
    # The stand-in replaces itself with the real module on first use.
    assert (before, after) == ("LazyModule", "module")
    assert method == "HEAD" and returned == "HeadObjectResult"
    assert pydantic_loaded and presigned


def test_load_all_resolves_every_method_annotation_in_a_fresh_process() -> None:
    out = _fresh(
        "import inspect, json, typing\n"
        "from r2async import R2Client\n"
        "from r2async._lazy import load_all\n"
        "load_all()\n"
        "names = [n for n, m in inspect.getmembers(R2Client) "
        "if not n.startswith('_') and inspect.iscoroutinefunction(m)]\n"
        "for n in names:\n"
        "    typing.get_type_hints(getattr(R2Client, n), localns={'Self': R2Client})\n"
        "print(json.dumps(len(names)))"
    )
    assert json.loads(out) > 30


def test_lazy_module_rebinds_once_and_never_shadows_the_importer() -> None:
    from r2async._lazy import LazyModule

    namespace: dict[str, object] = {"ParseResult": "mine"}
    namespace["parse"] = LazyModule("urllib.parse", namespace, "parse")
    import urllib.parse

    assert namespace["parse"].quote("a b") == "a%20b"  # type: ignore[attr-defined]
    assert namespace["parse"] is urllib.parse
    # Public names of the module are bound for annotations, but not over existing globals.
    assert namespace["urlsplit"] is urllib.parse.urlsplit
    assert namespace["ParseResult"] == "mine"
    assert repr(LazyModule("json", {}, "json")) == "<lazy module 'json'>"


def test_type_hints_resolve_before_any_use_in_a_fresh_process() -> None:
    # No request, no load_all(), no localns: what a tool (FastAPI, a docs generator, a
    # dependency injector) does with R2Client's methods.
    out = _fresh(
        "import inspect, json, sys, typing\n"
        "from r2async import R2Client\n"
        "loaded_at_import = 'pydantic' in sys.modules\n"
        "first = typing.get_type_hints(R2Client.put_object)\n"
        "names = [n for n in dir(R2Client) if not n.startswith('_') "
        "and callable(getattr(R2Client, n))]\n"
        "for n in names:\n"
        "    typing.get_type_hints(getattr(R2Client, n))\n"
        "print(json.dumps([loaded_at_import, first['return'].__name__, len(names)]))"
    )
    loaded_at_import, returned, count = json.loads(out)
    assert not loaded_at_import
    assert returned == "PutObjectResult"
    assert count > 30


def test_first_request_waits_only_for_its_own_family_the_rest_loads_after_it() -> None:
    # Time to a fresh process's first answer: the deferred modules of other families
    # (listing, multipart, transfers) are not on its path; they load in a background thread
    # once it is answered, so that their first use later imports nothing on the loop.
    out = _fresh(
        "import asyncio, json, sys, httpx, respx\n"
        "from r2async import R2Client\n"
        "from r2async import _lazy\n"
        "seen = []\n"
        "def answer(request):\n"
        "    seen.append('r2async._transfer.api' in sys.modules)\n"
        "    return httpx.Response(200, content=b'x', headers={\n"
        "        'etag': '\"9dd4e461268c8034f5c8564e155c67a6\"',\n"
        "                          'last-modified': 'Wed, 21 Oct 2015 07:28:00 GMT'})\n"
        "async def main():\n"
        "    async with R2Client(endpoint_url='http://127.0.0.1:9', access_key_id='A',\n"
        "                        secret_access_key='S') as r2:\n"
        "        with respx.mock(base_url='http://127.0.0.1:9') as mock:\n"
        "            mock.get(url__regex=r'.*').mock(side_effect=answer)\n"
        "            await r2.get_object('bkt', 'k')\n"
        "            await r2.get_object('bkt', 'k')\n"
        "asyncio.run(main())\n"
        "for thread in _lazy._LATER:\n"
        "    thread.join(timeout=60)\n"
        "print(json.dumps([seen, len(_lazy._LATER), 'r2async._transfer.api' in sys.modules,\n"
        "                  'r2async._operations.listing' in sys.modules]))"
    )
    seen, threads, transfer_loaded, listing_loaded = json.loads(out)
    assert seen[0] is False
    assert threads == 1
    assert transfer_loaded and listing_loaded
