"""Counts of what the fuzzing run sent, printed in pytest's terminal summary."""

from __future__ import annotations

from collections import Counter
from typing import Any


class FuzzStats:
    def __init__(self) -> None:
        self.operations: set[str] = set()
        self.phases: Counter[str] = Counter()
        self.examples = 0

    def record(self, case: Any) -> int:
        """Count one example; returns its number (1, 2, ...) in the whole run."""
        self.examples += 1
        self.operations.add(case.operation.label)
        meta = getattr(case, "meta", None)
        self.phases[meta.phase.name.value if meta is not None else "explicit"] += 1
        return self.examples

    def summary(self) -> str:
        phases = ", ".join(f"{name} {count}" for name, count in sorted(self.phases.items()))
        return (
            f"schema fuzzing: {len(self.operations)} operations, {self.examples} examples "
            f"({phases})"
        )


STATS = FuzzStats()
