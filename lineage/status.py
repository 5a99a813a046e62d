"""Hop statuses and their order: the vocabulary the engine answers in."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    """A hop's status for one regime, or overall (the worst of its regimes).

    Listed from best to worst; `unknown` is last because a missing location could hide any of
    the others.
    """

    NOT_REQUIRED = "not_required"
    ADEQUATE = "adequate"
    COVERED = "covered"
    DEROGATION = "derogation"
    INVALID = "invalid"
    UNCOVERED = "uncovered"
    UNKNOWN = "unknown"

    @property
    def rank(self) -> int:
        return _ORDER[self]

    @property
    def is_problem(self) -> bool:
        return self in (Status.INVALID, Status.UNCOVERED, Status.UNKNOWN)


_ORDER = {s: i for i, s in enumerate(Status)}


def worst(statuses: list[Status]) -> Status:
    """The worst status of a list (not_required for an empty one).

    >>> worst([Status.ADEQUATE, Status.INVALID, Status.COVERED]).value
    'invalid'
    """
    return max(statuses, key=_ORDER.__getitem__, default=Status.NOT_REQUIRED)


@dataclass(frozen=True)
class RegimeStatus:
    """A hop's status under one regime, why, and what it relies on."""

    regime: str
    status: Status
    reason: str
    basis: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status.value, "reason": self.reason, "basis": list(self.basis)}


@dataclass(frozen=True)
class HopStatus:
    """One flow on one date: where it goes, which regimes its data carries, and its status."""

    flow: str
    source: str
    target: str
    source_countries: tuple[str, ...]
    target_countries: tuple[str, ...]
    carries: tuple[str, ...]
    status: Status
    reason: str
    regimes: dict[str, RegimeStatus] = field(default_factory=dict)
    collection: bool = False
    crosses_border: bool = False
    purpose: str | None = None
    role: str | None = None
    frequency: str = "continuous"
    recipient_kind: str | None = None
    recipient: str | None = None

    @property
    def basis(self) -> tuple[str, ...]:
        out: list[str] = []
        for regime in self.regimes.values():
            out += [b for b in regime.basis if b not in out]
        return tuple(out)

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of the command-line contract (flow, from, to, status, regimes, ...)."""
        return {
            "flow": self.flow,
            "from": self.source,
            "to": self.target,
            "from_country": ",".join(self.source_countries) or None,
            "to_country": ",".join(self.target_countries) or None,
            "carries": list(self.carries),
            "status": self.status.value,
            "reason": self.reason,
            "basis": list(self.basis),
            "regimes": {name: r.to_dict() for name, r in self.regimes.items()},
            "collection": self.collection,
            "crosses_border": self.crosses_border,
            "purpose": self.purpose,
            "role": self.role,
            "frequency": self.frequency,
            "recipient": self.recipient,
            "recipient_kind": self.recipient_kind,
        }
