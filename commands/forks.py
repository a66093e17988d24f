"""Copies of aggregates that share no mutable state: what a group commit's batch keeps for
the next one, and hands each command, are forked, not deep-copied."""

from __future__ import annotations

from copy import deepcopy
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

# Values shared by an aggregate and its copy: they never change in place.
_IMMUTABLE = (
    str,
    int,
    float,
    bool,
    bytes,
    type(None),
    UUID,
    datetime,
    date,
    clock_time,
    timedelta,
    Decimal,
    Enum,
)


def fork(aggregate: Any) -> Any:
    """A copy of `aggregate` that shares no mutable state with it: its lists, dicts and sets
    are copied (deeply), the values that cannot change are shared; anything else is
    deep-copied. Much cheaper than `deepcopy`, which rebuilds every UUID and datetime."""
    if not _plain(type(aggregate)):
        return deepcopy(aggregate)
    copy = object.__new__(type(aggregate))
    copy.__dict__.update({k: _copied(v) for k, v in vars(aggregate).items()})
    return copy


_PLAIN: dict[type, bool] = {}


def _plain(kind: type) -> bool:
    """Instances keep all their state in `__dict__` (no slots but empty ones)."""
    plain = _PLAIN.get(kind)
    if plain is None:
        slots = any(vars(k).get("__slots__") for k in kind.__mro__)
        plain = _PLAIN[kind] = "__dict__" in dir(kind) and not slots
    return plain


def _copied(value: Any) -> Any:
    if isinstance(value, _IMMUTABLE):
        return value
    kind = type(value)
    if kind is list:
        return [_copied(v) for v in value]
    if kind is dict:
        return {k: _copied(v) for k, v in value.items()}
    if kind is tuple:
        return tuple(_copied(v) for v in value)
    if kind is set:
        return {_copied(v) for v in value}
    if kind is frozenset and all(isinstance(v, _IMMUTABLE) for v in value):
        return value
    return deepcopy(value)
