"""What an outbox policy is: a pure function of one committed event, returning the messages
(`Send`: a purpose, which names the actor, and a payload of ids) that the event calls for."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Send:
    """A message a policy asks for: the actor's `purpose` and a JSON payload of ids."""

    purpose: str
    payload: Mapping[str, Any]


@dataclass(frozen=True)
class Policy:
    """Reacts to committed events of `topics` with messages.

    `react` must be deterministic (no clock, network or reads): the view is rebuilt from the
    log and must produce the same messages. `name` must never change once deployed.
    """

    name: str
    topics: frozenset[str]
    react: Callable[[Any], Sequence[Send]]
    # True: each message's payload also carries the event's log position (`position`).
    positioned: bool = False
