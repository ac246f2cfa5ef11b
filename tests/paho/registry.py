"""The list of conformance cases; modules register theirs with @case."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from support import V5, V311


@dataclass(frozen=True)
class Case:
    name: str
    run: Callable
    versions: tuple
    needs_ws: bool
    tributary: bool
    doc: str


CASES: list[Case] = []


def case(name: str, versions: tuple = (V311, V5), needs_ws: bool = False, tributary: bool = False):
    """Registers a case function under `name` for the given protocol versions."""

    def register(function: Callable) -> Callable:
        if any(existing.name == name for existing in CASES):
            raise ValueError(f"duplicate case name {name}")
        doc = " ".join((function.__doc__ or "").split())
        CASES.append(Case(name, function, versions, needs_ws, tributary, doc))
        return function

    return register
