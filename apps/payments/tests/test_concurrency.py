"""Races with real commits: 20 threads, each with its own client and database connection.

- 20 parallel boosts with ONE Idempotency-Key: exactly one payment; every answer is the same
  202 body or 409 idempotency_key_in_use.
- 20 parallel copies of one callback: one PaymentEvent to succeeded, one Promotion, the
  promotion applied once.

Celery is eager and there is no surrounding test transaction here, so on_commit hooks run at
each real commit, as in production (minus the worker's delay).
"""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import close_old_connections, connection
from django.utils import timezone
from rest_framework.test import APIClient

from apps.common.models import IdempotencyRecord
from apps.notifications.models import OutboundMessage
from apps.payments import services
from apps.payments.models import Payment, PaymentEvent, Promotion
from apps.payments.providers import sandbox as sandbox_provider
from apps.payments.tests.helpers import SANDBOX_CALLBACK, boost_url, make_payment, reload
from apps.users.services import issue_tokens

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 20


def run_parallel(make_call: Callable[[int], Callable[[], Any]]) -> list[Any]:
    """Run THREADS calls at once (released together by a barrier); each thread closes its own
    database connection at the end. Returns the results (or exceptions) in thread order."""
    barrier = threading.Barrier(THREADS)
    results: list[Any] = [None] * THREADS

    def worker(index: int) -> None:
        call = make_call(index)
        try:
            barrier.wait(timeout=30)
            results[index] = call()
        except Exception as exc:  # reported by the test
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert not any(thread.is_alive() for thread in threads)
    close_old_connections()
    return results


def bearer(user: Any) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_tokens(user=user).access}")
    return client


def test_parallel_boosts_with_one_key_make_one_payment(seller: Any, ad: Any,
                                                       plans: SimpleNamespace, sandbox: Any
                                                       ) -> None:
    token = issue_tokens(user=seller).access

    def make_call(index: int) -> Callable[[], Any]:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

        def call() -> tuple[int, Any]:
            response = client.post(boost_url(ad.slug), {"plan": "boost-7"}, format="json",
                                   HTTP_IDEMPOTENCY_KEY="one-key-for-all")
            return response.status_code, response.json()

        return call

    results = run_parallel(make_call)

    errors = [r for r in results if isinstance(r, BaseException)]
    assert errors == []
    tally = Counter(status for status, _ in results)
    print(f"\nparallel boosts, one Idempotency-Key: {dict(sorted(tally.items()))}")
    assert set(tally) <= {202, 409}
    assert tally[202] >= 1
    bodies_202 = [body for status, body in results if status == 202]
    assert all(body == bodies_202[0] for body in bodies_202)
    for status, body in results:
        if status == 409:
            assert body == {"type": "client_error", "errors": [{
                "code": "idempotency_key_in_use", "attr": None,
                "detail": "A request with this Idempotency-Key is still running."}]}
    assert Payment.objects.count() == 1
    payment = Payment.objects.get()
    assert bodies_202[0]["payment"]["id"] == str(payment.pk)
    record = IdempotencyRecord.objects.get()
    assert (record.key, record.status_code) == ("one-key-for-all", 202)
    assert record.response_body == bodies_202[0]
    # The sandbox confirmed it once, at the boost's commit.
    assert payment.status == "succeeded"
    assert PaymentEvent.objects.filter(payment=payment, to_status="succeeded").count() == 1
    assert Promotion.objects.count() == 1

    # After the race, a retry gets the stored answer.
    response = bearer(seller).post(boost_url(ad.slug), {"plan": "boost-7"}, format="json",
                                   HTTP_IDEMPOTENCY_KEY="one-key-for-all")
    assert (response.status_code, response.json()) == (202, bodies_202[0])
    assert Payment.objects.count() == 1


def test_parallel_refused_boosts_with_one_key_never_fail(seller: Any, ad: Any,
                                                         plans: SimpleNamespace, sandbox: Any
                                                         ) -> None:
    """A refused request frees its key (nothing is stored for a 4xx): the others racing for
    it get the same 400 or a 409, never a 500."""
    token = issue_tokens(user=seller).access

    def make_call(index: int) -> Callable[[], Any]:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

        def call() -> tuple[int, Any]:
            response = client.post(boost_url(ad.slug), {"plan": "no-such-plan"},
                                   format="json", HTTP_IDEMPOTENCY_KEY="refused-key")
            return response.status_code, response.json()

        return call

    results = run_parallel(make_call)

    assert [r for r in results if isinstance(r, BaseException)] == []
    tally = Counter(status for status, _ in results)
    print(f"\nparallel refused boosts, one Idempotency-Key: {dict(sorted(tally.items()))}")
    assert set(tally) <= {400, 409}
    for status, body in results:
        code = "invalid_choice" if status == 400 else "idempotency_key_in_use"
        assert body["errors"][0]["code"] == code
    assert Payment.objects.count() == 0
    assert IdempotencyRecord.objects.count() == 0


