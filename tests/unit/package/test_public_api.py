"""``r2async.__all__`` stays complete, importable and sorted; the API reference lists all of it."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import typing
from pathlib import Path

import pydantic
import pytest

import r2async
from r2async import R2Client, R2Error, R2Model
from r2async._lazy import load_all

DOCS_API = Path(__file__).resolve().parents[3] / "docs" / "api"
PUBLIC_MODULES = ["r2async", "r2async.testing", "r2async.pytest_plugin"]

# Public-looking classes that users never see, each with the reason.
NOT_EXPORTED: dict[str, str] = {
    # The self-type of R2Client's transfer methods (R2Client satisfies it); never passed by users.
    "TransferClient": "a Protocol R2Client itself satisfies",
}


def _private_modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(r2async.__path__, "r2async."):
        if any(part.startswith("_") for part in info.name.split(".")[1:]):
            names.append(info.name)
    return sorted(names)


def _own_classes() -> dict[str, type]:
    """Every public class defined in r2async's private modules."""
    found: dict[str, type] = {}
    for name in _private_modules():
        module = importlib.import_module(name)
        for attr, value in vars(module).items():
            if (
                inspect.isclass(value)
                and not attr.startswith("_")
                and value.__module__ == module.__name__
            ):
                found[attr] = value
    return found


def _classes_in(annotation: object) -> set[type]:
    """The classes an annotation mentions (through unions, generics, Literal, Annotated)."""
    out: set[type] = set()
    stack = [annotation]
    while stack:  # bounded: annotations are finite trees
        item = stack.pop()
        if inspect.isclass(item) and typing.get_origin(item) is None:
            out.add(item)
        if typing.get_origin(item) is typing.Literal:
            continue
        stack.extend(typing.get_args(item))
        origin = typing.get_origin(item)
        if inspect.isclass(origin):
            out.add(origin)
    return out


def _signature_classes() -> set[type]:
    """Classes in the signatures of R2Client's public methods and in exported models' fields."""
    # The result models load on first use; resolving the annotations needs them all now.
    load_all()
    namespace = {**vars(r2async), "Self": R2Client}
    seen: set[type] = set()
    for name, member in inspect.getmembers(R2Client):
        if name.startswith("_") or not callable(member):
            continue
        hints = typing.get_type_hints(member, localns=namespace)
        for hint in hints.values():
            seen |= _classes_in(hint)
    # Result models reachable from those signatures expose their field types too.
    queue = [cls for cls in seen if issubclass(cls, pydantic.BaseModel)]
    while queue:  # bounded: each model is visited once
        model = queue.pop()
        for field in model.model_fields.values():
            for cls in _classes_in(field.annotation):
                if cls not in seen:
                    seen.add(cls)
                    if issubclass(cls, pydantic.BaseModel):
                        queue.append(cls)
    return {cls for cls in seen if cls.__module__.startswith("r2async.")}


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_all_is_sorted_unique_and_importable(module_name: str) -> None:
    module = importlib.import_module(module_name)
    names = list(module.__all__)

    assert names == sorted(names), f"{module_name}.__all__ is not sorted"
    assert len(set(names)) == len(names), f"{module_name}.__all__ has duplicates"
    missing = [n for n in names if not hasattr(module, n)]
    assert missing == [], f"{module_name}.__all__ names missing attributes: {missing}"
    namespace: dict[str, object] = {}
    exec(f"from {module_name} import *", namespace)
    assert set(names) <= set(namespace)


def test_every_exception_and_model_is_exported() -> None:
    exported = set(r2async.__all__)
    unexported = sorted(
        name
        for name, cls in _own_classes().items()
        if issubclass(cls, (R2Error, R2Model)) and name not in exported and name not in NOT_EXPORTED
    )

    assert unexported == [], (
        f"add these to r2async.__all__ (or NOT_EXPORTED, with a reason): {unexported}"
    )


def test_every_class_in_a_public_signature_is_exported() -> None:
    exported = {getattr(r2async, name) for name in r2async.__all__}
    needed = sorted(
        f"{cls.__module__}.{cls.__qualname__}"
        for cls in _signature_classes()
        if cls not in exported and cls.__name__ not in NOT_EXPORTED
    )

    assert needed == [], f"R2Client's signatures use classes users cannot import: {needed}"


def test_exported_names_are_r2asyncs_own() -> None:
    for name in r2async.__all__:
        value = getattr(r2async, name)
        if inspect.isclass(value) or inspect.isfunction(value):
            # Classes and functions are r2async's own, not re-exports of other libraries'.
            assert value.__module__.startswith("r2async."), f"{name} comes from {value.__module__}"
        else:
            # The rest are type aliases (Literal[...], Callable[...]) of r2async's arguments.
            assert typing.get_origin(value) is not None, f"{name} is neither a class nor a type"


def test_the_api_reference_documents_every_export() -> None:
    documented: list[str] = []
    for page in sorted(DOCS_API.glob("*.md")):
        documented += re.findall(r"^::: r2async\.(\w+)\s*$", page.read_text(), re.MULTILINE)
    modules = {"testing", "pytest_plugin"}

    missing = sorted(set(r2async.__all__) - set(documented))
    assert missing == [], f"add '::: r2async.NAME' for these to a page in docs/api/: {missing}"
    unknown = sorted(set(documented) - set(r2async.__all__) - modules)
    assert unknown == [], f"docs/api/ documents names r2async does not export: {unknown}"
    assert len(documented) == len(set(documented)), "a name is documented twice in docs/api/"
