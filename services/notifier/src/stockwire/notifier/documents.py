"""Plain dataclasses to JSON documents and back, by their type hints.

The engine's state (:mod:`stockwire.notifier.domain`) is plain dataclasses of strings,
numbers, instants, durations, ids, enums, decimals and collections of them. The
repository keeps each as one JSONB document, so the domain stays free of any mapping code
and a new field of the state needs no migration: a document written before it was added
decodes with the field's default.
"""

import dataclasses
import functools
import types
from collections.abc import Mapping
from datetime import datetime, time, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any, Literal, TypeVar, Union, get_args, get_origin, get_type_hints
from uuid import UUID

T = TypeVar("T")

_SEQUENCES: dict[Any, Any] = {
    list: list,
    tuple: tuple,
    set: set,
    frozenset: frozenset,
}


def to_document(value: Any) -> Any:
    """``value`` as JSON-ready data: objects, lists, strings, numbers, booleans, null."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            field.name: to_document(getattr(value, field.name))
            for field in dataclasses.fields(value)
        }
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, UUID | Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(key): to_document(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [to_document(item) for item in value]
        return sorted(items, key=repr) if isinstance(value, set | frozenset) else items
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"cannot keep a {type(value).__name__} in a document")


def from_document(kind: type[T], data: Any) -> T:
    """The ``kind`` value ``data`` (from :func:`to_document`) describes."""
    value: T = _decode(kind, data)
    return value


def _decode(kind: Any, data: Any) -> Any:
    origin = get_origin(kind)
    if kind is Any:
        return data
    if origin is Union or origin is types.UnionType:
        options = [option for option in get_args(kind) if option is not type(None)]
        if data is None:
            return None
        return _decode(options[0], data) if len(options) == 1 else _first_fit(options, data)
    if origin is Literal:
        return data
    if origin in _SEQUENCES or kind in _SEQUENCES:
        build = _SEQUENCES[origin or kind]
        args = get_args(kind)
        if build is tuple and len(args) == 2 and args[1] is Ellipsis:
            args = (args[0],)
        if build is tuple and len(args) > 1:
            return tuple(_decode(arg, item) for arg, item in zip(args, data, strict=True))
        item_kind = args[0] if args else Any
        return build(_decode(item_kind, item) for item in data)
    if origin in (dict, Mapping) or kind in (dict, Mapping):
        key_kind, value_kind = get_args(kind) or (Any, Any)
        return {_decode(key_kind, key): _decode(value_kind, item) for key, item in data.items()}
    if dataclasses.is_dataclass(kind):
        return _dataclass(kind, data)
    if isinstance(kind, type) and issubclass(kind, Enum):
        return kind(data)
    if kind is datetime:
        return datetime.fromisoformat(data)
    if kind is time:
        return time.fromisoformat(data)
    if kind is timedelta:
        return timedelta(seconds=data)
    if kind in (UUID, Decimal):
        return kind(data)
    if kind is float:
        return float(data)
    return data


def _first_fit(options: list[Any], data: Any) -> Any:
    for option in options:
        try:
            return _decode(option, data)
        except (TypeError, ValueError, KeyError, AttributeError):
            continue
    raise ValueError(f"no type of {options} fits {data!r}")


@functools.cache
def _fields(kind: Any) -> tuple[tuple[str, Any, bool], ...]:
    """A dataclass's fields as (name, type, given to __init__), worked out once per class."""
    hints = get_type_hints(kind)
    return tuple((field.name, hints[field.name], field.init) for field in dataclasses.fields(kind))


def _dataclass(kind: Any, data: Mapping[str, Any]) -> Any:
    fields = _fields(kind)
    given = {
        name: _decode(hint, data[name]) for name, hint, init in fields if init and name in data
    }
    value = kind(**given)
    for name, hint, init in fields:
        if not init and name in data:
            object.__setattr__(value, name, _decode(hint, data[name]))
    return value
