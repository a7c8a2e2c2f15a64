"""The package's modules import each other without circles, and each module stays readable.

The graph is read from the source (every ``import`` and ``from ... import`` of an r2async
module, including those under ``TYPE_CHECKING`` and inside functions, and the module names
given to ``LazyModule``), so a circle is caught even where it would only show at type-check
time or on first use. A module importing one of its parent packages is not an edge: Python
runs a package's ``__init__`` before its modules, and r2async's private package ``__init__``
files import nothing of their own package (checked below).
"""

from __future__ import annotations

import ast
from pathlib import Path

import r2async

PACKAGE = Path(r2async.__file__).resolve().parent
# Modules that hold one concept which reads better whole say so in their docstring.
MAX_LINES = 600
WHOLE = "reads better whole"


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = ["r2async", *path.relative_to(PACKAGE).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _resolve(module: str, is_package: bool, level: int, name: str | None) -> str:
    base = module.split(".") if is_package else module.split(".")[:-1]
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join([*base, *([name] if name else [])])


def _edges(module: str, path: Path) -> set[str]:
    is_package = path.name == "__init__.py"
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = (
                _resolve(module, is_package, node.level, node.module)
                if node.level
                else (node.module or "")
            )
            for alias in node.names:
                # "from pkg import mod" imports a module; "from mod import name" a name.
                full = f"{base}.{alias.name}"
                targets.add(full if full in MODULES else base)
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "id", None) == "LazyModule"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            targets.add(str(node.args[0].value))
    parents = {module.rsplit(".", n)[0] for n in range(1, module.count(".") + 1)}
    return {t for t in targets if t in MODULES and t != module and t not in parents}


GRAPH = {module: _edges(module, path) for module, path in MODULES.items()}


def _cycle() -> list[str] | None:
    # Depth-first search with colours: an edge to a grey (in-progress) module closes a circle.
    colour: dict[str, int] = {}
    stack: list[str] = []

    def visit(module: str) -> list[str] | None:
        colour[module] = 1
        stack.append(module)
        for target in sorted(GRAPH[module]):
            if colour.get(target) == 1:
                return [*stack[stack.index(target) :], target]
            if target not in colour:
                found = visit(target)
                if found:
                    return found
        stack.pop()
        colour[module] = 2
        return None

    for module in sorted(GRAPH):
        if module not in colour:
            found = visit(module)
            if found:
                return found
    return None


def test_the_package_has_no_import_circles() -> None:
    cycle = _cycle()
    assert cycle is None, "import circle: " + " -> ".join(cycle or [])


def test_the_graph_sees_imports_of_every_kind() -> None:
    # The checker itself: it must see a relative import, a TYPE_CHECKING one and a LazyModule.
    assert "r2async._send" in GRAPH["r2async._client.base"]
    assert "r2async._operations.objects" in GRAPH["r2async._client.objects"]
    assert "r2async._signing.sigv4" in GRAPH["r2async._signing.auth"]


def test_subpackage_inits_import_nothing_of_their_own_package() -> None:
    # For the private layers: their modules are imported directly, the package is only a name.
    # A public package (r2async.cli) is an entry point whose __init__ may delegate to its modules.
    for module, path in MODULES.items():
        private = module.rsplit(".", 1)[-1].startswith("_")
        if path.name == "__init__.py" and module != "r2async" and private:
            own = {t for t in GRAPH[module] if t.startswith(module + ".")}
            assert not own, f"{module}/__init__.py imports {sorted(own)}"


def test_no_module_is_past_one_screenful_of_concepts_unless_it_says_why() -> None:
    long = []
    for module, path in MODULES.items():
        text = path.read_text()
        doc = ast.get_docstring(ast.parse(text)) or ""
        if text.count("\n") > MAX_LINES and WHOLE not in doc:
            long.append(f"{module} ({text.count(chr(10))} lines)")
    assert not long, f"over {MAX_LINES} lines without saying why: {long}"
