from __future__ import annotations

from typing import Any

from tests.fuzz.stats import STATS


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if STATS.examples:
        terminalreporter.write_line(STATS.summary())
