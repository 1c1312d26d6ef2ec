"""Schema-driven fuzzing: every operation of /api/schema/, sent to the running application.

Schemathesis reads the OpenAPI document the application itself serves at /api/schema/, then
generates requests from it (its examples, boundary and negative "coverage" cases, unexpected
methods, and random "fuzzing" cases) and sends them to the real Django WSGI application in
process (schemathesis' WSGI transport: the whole middleware stack, URL configuration, real
PostgreSQL and Redis; each request's on-commit work runs as after a real commit). Examples
alternate between an ordinary user (the owner of every object of the world) and staff.

A response fails the test when it is a 5xx, or when its status code, content type, headers or
body are not what the schema documents for that operation.

Half of the requests whose path names objects keep the generated values (unknown ids: 404s);
the other half point at real objects of tests/security/world.py, so validation and the rules
behind it are reached, not only the lookups.

Bounded for `make test`: FUZZ_MAX_EXAMPLES random examples per operation (env, default 8) on
top of the deterministic coverage cases; derandomized (fixed seed), no example database, all
throttles raised. The terminal summary prints the operation and example counts.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import TestCase
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.fuzz.stats import STATS
from tests.security.world import World, access_token, build_world

MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "8"))
ROLES = ("owner", "staff")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())


def real_path_parameters(world: World, path: str, method: str) -> dict[str, str]:
    """The path parameters that name objects of the world, for this operation."""
    values: dict[str, str] = {
        "image_id": str(world.image.pk),
        "conversation_id": str(world.conversation.pk),
        "saved_search_id": str(world.saved_search.pk),
        "report_id": str(world.report.pk),
        "payment_id": str(world.payment.pk),
        "provider": "sandbox",
        "user_id": str(world.pest.pk if "unblock" in path else world.owner.pk),
    }
    if path.startswith("/api/ads/"):
        values["slug"] = world.ad.slug
        values["ad_id"] = str(world.buyer_ad.pk)  # favorites/{ad_id}: the owner's favourite
    elif path.startswith("/api/categories/"):
        values["slug"] = world.category.slug
    elif path.startswith("/api/locations/"):
        values["slug"] = world.location.slug
    if path.startswith("/api/moderation/queue/"):
        values["ad_id"] = str(world.pending_ad.pk)
    if path.startswith("/api/moderation/reviews/"):
        if path.endswith("/reply/"):
            values["id"] = str(world.review_of_owner.pk)
        elif method == "PATCH":
            values["id"] = str(world.review_by_owner.pk)
        else:
            values["id"] = str(world.owner.pk)
    return values


@pytest.fixture
def fuzz_world(db: Any, settings: Any, tmp_path: Any) -> Iterator[World]:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.THROTTLE_RATES = dict.fromkeys(settings.THROTTLE_RATES, "1000000/m")
    # As Django's test client does: the request cycle must not close the test's connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        world = build_world()
        world.tokens = {role: access_token(getattr(world, role)) for role in ROLES}
        yield world
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_operation_conforms(case: Any, fuzz_world: World, request: pytest.FixtureRequest) -> None:
    """Examples alternate between the two callers, and (when the path names objects) between
    generated and real path parameters: all four combinations come up for every operation."""
    n = STATS.record(case)
    role = ROLES[n % 2]
    if case.path_parameters and (n // 2) % 2 == 0:
        real = real_path_parameters(fuzz_world, case.operation.path, case.method.upper())
        case.path_parameters = {
            name: real.get(name, value) for name, value in case.path_parameters.items()
        }
    token = fuzz_world.tokens[role]
    # Each request's on-commit work (tasks, socket events) runs, as after a real commit.
    with TestCase.captureOnCommitCallbacks(execute=True):
        # The WSGI transport does not undo a Content-Encoding (an HTTP client would), so ask for
        # identity bodies; the gzip-encoded cache hits are tested in
        # apps/ads/tests/test_read_cache_fast_path.py.
        case.headers = {**(case.headers or {}), "Accept-Encoding": "identity"}
        case.call_and_validate(
            headers={"Authorization": f"Bearer {token}", "Accept-Encoding": "identity"},
            checks=CHECKS,
        )
