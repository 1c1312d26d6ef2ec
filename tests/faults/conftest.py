"""Fault tests: each breaks a real, private server (never the shared ones) and checks that users
keep being served and nothing is lost. Marked `faults` (they run in `make test`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.faults.servers import PrivateRedis


def pytest_configure(config: Any) -> None:
    config.addinivalue_line("markers", "faults: breaks a private server (tests/faults)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/faults/" in str(item.fspath):
            item.add_marker(pytest.mark.faults)


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path / "redis")
    server.start()
    try:
        yield server
    finally:
        server.kill()
