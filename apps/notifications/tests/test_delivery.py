"""Queued email and SMS: a row first, delivery after commit, exactly once; the SMS senders."""

from __future__ import annotations

import base64
import contextlib
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
import respx
from django.core import mail
from django.db import transaction
from django.utils import timezone

from apps.notifications import services
from apps.notifications.models import REDACTED, Channel, DeliveryStatus, OutboundMessage
from apps.notifications.sms.africastalking import AfricasTalkingSmsSender
from apps.notifications.sms.base import SmsDeliveryError, get_sms_sender
from apps.notifications.sms.twilio import TwilioSmsSender
from apps.notifications.tasks import MAX_RETRIES, deliver_message, redeliver_pending_messages
from conftest import PASSWORD, code_in

pytestmark = pytest.mark.django_db

PHONE = "+254712345678"


def sms_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*")) if folder.exists() else []


# --- queue, commit, deliver -------------------------------------------------------------------


def test_email_is_sent_only_after_commit(django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():
            message = services.queue_email(to="amani@example.com", subject="Hello",
                                           body="Karibu sokoni")
            assert OutboundMessage.objects.get(pk=message.pk).status == DeliveryStatus.PENDING
        assert mail.outbox == []  # committed, callbacks not yet run

    assert len(callbacks) == 1
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["amani@example.com"]
    assert sent.subject == "Hello"
    assert sent.body == "Karibu sokoni"
    message.refresh_from_db()
    assert message.status == DeliveryStatus.SENT
    assert message.sent_at is not None
    assert message.attempts == 1
    assert message.body == "Karibu sokoni"  # not sensitive: kept


def test_sms_is_written_only_after_commit(django_capture_on_commit_callbacks: Any,
                                          sms_folder: Path) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            message = services.queue_sms(to=PHONE, body="Your verification code is 482913")
        assert sms_files(sms_folder) == []

    files = sms_files(sms_folder)
    assert len(files) == 1
    assert files[0].read_bytes() == f"To: {PHONE}\n\nYour verification code is 482913\n".encode()
    message.refresh_from_db()
    assert message.channel == Channel.SMS
    assert message.status == DeliveryStatus.SENT


def test_rolled_back_transaction_sends_nothing(django_capture_on_commit_callbacks: Any,
                                               sms_folder: Path) -> None:
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        contextlib.suppress(RuntimeError),
        transaction.atomic(),
    ):
        services.queue_email(to="amani@example.com", subject="Hi", body="Hi")
        services.queue_sms(to=PHONE, body="Hi")
        raise RuntimeError("the request failed")

    assert callbacks == []
    assert mail.outbox == []
    assert sms_files(sms_folder) == []
    assert not OutboundMessage.objects.exists()


def test_sms_file_format_is_exact_utf8_one_file_per_sms(
    django_capture_on_commit_callbacks: Any, sms_folder: Path
) -> None:
    texts = ["Karibu! Tangazo lako “Toyota Vitz” limeidhinishwa ✓", "Second message\non two lines"]

    with django_capture_on_commit_callbacks(execute=True):
        for text in texts:
            services.queue_sms(to=PHONE, body=text)

    files = sms_files(sms_folder)
    assert [f.suffix for f in files] == [".txt", ".txt"]  # no temporary file left behind
    contents = sorted(f.read_bytes() for f in files)
    assert contents == sorted(f"To: {PHONE}\n\n{text}\n".encode() for text in texts)
    for content in contents:
        assert content.decode("utf-8").startswith(f"To: {PHONE}\n\n")


def test_deliver_twice_sends_once(sms_folder: Path) -> None:
    email = OutboundMessage.objects.create(channel=Channel.EMAIL, to="a@example.com",
                                           subject="S", body="B")
    sms = OutboundMessage.objects.create(channel=Channel.SMS, to=PHONE, body="B")

    assert services.deliver(message_id=email.pk) is True
    assert services.deliver(message_id=email.pk) is False
    assert services.deliver(message_id=sms.pk) is True
    assert services.deliver(message_id=sms.pk) is False

    assert len(mail.outbox) == 1
    assert len(sms_files(sms_folder)) == 1
    email.refresh_from_db()
    assert email.attempts == 1


def test_task_run_twice_sends_once() -> None:
    message = OutboundMessage.objects.create(channel=Channel.EMAIL, to="a@example.com",
                                             subject="S", body="B")

    first = deliver_message.apply(args=(str(message.pk),)).get()
    second = deliver_message.apply(args=(str(message.pk),)).get()

    assert (first, second) == (True, False)
    assert len(mail.outbox) == 1