def test_a_boost_with_real_commits_is_confirmed_by_the_sandbox(seller: Any, ad: Any,
                                                                plans: SimpleNamespace,
                                                                sandbox: Any) -> None:
    """The sandbox's confirmation is queued on commit: it must find the payment's reference
    stored, even when it runs at once (eager Celery, no request transaction)."""
    payment = services.start_boost(user=seller, ad=ad, plan_code="boost-7")

    assert reload(payment).status == "succeeded"
    assert Promotion.objects.filter(payment=payment).count() == 1


def signed_callback(payment: Payment, *, succeeded: bool = True) -> tuple[bytes, str]:
    body = sandbox_provider.callback_body(reference=payment.provider_reference,
                                          amount=payment.amount, succeeded=succeeded)
    return body, sandbox_provider.sign(body)


def post_callback(body: bytes, signature: str) -> Callable[[], Any]:
    client = APIClient()

    def call() -> int:
        response = client.post(SANDBOX_CALLBACK, data=body, content_type="application/json",
                               HTTP_X_SANDBOX_SIGNATURE=signature)
        return response.status_code

    return call


def test_parallel_duplicate_callbacks_apply_once(seller: Any, ad: Any, plans: SimpleNamespace,
                                                 sandbox: Any) -> None:
    payment = make_payment(user=seller, ad=ad, plan=plans.boost)
    body, signature = signed_callback(payment)
    before = timezone.now()

    results = run_parallel(lambda index: post_callback(body, signature))

    after = timezone.now()
    tally = Counter(results)
    print(f"\nparallel duplicate callbacks: {dict(tally)}")
    assert tally == {200: THREADS}
    assert reload(payment).status == "succeeded"
    assert PaymentEvent.objects.filter(payment=payment, to_status="succeeded").count() == 1
    assert PaymentEvent.objects.filter(payment=payment).count() == 2  # pending, succeeded
    promotion = Promotion.objects.get()
    assert promotion.payment_id == payment.pk
    assert before <= promotion.starts_at <= after
    assert promotion.ends_at == promotion.starts_at + timedelta(days=7)
    ad = reload(ad)
    assert ad.promotion_tier == 1
    assert ad.promotion_until == promotion.ends_at  # created + duration, once
    assert OutboundMessage.objects.filter(subject__startswith="Receipt:").count() == 1
    print(f"events to succeeded: 1, promotions: {Promotion.objects.count()}, "
          f"until - start: {ad.promotion_until - promotion.starts_at}")


def test_parallel_success_and_failure_callbacks_settle_once(seller: Any, ad: Any,
                                                            plans: SimpleNamespace,
                                                            sandbox: Any) -> None:
    payment = make_payment(user=seller, ad=ad, plan=plans.vip)
    success = signed_callback(payment, succeeded=True)
    failure = signed_callback(payment, succeeded=False)

    results = run_parallel(lambda index: post_callback(*(success if index % 2 else failure)))

    assert Counter(results) == {200: THREADS}
    final = reload(payment).status
    events = list(PaymentEvent.objects.filter(payment=payment).exclude(to_status="pending")
                  .values_list("to_status", flat=True))
    print(f"\nparallel success/failure callbacks: final {final}, events {events}")
    assert events == [final]
    assert Promotion.objects.count() == (1 if final == "succeeded" else 0)
    assert reload(ad).promotion_tier == (3 if final == "succeeded" else 0)


def test_parallel_callbacks_for_different_payments_of_one_ad_all_apply(
        seller: Any, ad: Any, plans: SimpleNamespace, sandbox: Any) -> None:
    """Each payment extends the ad once: 20 boosts of 7 days → until = first start + 140
    days (the ad row is locked while each promotion is applied)."""
    payments = [make_payment(user=seller, ad=ad, plan=plans.boost) for _ in range(THREADS)]
    calls = [signed_callback(p) for p in payments]

    results = run_parallel(lambda index: post_callback(*calls[index]))

    assert Counter(results) == {200: THREADS}
    assert Payment.objects.filter(status="succeeded").count() == THREADS
    promotions = list(Promotion.objects.order_by("starts_at"))
    assert len(promotions) == THREADS
    for earlier, later in itertools.pairwise(promotions):
        assert later.starts_at == earlier.ends_at
    ad = reload(ad)
    assert ad.promotion_until == promotions[0].starts_at + timedelta(days=7 * THREADS)
    print(f"\n20 payments, one ad: until - first start = "
          f"{ad.promotion_until - promotions[0].starts_at}")

