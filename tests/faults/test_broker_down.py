"""The Celery broker is down while ads are posted and messages sent.

A real web process (uvicorn, `child_settings`) whose broker URL names a port where nothing
listens serves a seller posting an ad and a buyer starting a conversation: both answer 201 at
once and the work they need (moderating the ad, the unread-message email) waits in the outbox
table, written in the same transaction. Then a private Redis broker comes up on that port and a
real `celery worker -B` starts (its beat runs only the outbox relay): the relay publishes the
rows, the worker runs them, the ad goes live and the seller gets one email. Finally every row is
published a second time (as after a crash between publishing and stamping it sent): nothing
happens twice."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from apps.ads.models import Ad, AdStatus
from apps.ads.tests.factories import make_location
from apps.categories.tests.factories import make_category
from apps.common.models import AuditEntry, OutboxTask
from apps.notifications.models import OutboundMessage
from apps.users.services import issue_tokens
from tests.faults.data import active_ad
from tests.faults.servers import (
    PrivateRedis,
    celery_worker,
    child_env,
    free_ports,
    uvicorn,
    wait_until,
)

pytestmark = pytest.mark.django_db(transaction=True)


def mails_to(folder: Path, address: str) -> list[str]:
    if not folder.exists():
        return []
    texts = [path.read_text(errors="replace") for path in sorted(folder.iterdir())]
    return [text for text in texts if f"To: {address}" in text]


def test_work_waits_in_the_outbox_and_runs_once_when_the_broker_returns(
    tmp_path: Path, make_user: Any
) -> None:
    broker = PrivateRedis(tmp_path / "broker", port=free_ports()[0])  # not started: down
    mail = tmp_path / "mail"
    env = child_env(
        FAULT_BROKER_URL=broker.url(0), FAULT_MAIL_DIR=str(mail), OUTBOX_RELAY_SECONDS="1"
    )
    seller = make_user(email="seller.outbox@example.com")
    buyer = make_user(email="buyer.outbox@example.com")
    category = make_category("Outbox Phones")
    location = make_location("Outbox Town")
    live_ad = active_ad(seller, category, "Infinix Hot 30 boxed")
    before = OutboxTask.objects.order_by("-id").values_list("id", flat=True).first() or 0
    web = uvicorn("web", env, tmp_path)
    worker = None
    try:
        with httpx.Client(base_url=web.http, timeout=15) as http:

            def as_user(user: Any) -> dict[str, str]:
                return {"Authorization": f"Bearer {issue_tokens(user=user).access}"}

            started = time.monotonic()
            posted = http.post(
                "/api/ads/",
                headers={**as_user(seller), "X-Request-ID": "fault-broker-ad-1"},
                json={
                    "title": "Oppo A78 as new",
                    "description": "Boxed, one month old.",
                    "category": category.pk,
                    "location": location.pk,
                    "price": "21000",
                    "condition": "used",
                },
            )
            talked = http.post(
                "/api/messages/conversations/",
                headers=as_user(buyer),
                json={"ad": str(live_ad.pk), "message": "Is it still there?"},
            )
            elapsed = time.monotonic() - started
            assert posted.status_code == 201, posted.text
            assert talked.status_code == 201, talked.text
            assert elapsed < 5, f"the two requests took {elapsed:.1f} s with the broker down"
            ready = http.get("/readyz/").json()
            assert ready["checks"]["broker"] == "unavailable"

        ad = Ad.objects.get(pk=posted.json()["id"])
        assert ad.status == AdStatus.PENDING  # moderation has not run
        rows = list(OutboxTask.objects.filter(id__gt=before).order_by("id"))
        assert [row.task for row in rows] == [
            "apps.ads.tasks.moderate_ad",
            "apps.chat.tasks.notify_unread",
        ]
        assert all(row.sent_at is None and row.attempts == 1 and row.last_error for row in rows)
        assert rows[0].args == [str(ad.pk)]
        # the request id travels with the work (logged by the worker below)
        assert posted.headers["X-Request-ID"] == "fault-broker-ad-1"
        assert rows[0].headers == {"request_id": "fault-broker-ad-1"}
        # the unread email waits a minute on purpose; let that minute be over
        OutboxTask.objects.filter(pk=rows[1].pk).update(due_at=rows[1].created_at)

        broker.start()
        worker = celery_worker(
            "worker",
            env,
            tmp_path,
            "-B",
            "-s",
            str(tmp_path / "beat-schedule"),
            "--concurrency",
            "2",
        )

        def all_done() -> bool:
            return not OutboxTask.objects.filter(done_at__isnull=True).filter(
                id__gt=before
            ).exists() and bool(mails_to(mail, seller.email))

        wait_until(all_done, "the outbox to drain", timeout=40, interval=0.3)
        ad.refresh_from_db()
        assert ad.status == AdStatus.ACTIVE
        done = list(OutboxTask.objects.filter(id__gt=before).order_by("id"))
        # the email's own delivery task went through the outbox too, published on commit
        assert [row.task for row in done] == [
            "apps.ads.tasks.moderate_ad",
            "apps.chat.tasks.notify_unread",
            "apps.notifications.tasks.deliver_message",
        ]

        # a second publication of every row (lost "sent" stamps): skipped by the worker
        OutboxTask.objects.filter(id__gt=before).update(sent_at=None)
        wait_until(
            lambda: worker.text().count("already done: skipped") >= len(done),
            "the duplicates to be skipped",
            timeout=30,
            interval=0.3,
        )
        assert not OutboxTask.objects.filter(id__gt=before, sent_at__isnull=True).exists()
        assert "[fault-broker-ad-1] task apps.ads.tasks.moderate_ad" in worker.text()

        # exactly once in effect
        approvals = AuditEntry.objects.filter(action="ads.status.active", target_id=str(ad.pk))
        assert approvals.count() == 1
        emails = OutboundMessage.objects.filter(to=seller.email)
        assert emails.count() == 1 and emails.get().status == "sent"
        assert len(mails_to(mail, seller.email)) == 1
        assert "Infinix Hot 30 boxed" in mails_to(mail, seller.email)[0]
    except BaseException:
        for child in (web, worker):
            if child is not None:
                print(f"--- {child.name} ---\n{child.text()[-6000:]}")
        raise
    finally:
        if worker is not None:
            worker.stop()
        web.stop()
        broker.kill()
