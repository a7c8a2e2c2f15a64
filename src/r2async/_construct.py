"""Results built from values that already have their fields' types, without validating.

Why: validating needs the model's validator, and the first validator a process builds makes
pydantic look up its plugins: it imports ``importlib.metadata`` and reads the metadata of
every installed distribution (5-25 ms, file reads that must not run on the event loop, so
they ran in the warm-up thread, on the first request's path). The object operations (GET,
HEAD, PUT, DELETE: ``_send.NO_VALIDATOR``) read their results from response headers into
values of exactly their fields' types (``str``, ``int``, ``bool``, ``datetime``, a ``dict``
of ``str``, ``bytes``), so validating them only copies them. Building the instance directly, as
``model_construct`` does, gives an equal object (same values, same fields set, same repr),
lets a fresh process's first request skip the plugin look-up (which then runs in the
background, see ``_lazy.load_later``), and costs less than validating (about 2.5 µs against
6 µs for a ``GetObjectResult``). The transfers' results (``UploadResult``,
``DownloadResult``) are built here too, from those.

Only a plain model qualifies: fields of the simple types above (or ``X | None``), no
validators, no private attributes, no post-init hook, no field constraints or aliases, and
no configuration that changes values; and only a call whose every value has exactly its
field's type (``bool`` is not an ``int`` here) and which gives every field whose default is
mutable. Anything else is validated as before, so a model that grows a validator one day
is validated again without anyone remembering this module.
"""

from __future__ import annotations

import datetime as dt
import types
import typing
from typing import Any, TypeVar

from pydantic import BaseModel

__all__ = ["construct", "fields_of"]

_M = TypeVar("_M", bound=BaseModel)
_NONE = type(None)
_SIMPLE = (str, int, bool, bytes, dt.datetime)
_IMMUTABLE = (*_SIMPLE, _NONE)
# Configuration that does not change a value of the types above (R2Model's own keys).
_HARMLESS_CONFIG = frozenset({"frozen", "extra", "arbitrary_types_allowed", "defer_build"})
# What every pydantic instance holds besides its fields, set as model_construct sets them;
# the slot setters are taken from BaseModel once (cheaper than object.__setattr__).
_set_dict = BaseModel.__dict__["__dict__"].__set__
_set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__


class _Plan:
    """How to build one model: its defaults in field order and each field's exact types."""

    __slots__ = ("defaults", "kinds", "needed", "str_dicts")

    def __init__(
        self,
        defaults: dict[str, Any],
        kinds: dict[str, tuple[type, ...]],
        needed: frozenset[str],
        str_dicts: frozenset[str],
    ) -> None:
        self.defaults = defaults
        self.kinds = kinds
        self.needed = needed
        self.str_dicts = str_dicts


_PLANS: dict[type, _Plan | None] = {}


def construct(model: type[_M], fields: dict[str, Any]) -> _M:
    """``model(**fields)``, built without validating when that gives the same instance.

    Args:
        model: the result model.
        fields: the field values read from the response.
    """
    try:
        plan = _PLANS[model]
    except KeyError:
        plan = _PLANS[model] = _plan(model)
    if plan is None or not _typed(plan, fields):
        return model(**fields)
    values = plan.defaults.copy()  # the fields in declaration order, as validation has them
    values.update(fields)
    instance = object.__new__(model)
    _set_dict(instance, values)
    _set_fields_set(instance, set(fields))
    _set_extra(instance, None)
    _set_private(instance, None)
    return instance


def fields_of(instance: BaseModel) -> dict[str, Any]:
    """The field values of a flat model, as ``model_dump()`` has them (a dict is copied).

    Unlike ``model_dump``, it needs no serializer (whose first build also builds the
    validator, see the module docstring).
    """
    out = {name: getattr(instance, name) for name in type(instance).model_fields}
    for name, value in out.items():
        if type(value) is dict:
            out[name] = dict(value)
    return out


def _typed(plan: _Plan, fields: dict[str, Any]) -> bool:
    kinds = plan.kinds
    for name, value in fields.items():
        allowed = kinds.get(name)
        if allowed is None or type(value) not in allowed:
            return False  # an unknown field (validation refuses it) or another type
        if name in plan.str_dicts:
            for k, v in value.items():
                if type(k) is not str or type(v) is not str:
                    return False
    return plan.needed.issubset(fields)


def _plan(model: type[BaseModel]) -> _Plan | None:
    """The model's plan, or None when it is not a plain model (see the module docstring)."""
    decorators = model.__pydantic_decorators__
    if (
        not set(model.model_config) <= _HARMLESS_CONFIG
        or model.model_config.get("extra") == "allow"
        or model.__private_attributes__
        or model.__pydantic_post_init__ is not None
        or model.__pydantic_root_model__
        or model.__pydantic_generic_metadata__["origin"] is not None
        or decorators.validators
        or decorators.field_validators
        or decorators.root_validators
        or decorators.model_validators
    ):
        return None
    defaults: dict[str, Any] = {}
    kinds: dict[str, tuple[type, ...]] = {}
    needed: set[str] = set()
    str_dicts: set[str] = set()
    for name, info in model.model_fields.items():
        if info.metadata or info.alias is not None or info.validation_alias is not None:
            return None
        allowed = _kinds(info.annotation)
        if allowed is None:
            if info.annotation != dict[str, str]:
                return None
            allowed = (dict,)
            str_dicts.add(name)
        kinds[name] = allowed
        default = info.default
        if info.is_required() or info.default_factory is not None:
            needed.add(name)
            default = None
        elif type(default) not in _IMMUTABLE:
            needed.add(name)  # a mutable default is copied per instance: only when given
        defaults[name] = default
    return _Plan(defaults, kinds, frozenset(needed), frozenset(str_dicts))


def _kinds(annotation: Any) -> tuple[type, ...] | None:
    """The exact types a value of ``annotation`` may have here (None: not a simple one)."""
    if annotation in _SIMPLE:
        return (annotation,)
    if typing.get_origin(annotation) in (types.UnionType, typing.Union):
        out: list[type] = []
        for arg in typing.get_args(annotation):
            if arg is not _NONE and arg not in _SIMPLE:
                return None
            out.append(arg)
        return tuple(out)
    return None
