"""Delivery to real channels: a local JSON webhook receiver and a local SMTP server (aiosmtpd)
through apprise; unreachable or failing channels are retried with backoff, recorded as
`failed`, and never raise."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message

from prodready.monitor.alerting import Alerter
from prodready.monitor.config import Alerting
from prodready.monitor.notify import Deliverer
from prodready.monitor.scheduler import client_session
from prodready.monitor.store import Store
from tests.monitor.conftest import closed_port
from tests.monitor.receivers import WebhookReceiver


class Inbox(Message):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[object] = []

    def handle_message(self, message: object) -> None:
        self.messages.append(message)


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=closed_port())
    controller.start()
    try:
        yield inbox, controller.port
    finally:
        controller.stop()


def deliver_until_settled(store: Store, alerting: Alerting, limit_s: float = 20) -> None:
    """Runs the deliverer until no notification is pending (bounded)."""

    async def run() -> None:
        async with client_session() as session:
            deliverer = Deliverer(store, alerting, session)
            deadline = time.monotonic() + limit_s
            while store.notifications("state = 'pending'") and time.monotonic() < deadline:
                await deliverer.deliver_due()
                await asyncio.sleep(0.05)

    asyncio.run(run())


def queue_outage(store: Store, alerting: Alerting, *names: str) -> None:
    now = time.time()
    for name in names:
        store.open_incident(name, now - 60, "HTTP 503")
    Alerter(store, alerting).tick(now)


def test_webhook_gets_the_grouped_alert_as_json(tmp_path: Path, webhook: WebhookReceiver) -> None:
    alerting = Alerting(webhooks=(webhook.url,))
    store = Store(tmp_path / "m.db")
    queue_outage(store, alerting, "api", "web")
    deliver_until_settled(store, alerting)
    (payload,) = webhook.received
    assert payload["kind"] == "firing"
    assert payload["title"] == "2 endpoints down: api, web"
    assert [d["endpoint"] for d in payload["down"]] == ["api", "web"]
    assert "DOWN api: HTTP 503" in payload["body"]
    assert [n.state for n in store.notifications()] == ["sent"]


def test_a_failing_webhook_is_retried_then_sent(
    store_at: Path | str, webhook: WebhookReceiver
) -> None:
    alerting = Alerting(webhooks=(webhook.url,), retries=5, retry_backoff=0.1)
    store = Store(store_at)
    webhook.fail_with = 500
    queue_outage(store, alerting, "api")

    async def fail_twice_then_heal() -> None:
        async with client_session() as session:
            deliverer = Deliverer(store, alerting, session)
            while webhook.attempts < 2:
                await deliverer.deliver_due()
                await asyncio.sleep(0.02)
            webhook.fail_with = None

    asyncio.run(fail_twice_then_heal())
    deliver_until_settled(store, alerting)
    (notification,) = store.notifications()
    assert (notification.state, notification.attempts) == ("sent", 3)
    assert notification.last_error == "webhook answered HTTP 500"
    assert len(webhook.received) == 1


def test_an_unreachable_channel_is_recorded_as_failed(tmp_path: Path) -> None:
    alerting = Alerting(
        webhooks=(f"http://127.0.0.1:{closed_port()}/hook",),
        apprise=(f"mailto://127.0.0.1:{closed_port()}?from=mon@example.com&to=ops@example.com",),
        retries=3,
        retry_backoff=0.1,
    )
    store = Store(tmp_path / "m.db")
    queue_outage(store, alerting, "api")
    deliver_until_settled(store, alerting)
    notifications = store.notifications()
    assert [(n.state, n.attempts) for n in notifications] == [("failed", 3), ("failed", 3)]
    assert all(n.last_error for n in notifications)


def test_email_through_apprise_to_a_real_smtp_server(
    tmp_path: Path, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    alerting = Alerting(
        apprise=(f"mailto://127.0.0.1:{port}?from=monitor@example.com&to=ops@example.com",)
    )
    store = Store(tmp_path / "m.db")
    queue_outage(store, alerting, "checkout")
    deliver_until_settled(store, alerting)
    assert [n.state for n in store.notifications()] == ["sent"]
    (message,) = inbox.messages
    assert message["Subject"] == "1 endpoint down: checkout"  # type: ignore[index]
    assert message["To"] == "ops@example.com"  # type: ignore[index]
    texts = [
        part.get_payload(decode=True).decode()
        for part in message.walk()  # type: ignore[attr-defined]
        if part.get_content_type() == "text/plain"
    ]
    assert any("DOWN checkout: HTTP 503" in text for text in texts)


def test_a_notification_queued_before_a_stop_is_sent_after_the_restart(
    tmp_path: Path, webhook: WebhookReceiver
) -> None:
    alerting = Alerting(webhooks=(webhook.url,))
    first = Store(tmp_path / "m.db")
    queue_outage(first, alerting, "api")  # queued, and the monitor stops before sending it
    first.close()
    second = Store(tmp_path / "m.db")
    deliver_until_settled(second, alerting)
    assert [p["title"] for p in webhook.received] == ["1 endpoint down: api"]
    Alerter(second, alerting).tick(time.time())  # nothing is queued a second time
    deliver_until_settled(second, alerting)
    assert len(webhook.received) == 1