def test_unknown_message_id_is_a_no_op() -> None:
    assert deliver_message.apply(args=("987654321",)).get() is False
    assert mail.outbox == []


def test_sensitive_bodies_are_redacted_after_sending(django_capture_on_commit_callbacks: Any,
                                                     sms_folder: Path) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        email = services.queue_email(to="a@example.com", subject="Code",
                                     body="Your code is 123456", sensitive=True)
        sms = services.queue_sms(to=PHONE, body="Your code is 654321", sensitive=True)

    assert mail.outbox[0].body == "Your code is 123456"
    assert "654321" in sms_files(sms_folder)[0].read_text(encoding="utf-8")
    for message in (email, sms):
        message.refresh_from_db()
        assert message.status == DeliveryStatus.SENT
        assert message.body == REDACTED
    assert not OutboundMessage.objects.filter(body__contains="123456").exists()
    assert not OutboundMessage.objects.filter(body__contains="654321").exists()


def test_api_flow_delivers_after_the_request_and_redacts_the_code(api: Any,
                                                                  make_user: Any) -> None:
    user = make_user(email="wanjiru@example.com")

    response = api.post("/api/users/password/reset/", {"email": user.email}, format="json")

    assert response.status_code == 200
    assert len(mail.outbox) == 1
    code = code_in(str(mail.outbox[0].body))
    message = OutboundMessage.objects.get(to=user.email)
    assert message.status == DeliveryStatus.SENT
    assert message.sensitive is True
    assert code not in message.body
    assert PASSWORD not in mail.outbox[0].body


# --- the Celery task: retries for provider errors only ----------------------------------------


class FakeSender:
    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls: list[tuple[str, str]] = []
        self.on_call: Callable[[], None] | None = None

    def send(self, *, to: str, body: str) -> str:
        self.calls.append((to, body))
        if self.on_call:
            self.on_call()
        if self.errors:
            raise self.errors.pop(0)
        return "fake-id"


@pytest.fixture
def eager_retries(settings: Any) -> None:
    """Eager tasks run their retries at once (no countdown) instead of raising Retry."""
    from marketplace.celery import app

    settings.CELERY_TASK_EAGER_PROPAGATES = False
    assert app.conf.task_eager_propagates is False


@pytest.fixture
def fake_sender(monkeypatch: pytest.MonkeyPatch) -> Callable[..., FakeSender]:
    def install(*errors: Exception) -> FakeSender:
        sender = FakeSender(*errors)
        monkeypatch.setattr(services, "get_sms_sender", lambda: sender)
        return sender

    return install


def test_task_marks_failed_for_good_on_a_non_retryable_error(
    fake_sender: Callable[..., FakeSender],
) -> None:
    sender = fake_sender(ValueError("twilio refused the message: 400"))
    message = OutboundMessage.objects.create(channel=Channel.SMS, to=PHONE, body="Hi")

    result = deliver_message.apply(args=(str(message.pk),))

    assert result.get() is False
    assert len(sender.calls) == 1  # not retried
    message.refresh_from_db()
    assert message.status == DeliveryStatus.FAILED
    assert "ValueError" in message.last_error
    assert message.sent_at is None
    # A failed message is not sent later by a repeated task either.
    assert deliver_message.apply(args=(str(message.pk),)).get() is False
    assert len(sender.calls) == 1


def test_task_retries_on_a_provider_error_then_sends(
    fake_sender: Callable[..., FakeSender], eager_retries: None
) -> None:
    sender = fake_sender(SmsDeliveryError("twilio answered 503"))
    message = OutboundMessage.objects.create(channel=Channel.SMS, to=PHONE, body="Hi")
    states: list[tuple[str, str]] = []
    sender.on_call = lambda: states.append(
        OutboundMessage.objects.values_list("status", "last_error").get(pk=message.pk)
    )

    result = deliver_message.apply(args=(str(message.pk),))

    assert result.get() is True
    assert len(sender.calls) == 2
    # The second try found the row still pending, with the first error recorded.
    assert states[1][0] == DeliveryStatus.PENDING
    assert "SmsDeliveryError" in states[1][1]
    message.refresh_from_db()
    assert message.status == DeliveryStatus.SENT


def test_task_gives_up_after_max_retries(fake_sender: Callable[..., FakeSender],
                                        eager_retries: None) -> None:
    errors = [SmsDeliveryError("africastalking answered 500") for _ in range(MAX_RETRIES + 5)]
    sender = fake_sender(*errors)
    message = OutboundMessage.objects.create(channel=Channel.SMS, to=PHONE, body="Hi")

    with pytest.raises(SmsDeliveryError):
        deliver_message.apply(args=(str(message.pk),)).get()

    assert len(sender.calls) == MAX_RETRIES + 1
    message.refresh_from_db()
    assert message.status == DeliveryStatus.FAILED
    assert "SmsDeliveryError" in message.last_error


def test_task_retry_policy() -> None:
    task: Any = deliver_message
    assert SmsDeliveryError in task.autoretry_for
    assert ValueError not in task.autoretry_for
    assert task.max_retries == MAX_RETRIES
    assert task.retry_backoff
    assert task.acks_late is True


def test_redeliver_pending_messages_redrives_old_pending_rows() -> None:
    old_pending = OutboundMessage.objects.create(channel=Channel.EMAIL, to="old@example.com",
                                                 subject="S", body="lost task")
    OutboundMessage.objects.create(channel=Channel.EMAIL, to="new@example.com",
                                   subject="S", body="task on its way")
    old_sent = OutboundMessage.objects.create(channel=Channel.EMAIL, to="done@example.com",
                                              subject="S", body="done",
                                              status=DeliveryStatus.SENT)
    old_failed = OutboundMessage.objects.create(channel=Channel.EMAIL, to="bad@example.com",
                                                subject="S", body="bad",
                                                status=DeliveryStatus.FAILED)
    long_ago = timezone.now() - timedelta(minutes=10)
    OutboundMessage.objects.filter(pk__in=[old_pending.pk, old_sent.pk, old_failed.pk]).update(
        created_at=long_ago
    )

    assert redeliver_pending_messages.apply().get() == 1

    assert [m.to for m in mail.outbox] == [["old@example.com"]]
    statuses = dict(OutboundMessage.objects.values_list("to", "status"))
    assert statuses == {
        "old@example.com": DeliveryStatus.SENT,
        "new@example.com": DeliveryStatus.PENDING,
        "done@example.com": DeliveryStatus.SENT,
        "bad@example.com": DeliveryStatus.FAILED,
    }
    assert redeliver_pending_messages.apply().get() == 0


def test_sms_backend_setting_picks_the_sender(settings: Any) -> None:
    get_sms_sender.cache_clear()
    try:
        settings.SMS_BACKEND = "apps.notifications.sms.twilio.TwilioSmsSender"
        assert isinstance(get_sms_sender(), TwilioSmsSender)
    finally:
        get_sms_sender.cache_clear()


# --- Twilio -----------------------------------------------------------------------------------

TWILIO_URL = "https://api.twilio.com/2010-04-01/Accounts/AC0123456789/Messages.json"


@pytest.fixture
def twilio(settings: Any) -> Iterator[respx.MockRouter]:
    settings.TWILIO_ACCOUNT_SID = "AC0123456789"
    settings.TWILIO_AUTH_TOKEN = "twilio-secret"
    settings.TWILIO_FROM_NUMBER = "+15005550006"
    with respx.mock(assert_all_mocked=True) as router:
        yield router


def form(request: httpx.Request) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(request.content.decode()).items()}


def test_twilio_success_returns_the_sid(twilio: respx.MockRouter) -> None:
    route = twilio.post(TWILIO_URL).mock(
        return_value=httpx.Response(201, json={"sid": "SM42", "status": "queued"})
    )

    message_id = TwilioSmsSender().send(to=PHONE, body="Your code is 482913 ✓")

    assert message_id == "SM42"
    assert route.call_count == 1
    request = route.calls.last.request
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert form(request) == {"To": PHONE, "From": "+15005550006",
                             "Body": "Your code is 482913 ✓"}
    expected = base64.b64encode(b"AC0123456789:twilio-secret").decode()
    assert request.headers["Authorization"] == f"Basic {expected}"


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_twilio_server_error_or_rate_limit_is_retryable(twilio: respx.MockRouter,
                                                        status: int) -> None:
    twilio.post(TWILIO_URL).mock(return_value=httpx.Response(status, json={"code": 1}))

    with pytest.raises(SmsDeliveryError):
        TwilioSmsSender().send(to=PHONE, body="Hi")


@pytest.mark.parametrize("status", [400, 401, 404])
def test_twilio_client_error_is_final(twilio: respx.MockRouter, status: int) -> None:
    twilio.post(TWILIO_URL).mock(
        return_value=httpx.Response(status, json={"code": 21211, "message": "Invalid 'To'"})
    )

    with pytest.raises(ValueError, match=str(status)):
        TwilioSmsSender().send(to="+254000", body="Hi")


def test_twilio_unreachable_is_retryable(twilio: respx.MockRouter) -> None:
    twilio.post(TWILIO_URL).mock(side_effect=httpx.ConnectTimeout("timed out"))

    with pytest.raises(SmsDeliveryError):
        TwilioSmsSender().send(to=PHONE, body="Hi")


def test_twilio_5xx_through_the_task_is_retried_then_sent(settings: Any,
                                                          twilio: respx.MockRouter,
                                                          eager_retries: None) -> None:
    settings.SMS_BACKEND = "apps.notifications.sms.twilio.TwilioSmsSender"
    get_sms_sender.cache_clear()
    try:
        route = twilio.post(TWILIO_URL).mock(side_effect=[
            httpx.Response(503), httpx.Response(201, json={"sid": "SM7"})
        ])
        message = OutboundMessage.objects.create(channel=Channel.SMS, to=PHONE, body="Hi")

        assert deliver_message.apply(args=(str(message.pk),)).get() is True
    finally:
        get_sms_sender.cache_clear()

    assert route.call_count == 2
    message.refresh_from_db()
    assert message.status == DeliveryStatus.SENT


# --- Africa's Talking -------------------------------------------------------------------------

AT_URL = "https://api.sandbox.africastalking.com/version1/messaging"


@pytest.fixture
def africastalking(settings: Any) -> Iterator[respx.MockRouter]:
    settings.AFRICASTALKING_USERNAME = "sandbox"
    settings.AFRICASTALKING_API_KEY = "at-secret-key"
    settings.AFRICASTALKING_SENDER_ID = "SOKO"
    settings.AFRICASTALKING_BASE_URL = "https://api.sandbox.africastalking.com/version1"
    with respx.mock(assert_all_mocked=True) as router:
        yield router


def at_reply(status: str = "Success", message_id: str = "ATXid_1") -> dict[str, Any]:
    return {"SMSMessageData": {"Message": "Sent to 1/1 Total Cost: KES 0.8000", "Recipients": [
        {"statusCode": 101, "number": PHONE, "status": status, "cost": "KES 0.8000",
         "messageId": message_id}
    ]}}


def test_africastalking_success_returns_the_message_id(africastalking: respx.MockRouter) -> None:
    route = africastalking.post(AT_URL).mock(return_value=httpx.Response(201, json=at_reply()))

    message_id = AfricasTalkingSmsSender().send(to=PHONE, body="Habari ✓")

    assert message_id == "ATXid_1"
    request = route.calls.last.request
    assert form(request) == {"username": "sandbox", "to": PHONE, "message": "Habari ✓",
                             "from": "SOKO"}
    assert request.headers["apiKey"] == "at-secret-key"
    assert request.headers["Accept"] == "application/json"
    assert "Authorization" not in request.headers


def test_africastalking_without_sender_id_sends_no_from(settings: Any,
                                                        africastalking: respx.MockRouter) -> None:
    settings.AFRICASTALKING_SENDER_ID = ""
    route = africastalking.post(AT_URL).mock(return_value=httpx.Response(201, json=at_reply()))

    AfricasTalkingSmsSender().send(to=PHONE, body="Hi")

    assert "from" not in form(route.calls.last.request)


@pytest.mark.parametrize("status", [500, 503, 429])
def test_africastalking_server_error_or_rate_limit_is_retryable(
    africastalking: respx.MockRouter, status: int
) -> None:
    africastalking.post(AT_URL).mock(return_value=httpx.Response(status, text="busy"))

    with pytest.raises(SmsDeliveryError):
        AfricasTalkingSmsSender().send(to=PHONE, body="Hi")


@pytest.mark.parametrize("status", [400, 401])
def test_africastalking_client_error_is_final(africastalking: respx.MockRouter,
                                              status: int) -> None:
    africastalking.post(AT_URL).mock(return_value=httpx.Response(status, text="bad"))

    with pytest.raises(ValueError, match=str(status)):
        AfricasTalkingSmsSender().send(to=PHONE, body="Hi")


def test_africastalking_unreachable_is_retryable(africastalking: respx.MockRouter) -> None:
    africastalking.post(AT_URL).mock(side_effect=httpx.ConnectError("refused"))

    with pytest.raises(SmsDeliveryError):
        AfricasTalkingSmsSender().send(to=PHONE, body="Hi")


def test_africastalking_recipient_not_accepted_raises(africastalking: respx.MockRouter) -> None:
    africastalking.post(AT_URL).mock(
        return_value=httpx.Response(201, json={"SMSMessageData": {"Recipients": []}})
    )

    with pytest.raises(SmsDeliveryError):
        AfricasTalkingSmsSender().send(to=PHONE, body="Hi")
